/**
 * UsageRecorder: counts per flag, value, source and UTC day; drains into store rows; a failed
 * flush keeps its counts for the next one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlagResult } from '../../../src/engine/types.ts';
import type { FlagUsageIncrement } from '../../../src/store/store.ts';
import { UsageRecorder } from '../../../src/usage/usage-recorder.ts';

const DAY = 86_400_000;
const T = Date.UTC(2030, 0, 1, 23, 0, 0);

function result(key: string, enabled: boolean, variant: string | null = null, failed = false): FlagResult {
  return { key, enabled, variant, failed } as FlagResult;
}

const sorted = (rows: FlagUsageIncrement[]) =>
  rows.map((r) => `${r.projectId}/${r.flagKey}/${r.day}/${r.source}/${r.value}=${r.count}@${r.lastCalledAt.toISOString()}`).sort();

test('evaluations are counted by value, failed flags are not', () => {
  const rec = new UsageRecorder({ recordFlagUsage: async () => undefined });
  rec.recordEvaluations(1, [result('a', true), result('b', false), result('c', true, 'red'), result('d', false, null, true)], T);
  rec.recordEvaluations(1, [result('a', true), result('b', false), result('c', true, 'blue')], T + 1000);
  rec.recordEvaluations(2, [result('a', false)], T);
  assert.deepEqual(sorted(rec.drain()), [
    '1/a/2030-01-01/flags/true=2@2030-01-01T23:00:01.000Z',
    '1/b/2030-01-01/flags/false=2@2030-01-01T23:00:01.000Z',
    '1/c/2030-01-01/flags/blue=1@2030-01-01T23:00:01.000Z',
    '1/c/2030-01-01/flags/red=1@2030-01-01T23:00:00.000Z',
    '2/a/2030-01-01/flags/false=1@2030-01-01T23:00:00.000Z',
  ]);
  assert.deepEqual(rec.drain(), [], 'drain empties the recorder');
});

test('counts after midnight UTC go to the next day; events are their own source', () => {
  const rec = new UsageRecorder({ recordFlagUsage: async () => undefined });
  rec.recordEvaluations(1, [result('a', true)], T);
  rec.recordEvaluations(1, [result('a', true)], T + 2 * 3_600_000);
  rec.recordCalledEvent(1, 'a', 'variant-x', T);
  rec.recordCalledEvent(1, 'a', true, T);
  rec.recordCalledEvent(1, 'a', 'false', T);
  rec.recordCalledEvent(1, 'a', undefined, T + DAY);
  assert.deepEqual(sorted(rec.drain()), [
    '1/a/2030-01-01/event/false=1@2030-01-01T23:00:00.000Z',
    '1/a/2030-01-01/event/true=1@2030-01-01T23:00:00.000Z',
    '1/a/2030-01-01/event/variant-x=1@2030-01-01T23:00:00.000Z',
    '1/a/2030-01-01/flags/true=1@2030-01-01T23:00:00.000Z',
    '1/a/2030-01-02/event/false=1@2030-01-02T23:00:00.000Z',
    '1/a/2030-01-02/flags/true=1@2030-01-02T01:00:00.000Z',
  ]);
});

test('a failed flush keeps its counts for the next one; stop() flushes what is left', async () => {
  const written: FlagUsageIncrement[][] = [];
  let fail = true;
  const rec = new UsageRecorder({
    recordFlagUsage: async (rows) => {
      if (fail) throw new Error('database down');
      written.push([...rows]);
    },
  });
  rec.recordEvaluations(1, [result('a', true)], T);
  await assert.rejects(rec.flush(), /database down/);
  fail = false;
  rec.recordEvaluations(1, [result('a', true)], T);
  await rec.flush();
  assert.deepEqual(written.flat().map((r) => r.count).reduce((a, b) => a + b, 0), 2);
  rec.recordEvaluations(1, [result('b', false)], T);
  await rec.stop();
  assert.equal(written.length, 2);
  assert.equal(written[1]![0]!.flagKey, 'b');
});
