// Unit tests of startWithRetry: which failures are retried, the back-off, the give-up line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDatabase, startWithRetry, StartupFailed, unreachableCode } from '../../src/startup-retry.ts';
import { VexilError } from '../../src/errors.ts';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

test('"cannot reach" codes are found through causes and AggregateError; other errors are not', () => {
  assert.equal(unreachableCode(refused()), 'ECONNREFUSED');
  assert.equal(unreachableCode(new AggregateError([new Error('x'), refused()], '')), 'ECONNREFUSED');
  assert.equal(unreachableCode(new VexilError('VXL_STORE_UNAVAILABLE', { cause: refused() })), 'ECONNREFUSED');
  assert.equal(unreachableCode(new VexilError('VXL_STORE_UNAVAILABLE')), 'VXL_STORE_UNAVAILABLE');
  assert.equal(unreachableCode(Object.assign(new Error('the database system is starting up'), { code: '57P03' })), '57P03');
  assert.equal(unreachableCode(Object.assign(new Error('password authentication failed'), { code: '28P01' })), null);
  assert.equal(unreachableCode(new Error('boom')), null);
  assert.equal(unreachableCode('text'), null);
});

test('the database is described by host, port and name, never user or password', () => {
  assert.equal(describeDatabase('postgres://user:pw@db.internal:6543/vexil?sslmode=require'), 'db.internal:6543/vexil');
  assert.equal(describeDatabase('postgresql://user:pw@db'), 'db:5432');
});

/** A fake clock that sleeping advances. */
function fakeTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

test('retries with doubling pauses capped at 5 s, then succeeds', async () => {
  const time = fakeTime();
  const pauses: number[] = [];
  let calls = 0;
  const value = await startWithRetry(
    async () => {
      if (++calls < 7) throw refused();
      return 'up';
    },
    { totalMs: 60_000, target: 'PostgreSQL at db:5432', warn: (f) => pauses.push(f.retryInMs), ...time },
  );
  assert.equal(value, 'up');
  assert.deepEqual(pauses, [500, 1000, 2000, 4000, 5000, 5000]);
});

test('gives up after the total time with one line naming the target and the code', async () => {
  const time = fakeTime();
  const lines: string[] = [];
  await assert.rejects(
    startWithRetry(() => Promise.reject(refused()), { totalMs: 3000, target: 'PostgreSQL at db:5432', warn: (_f, msg) => lines.push(msg), ...time }),
    (err: unknown) => err instanceof StartupFailed && err.message === 'cannot reach PostgreSQL at db:5432 (ECONNREFUSED) after 4 attempts in 3 s; giving up',
  );
  assert.deepEqual(lines, [
    'cannot reach PostgreSQL at db:5432 (ECONNREFUSED); retrying in 0.5 s',
    'cannot reach PostgreSQL at db:5432 (ECONNREFUSED); retrying in 1.0 s',
    'cannot reach PostgreSQL at db:5432 (ECONNREFUSED); retrying in 1.5 s',
  ]);
});

test('with 0 s of retries, or an error that is not about reaching the database, fails at once', async () => {
  const time = fakeTime();
  await assert.rejects(
    startWithRetry(() => Promise.reject(refused()), { totalMs: 0, target: 'X', warn: () => assert.fail('no retry'), ...time }),
    { message: 'cannot reach X (ECONNREFUSED); giving up' },
  );
  const bad = Object.assign(new Error('password authentication failed'), { code: '28P01' });
  await assert.rejects(startWithRetry(() => Promise.reject(bad), { totalMs: 60_000, target: 'X', warn: () => assert.fail('no retry'), ...time }), bad);
});
