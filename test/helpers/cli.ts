/**
 * @module test/helpers/cli
 * Runs the real `vexil` binary (bin/vexil.js) as a child process. Asynchronous on purpose: the
 * server under test usually runs in the test's own process and must keep answering.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/vexil.js', import.meta.url));

/** What a run of the binary printed and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vexil ...args` with `env` added to a clean environment (no VEXIL_URL/VEXIL_KEY leaks in). */
export function runVexil(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.VEXIL_URL;
  delete base.VEXIL_KEY;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
