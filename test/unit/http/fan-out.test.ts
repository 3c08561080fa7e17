// The fan-out queue with a passed-in clock: jobs in order, slices that yield to the event loop,
// changes ahead of the background job, a throwing step that does not stop the others, clear().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FanOutQueue, SLICE_MS } from '../../../src/http/streams/fan-out.ts';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('jobs run in the order pushed, the first slice at once', async () => {
  const seen: number[] = [];
  const queue = new FanOutQueue<number>(undefined, () => 0);
  const a = queue.push(range(0, 3), (n) => seen.push(n));
  const b = queue.push(range(10, 3), (n) => seen.push(n));
  assert.deepEqual(seen, [0, 1, 2, 10, 11, 12], 'a clock that never moves: everything in the first slice');
  await Promise.all([a, b]);
});

test('a slice ends when the clock passes SLICE_MS; the rest runs on later turns, in order', async () => {
  let now = 0;
  const seen: number[] = [];
  // Every clock read is a whole slice later: each slice runs one batch of items.
  const queue = new FanOutQueue<number>(undefined, () => (now += SLICE_MS));
  const first = queue.push(range(0, 100), (n) => seen.push(n));
  const second = queue.push(range(1000, 5), (n) => seen.push(n));
  const afterFirstSlice = seen.length;
  assert.ok(afterFirstSlice > 0 && afterFirstSlice < 100, `one batch ran synchronously (${afterFirstSlice})`);
  await first;
  await second;
  assert.deepEqual(seen, [...range(0, 100), ...range(1000, 5)]);
});

test('a change pushed while heartbeats are half-way runs before the heartbeats go on', async () => {
  let now = 0;
  const seen: string[] = [];
  const queue = new FanOutQueue<number>(undefined, () => (now += SLICE_MS));
  queue.pushBackground(range(0, 100), (n) => seen.push(`hb${n}`));
  assert.equal(queue.background, true);
  const heartbeatsBefore = seen.length;
  const change = queue.push([1, 2], (n) => seen.push(`change${n}`));
  await change;
  const firstChange = seen.indexOf('change1');
  assert.equal(firstChange, heartbeatsBefore, 'the change came right after the slice that was running');
  while (queue.background) await nextTurn();
  assert.equal(seen.filter((s) => s.startsWith('hb')).length, 100, 'every heartbeat still sent');
});

test('a throwing step is reported and the job goes on', async () => {
  const errors: unknown[] = [];
  const seen: number[] = [];
  const queue = new FanOutQueue<number>((err) => errors.push(err), () => 0);
  await queue.push([1, 2, 3], (n) => {
    if (n === 2) throw new Error('boom');
    seen.push(n);
  });
  assert.deepEqual(seen, [1, 3]);
  assert.equal(errors.length, 1);
});

test('clear() drops pending jobs and resolves their promises', async () => {
  let now = 0;
  const seen: number[] = [];
  const queue = new FanOutQueue<number>(undefined, () => (now += SLICE_MS));
  const job = queue.push(range(0, 1000), (n) => seen.push(n));
  queue.clear();
  await job;
  await nextTurn();
  assert.ok(seen.length < 1000, 'the rest was dropped');
});
