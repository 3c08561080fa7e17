/**
 * @module cluster/worker-flags
 * The node flags a cluster worker is forked with: the primary's own, with the young generation
 * sized for serving requests. `npm start` runs Node with `--max-semi-space-size=2` to keep an
 * idle embedded node small (README, "Memory"); a worker answering thousands of /flags requests a
 * second fills 2 MB every few dozen milliseconds and then pauses for a scavenge, about 30 times a
 * second, ten times the pauses of V8's default 16 MB (BENCHMARKS.md, "Latency, measured fairly").
 * Those pauses were the part of Vexil's latency tail the baseline does not have.
 */

const SEMI_SPACE_FLAG = /^--max[-_]semi[-_]space[-_]size(=|$)/;

/**
 * `execArgv` without any `--max-semi-space-size`, plus `--max-semi-space-size=<semiSpaceMb>`.
 * A flag given as two arguments (`--max-semi-space-size 2`) is removed with its value.
 */
export function workerExecArgv(execArgv: readonly string[], semiSpaceMb: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const m = SEMI_SPACE_FLAG.exec(arg);
    if (m === null) {
      out.push(arg);
      continue;
    }
    if (m[1] === '' && i + 1 < execArgv.length && /^\d+$/.test(execArgv[i + 1]!)) i++;
  }
  out.push(`--max-semi-space-size=${semiSpaceMb}`);
  return out;
}
