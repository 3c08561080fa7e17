// batchPerTurn: calls of one event-loop turn run as one batch, answers go back to their callers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchPerTurn } from '../../../src/store/turn-batch.ts';

describe('batchPerTurn', () => {
  it('runs the calls of one turn as one batch and answers each caller in order', async () => {
    const batches: number[][] = [];
    const double = batchPerTurn(async (qs: number[]) => {
      batches.push(qs);
      return qs.map((q) => q * 2);
    }, { maxBatch: 100, maxInFlight: 4 });
    const first = await Promise.all([1, 2, 3].map(double));
    const second = await Promise.all([4, 5].map(double));
    assert.deepEqual(first, [2, 4, 6]);
    assert.deepEqual(second, [8, 10]);
    assert.deepEqual(batches, [[1, 2, 3], [4, 5]]);
  });

  it('splits a turn into batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const same = batchPerTurn(async (qs: number[]) => {
      sizes.push(qs.length);
      return qs;
    }, { maxBatch: 4, maxInFlight: 4 });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => same(i)));
    assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(sizes, [4, 4, 2]);
  });

  it('a failing batch rejects its own callers only, with its error; later turns still run', async () => {
    const load = batchPerTurn(async (qs: number[]) => {
      if (qs.includes(13)) throw new Error('unlucky batch');
      return qs;
    }, { maxBatch: 2, maxInFlight: 4 });
    const results = await Promise.allSettled([1, 13, 3, 4].map(load));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /unlucky batch/);
    assert.equal(await load(5), 5);
  });

  it('a batch that throws synchronously or answers the wrong count rejects, never hangs', async () => {
    const throwing = batchPerTurn((): Promise<number[]> => {
      throw new Error('sync');
    }, { maxBatch: 10, maxInFlight: 4 });
    await assert.rejects(Promise.all([throwing(1), throwing(2)]), /sync/);
    const short = batchPerTurn(async (qs: number[]) => qs.slice(1), { maxBatch: 10, maxInFlight: 4 });
    const settled = await Promise.allSettled([short(1), short(2)]);
    assert.ok(settled.every((r) => r.status === 'rejected' && /2 queries/.test(String(r.reason))));
  });

  it('with maxInFlight batches running, later calls wait and go together in the next batch', async () => {
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    const load = batchPerTurn((qs: number[]) => {
      batches.push(qs);
      return new Promise<number[]>((resolve) => gates.push(() => resolve(qs)));
    }, { maxBatch: 2, maxInFlight: 1 });
    const first = Promise.all([1, 2, 3].map(load));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1, 2]], 'one batch in flight; 3 waits');
    const second = Promise.all([4, 5].map(load));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [[1, 2]], 'still one in flight');
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(batches, [[1, 2], [3, 4]], 'the waiting calls go together, capped at maxBatch');
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
    gates.shift()!();
    assert.deepEqual(await first, [1, 2, 3]);
    assert.deepEqual(await second, [4, 5]);
  });
});
