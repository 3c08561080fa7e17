// FallbackChangeBus: which notices go on NOTIFY besides Redis, and resumed handlers from either bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeBus, ChangeNotice } from '../../../src/cache/change-bus.ts';
import { FallbackChangeBus, type HealthReportingBus } from '../../../src/cache/fallback-change-bus.ts';

/** A bus that records what it was asked to publish; `failNext` makes the next publish cut it off. */
function recordingBus(path = 'redis') {
  const published: ChangeNotice[] = [];
  const resumed = new Set<() => void>();
  const bus = {
    healthy: true,
    subscribed: { [path]: true } as Record<string, boolean>,
    failNext: false,
    published,
    resume: () => resumed.forEach((h) => h()),
    async publish(notice: ChangeNotice) {
      published.push(notice);
      if (bus.failNext) bus.healthy = false;
    },
    subscribe: () => () => undefined,
    onResumed(handler: () => void) {
      resumed.add(handler);
      return () => resumed.delete(handler);
    },
    async close() {},
  };
  return bus satisfies HealthReportingBus & ChangeBus;
}

const person: ChangeNotice = { projectId: 1, revision: null, persons: { distinctIds: ['u1'] } };

test('definitions notices go on both buses; person notices on Redis alone while it is healthy', async () => {
  const redis = recordingBus();
  const pg = recordingBus();
  const bus = new FallbackChangeBus(redis, pg);
  await bus.publish({ projectId: 1, revision: 2 });
  await bus.publish(person);
  assert.equal(redis.published.length, 2);
  assert.deepEqual(pg.published, [{ projectId: 1, revision: 2 }]);
});

test('a person notice whose Redis publish cut the connection goes on NOTIFY too', async () => {
  const redis = recordingBus();
  const pg = recordingBus();
  redis.failNext = true;
  await new FallbackChangeBus(redis, pg).publish(person);
  assert.deepEqual(redis.published, [person]);
  assert.deepEqual(pg.published, [person]);
});

test('a person notice while Redis is down goes on NOTIFY only', async () => {
  const redis = recordingBus();
  const pg = recordingBus();
  redis.healthy = false;
  await new FallbackChangeBus(redis, pg).publish(person);
  assert.deepEqual(redis.published, []);
  assert.deepEqual(pg.published, [person]);
});

test('resumed handlers hear either bus, until removed', () => {
  const redis = recordingBus();
  const pg = recordingBus();
  const bus = new FallbackChangeBus(redis, pg);
  let calls = 0;
  const off = bus.onResumed(() => calls++);
  redis.resume();
  pg.resume();
  off();
  redis.resume();
  assert.equal(calls, 2);
});

test('subscribed lists both paths', () => {
  const redis = recordingBus();
  const pg = recordingBus('postgres');
  redis.subscribed.redis = false;
  assert.deepEqual(new FallbackChangeBus(redis, pg).subscribed, { redis: false, postgres: true });
});
