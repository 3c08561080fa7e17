/**
 * @module bench/http/tail-summary
 * `node dist/bench/http/tail-summary.js DIR [SLICE_PREFIX]`: reads the tail probe's files
 * (bench/http/tail-probe.ts) and the benchmark's timeline.json from DIR, and for every measured
 * slice whose name starts with SLICE_PREFIX (default `vexil-70pct`) prints the server-side
 * latency over time (per second: requests, p99, max, longest GC pause, longest event-loop delay,
 * longest outbox wait), then what the slowest 1 % of requests had in common: a GC pause, a
 * delayed event loop or a long outbox wait in their 100 ms window, and how much of each one's
 * time came after its answer was computed (writeHead → finish).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TailWindow } from './tail-probe.ts';

const [dir, prefix = 'vexil-70pct'] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: tail-summary DIR [SLICE_PREFIX]\n');
  process.exit(2);
}
const timeline = JSON.parse(readFileSync(join(dir, 'timeline.json'), 'utf8')) as { name: string; startMs: number; endMs: number }[];
const workers = readdirSync(dir)
  .filter((f) => /^tail-\d+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number; windows: TailWindow[] });

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!);
const ms = (us: number) => (us / 1000).toFixed(2);

for (const slice of timeline.filter((s) => s.name.startsWith(prefix))) {
  const inSlice = workers.flatMap((w) => w.windows.filter((x) => x.t >= slice.startMs && x.t < slice.endMs).map((x) => ({ ...x, pid: w.pid })));
  const all = inSlice.flatMap((w) => w.latUs).sort((a, b) => a - b);
  const p99 = pct(all, 99);
  console.log(`\n## ${slice.name}: ${all.length} requests over ${workers.length} worker(s); server-side p50 ${ms(pct(all, 50))} ms, p99 ${ms(p99)} ms, max ${ms(all.at(-1) ?? 0)} ms`);
  console.log('| second | requests | p99 ms | max ms | longest GC ms (kind) | GC ms total | longest loop delay ms | longest outbox wait ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (let s = slice.startMs; s < slice.endMs; s += 1000) {
    const ws = inSlice.filter((w) => w.t >= s && w.t < s + 1000);
    const lat = ws.flatMap((w) => w.latUs).sort((a, b) => a - b);
    const gc = ws.reduce((m, w) => (w.gcMaxMs > m.gcMaxMs ? w : m), { gcMaxMs: 0, gcMaxKind: '' } as Pick<TailWindow, 'gcMaxMs' | 'gcMaxKind'>);
    const max = (f: (w: TailWindow) => number) => ws.reduce((m, w) => Math.max(m, f(w)), 0);
    console.log(`| ${((s - slice.startMs) / 1000).toFixed(0)} | ${lat.length} | ${ms(pct(lat, 99))} | ${ms(lat.at(-1) ?? 0)} | ${gc.gcMaxMs.toFixed(2)} (${gc.gcMaxKind || '-'}) | ${ws.reduce((a, w) => a + w.gcMs, 0).toFixed(1)} | ${max((w) => w.eldMaxMs).toFixed(1)} | ${ms(max((w) => w.outboxMaxUs))} |`);
  }
  // The slowest 1 %: which 100 ms windows (of their worker) they finished in, and what those windows held.
  let slow = 0;
  let withGc = 0;
  let withDelay = 0;
  let withOutbox = 0;
  let none = 0;
  for (const w of inSlice) {
    const n = w.latUs.filter((l) => l >= p99).length;
    if (n === 0) continue;
    slow += n;
    const gc = w.gcMaxMs >= 1;
    const delay = w.eldMaxMs >= 5;
    const outbox = w.outboxMaxUs >= p99 / 2;
    if (gc) withGc += n;
    if (delay) withDelay += n;
    if (outbox) withOutbox += n;
    if (!gc && !delay && !outbox) none += n;
  }
  // Per request: how much of each slow request's time came after its answer was computed.
  const slowSplit = inSlice.flatMap((w) => w.split.filter(([lat]) => lat >= p99));
  const after = slowSplit.map(([lat, post]) => post / Math.max(1, lat)).sort((a, b) => a - b);
  const writing = slowSplit.map(([lat, , write]) => write / Math.max(1, lat)).sort((a, b) => a - b);
  const share = (x: number) => `${((100 * x) / Math.max(1, slow)).toFixed(0)} %`;
  const gcAll = inSlice.reduce((a, w) => a + w.gcMs, 0);
  const spanS = (slice.endMs - slice.startMs) / 1000;
  console.log(`slowest 1 % (${slow} requests ≥ ${ms(p99)} ms) finished in windows with: a GC pause ≥ 1 ms ${share(withGc)}, ` +
    `event-loop delay ≥ 5 ms ${share(withDelay)}, an outbox wait ≥ p99/2 ${share(withOutbox)}, none of these ${share(none)}; ` +
    `GC took ${gcAll.toFixed(0)} ms over ${spanS.toFixed(0)} s × ${workers.length} worker(s); ` +
    `share of a slow request's time after writeHead (outbox + write): median ${(100 * pct(after, 50)).toFixed(0)} %, p10 ${(100 * pct(after, 10)).toFixed(0)} %, p90 ${(100 * pct(after, 90)).toFixed(0)} %; ` +
    `of it after end (the write, end → finish): median ${(100 * pct(writing, 50)).toFixed(0)} %`);
}
