// batchPerTurn: calls of one event-loop turn run as one batch, answers go back to their callers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchPerTurn, TurnBatchError } from '../../../src/store/turn-batch.ts';

const opts = (maxBatch: number, maxInFlight: number, more: { batchTimeoutMs?: number; maxPending?: number } = {}) => ({
  maxBatch,
  maxInFlight,
  batchTimeoutMs: more.batchTimeoutMs ?? 5_000,
  maxPending: more.maxPending ?? 10_000,
});

describe('batchPerTurn', () => {
  // The batch timer is unref'd (it must not hold a stopping process); in a server the database
  // socket keeps the process alive, here this interval does.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
  });
  after(() => clearInterval(keepAlive));

  it('runs the calls of one turn as one batch and answers each caller in order', async () => {
    const batches: number[][] = [];
    const double = batchPerTurn(async (qs: number[]) => {
      batches.push(qs);
      return qs.map((q) => q * 2);
    }, opts(100, 4));
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
    }, opts(4, 4));
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => same(i)));
    assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(sizes, [4, 4, 2]);
  });

  it('a failing batch rejects its own callers only, with its error; later turns still run', async () => {
    const load = batchPerTurn(async (qs: number[]) => {
      if (qs.includes(13)) throw new Error('unlucky batch');
      return qs;
    }, opts(2, 4));
    const results = await Promise.allSettled([1, 13, 3, 4].map(load));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /unlucky batch/);
    assert.equal(await load(5), 5);
  });

  it('a batch that throws synchronously or answers the wrong count rejects, never hangs', async () => {
    const throwing = batchPerTurn((): Promise<number[]> => {
      throw new Error('sync');
    }, opts(10, 4));
    await assert.rejects(Promise.all([throwing(1), throwing(2)]), /sync/);
    const short = batchPerTurn(async (qs: number[]) => qs.slice(1), opts(10, 4));
    const settled = await Promise.allSettled([short(1), short(2)]);
    assert.ok(settled.every((r) => r.status === 'rejected' && /2 queries/.test(String(r.reason))));
  });

  it('with maxInFlight batches running, later calls wait and go together in the next batch', async () => {
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    const load = batchPerTurn((qs: number[]) => {
      batches.push(qs);
      return new Promise<number[]>((resolve) => gates.push(() => resolve(qs)));
    }, opts(2, 1));
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

  it('a batch that never answers fails after batchTimeoutMs and frees its place; its late answer is dropped', async () => {
    let calls = 0;
    let lateAnswer: ((rs: number[]) => void) | undefined;
    const load = batchPerTurn((qs: number[]) => {
      calls++;
      if (calls === 1) return new Promise<number[]>((resolve) => (lateAnswer = resolve));
      return Promise.resolve(qs.map((q) => q * 10));
    }, opts(10, 1, { batchTimeoutMs: 30 }));
    const hung = load(1);
    const waiting = load(2);
    await new Promise((r) => setImmediate(r));
    const queued = load(3); // waits: the only place is taken by the hung batch
    await assert.rejects(hung, (err: unknown) => err instanceof TurnBatchError && /30 ms/.test(err.message));
    await assert.rejects(waiting, TurnBatchError);
    assert.equal(await queued, 30, 'the freed place serves the next batch');
    lateAnswer!([111, 222]);
    assert.equal(await load(4), 40);
  });

  it('beyond maxPending waiting queries, a query fails at once instead of queueing', async () => {
    const gates: Array<() => void> = [];
    const load = batchPerTurn((qs: number[]) => new Promise<number[]>((resolve) => gates.push(() => resolve(qs))), opts(2, 1, { maxPending: 3 }));
    const first = load(1);
    await new Promise((r) => setImmediate(r)); // 1 is in flight; the place is taken
    const queued = [load(2), load(3), load(4)];
    await assert.rejects(load(5), (err: unknown) => err instanceof TurnBatchError && /3 queries already waiting/.test(err.message));
    // Release the batches one by one as they start: [1], then [2, 3], then [4].
    const all = Promise.all([first, ...queued]);
    for (let released = 0; released < 3; released++) {
      while (gates.length === 0) await new Promise((r) => setTimeout(r, 1));
      gates.shift()!();
    }
    assert.deepEqual(await all, [1, 2, 3, 4]);
  });
});
