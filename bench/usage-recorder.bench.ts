/**
 * @module bench/usage-recorder.bench
 * `node --import tsx bench/usage-recorder.bench.ts`: what counting usage adds to one /flags
 * answer: UsageRecorder.recordEvaluations over 50 shared, frozen results (as the engine returns
 * decided outcomes), 1,000,000 calls per round, 5 rounds. Prints one JSON object per round.
 */
import type { FlagResult } from '../src/engine/types.ts';
import { UsageRecorder } from '../src/usage/usage-recorder.ts';

const flags = Array.from({ length: 50 }, (_, i) =>
  Object.freeze({ key: `flag-${i}`, enabled: i % 2 === 0, variant: i % 5 === 0 ? (i % 10 === 0 ? 'a' : 'b') : null, failed: false }),
) as unknown as FlagResult[];
const recorder = new UsageRecorder({ recordFlagUsage: async () => undefined });
const t = Date.UTC(2030, 0, 1);
for (let i = 0; i < 200_000; i++) recorder.recordEvaluations(1, flags, t);
for (let round = 0; round < 5; round++) {
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) recorder.recordEvaluations(1, flags, t + i);
  const ns = Number(process.hrtime.bigint() - start) / 1_000_000;
  const heapKb = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1024);
  console.log(JSON.stringify({ ns_per_answer_50_flags: Math.round(ns), ns_per_flag: +(ns / 50).toFixed(1), heap_growth_kb_per_million: heapKb }));
}
