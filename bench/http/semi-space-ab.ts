/**
 * @module bench/http/semi-space-ab
 * `node dist/bench/http/semi-space-ab.js [ROUNDS]`, after a `npm run bench:http` run (it reuses
 * that run's database `vexil_bench_http`, its 50-flag project and request bodies): Vexil's
 * workers with a 2 MB young generation (npm start's flag, as before VEXIL_WORKER_SEMI_SPACE_MB)
 * and with 16 MB, in the same run. Two Vexil nodes (2 workers each, started as `npm start` does)
 * and the node:http baseline run side by side; each round measures the 16 MB node flat out for
 * 2 s, then paces the 2 MB node, the 16 MB node and the baseline at 70 % of that maximum for 4 s
 * each (the order alternates), so the machine's drift hits all three alike. Per round: p99 of
 * each, and each node's p99 ÷ the baseline's; the medians over rounds are the result. With
 * BENCH_TAIL_DIR set, both nodes load the tail probe (GC pauses per request; read them with
 * `node dist/bench/http/tail-summary.js DIR vexil-2mb` and `vexil-16mb`).
 * The last line is one JSON object.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './measured.ts';
import { databaseUrl } from './pg.ts';
import { freePort, spawnNode, stop, waitForHttp, type Spawned } from './proc.ts';
import { runWrk, writeScript, type WrkResult } from './wrk.ts';

const ROUNDS = Number(process.argv[2] ?? 5);
const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench/http
const DIST = resolve(HERE, '..', '..');
const RUN = join(resolve(DIST, '..'), '.bench-tmp', 'http-run');
const OUT = join(resolve(DIST, '..'), '.bench-tmp', 'semi-space-ab');
const say = (line: string) => process.stderr.write(`${line}\n`);

async function startNode(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ proc: Spawned; url: string }> {
  const port = await freePort();
  const proc = spawnNode(args, { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, logFile: join(OUT, `${name}.log`) });
  // Vexil answers readiness once one worker listens, the baseline answers any GET; give the second worker time.
  await waitForHttp(`http://127.0.0.1:${port}/_readiness`, { timeoutMs: 60_000, proc });
  await new Promise((r) => setTimeout(r, 3000));
  return { proc, url: `http://127.0.0.1:${port}/flags?v=2` };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const probe = process.env.BENCH_TAIL_DIR ? ['--import', join(DIST, 'bench', 'http', 'tail-probe.js')] : [];
  const vexilEnv = (mb: number): NodeJS.ProcessEnv => ({
    DATABASE_URL: databaseUrl('vexil_bench_http'),
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    VEXIL_WORKERS: '2',
    VEXIL_PERSON_CACHE_SIZE: '0',
    VEXIL_WORKER_SEMI_SPACE_MB: String(mb),
  });
  // As npm start runs it: --max-semi-space-size=2 on the primary; the workers get VEXIL_WORKER_SEMI_SPACE_MB.
  const main = join(DIST, 'src', 'main.js');
  const two = await startNode('vexil-2mb', ['--max-semi-space-size=2', ...probe, main], vexilEnv(2));
  const sixteen = await startNode('vexil-16mb', ['--max-semi-space-size=2', ...probe, main], vexilEnv(16));
  const base = await startNode('baseline', [join(DIST, 'bench', 'http', 'cluster.js'), 'baseline', '2'], {});
  const script = (rate: number) => {
    const file = join(OUT, `paced-${rate}.lua`);
    writeScript(file, { method: 'POST', path: '/flags?v=2', linesFile: join(RUN, 'props-bodies.jsonl'), headers: { 'Content-Type': 'application/json' }, threads: 2, rate });
    return file;
  };
  const timeline: { name: string; startMs: number; endMs: number }[] = [];
  const run = async (name: string, url: string, rate: number, durationS: number, connections: number): Promise<WrkResult> => {
    const startMs = Date.now();
    const r = await runWrk({ url, script: script(rate), threads: 2, connections, durationS });
    timeline.push({ name, startMs, endMs: Date.now() });
    say(`  ${name}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${rate ? `, ${r.late} late` : ''}`);
    return r;
  };
  // Warm-up of both nodes.
  await run('warm-2mb', two.url, 0, 3, 64);
  await run('warm-16mb', sixteen.url, 0, 3, 64);
  const rounds: { rate: number; p2: number; p16: number; pb: number; a2: number; a16: number }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const max = await run(`max-16mb-${r}`, sixteen.url, 0, 2, 64);
    const rate = Math.round(max.rps * 0.7);
    const order = r % 2 ? (['2mb', '16mb'] as const) : (['16mb', '2mb'] as const);
    const got: Record<string, WrkResult> = {};
    for (const which of order) got[which] = await run(`vexil-${which}-${r}`, which === '2mb' ? two.url : sixteen.url, rate, 4, 128);
    const b = await run(`baseline-${r}`, base.url, rate, 4, 128);
    rounds.push({ rate, p2: got['2mb']!.p99Ms, p16: got['16mb']!.p99Ms, pb: b.p99Ms, a2: got['2mb']!.rps, a16: got['16mb']!.rps });
  }
  for (const p of [two, sixteen, base]) await stop(p.proc, 10_000);
  if (process.env.BENCH_TAIL_DIR) writeFileSync(join(process.env.BENCH_TAIL_DIR, 'timeline.json'), JSON.stringify(timeline));
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const result = {
    bench: 'semi-space-ab',
    rounds: ROUNDS,
    rate_rounds: rounds.map((r) => r.rate),
    achieved_2mb_rounds: rounds.map((r) => Math.round(r.a2)),
    achieved_16mb_rounds: rounds.map((r) => Math.round(r.a16)),
    p99_ms_2mb_rounds: rounds.map((r) => round(r.p2)),
    p99_ms_16mb_rounds: rounds.map((r) => round(r.p16)),
    p99_ms_baseline_rounds: rounds.map((r) => round(r.pb)),
    p99_ratio_to_baseline_2mb: round(median(rounds.map((r) => r.p2 / r.pb))),
    p99_ratio_to_baseline_16mb: round(median(rounds.map((r) => r.p16 / r.pb))),
    p99_16mb_over_2mb: round(median(rounds.map((r) => r.p16 / r.p2))),
    load_avg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
