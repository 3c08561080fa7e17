/**
 * Issue 15: two nodes on one PostgreSQL schema and one Redis, with real faults injected through
 * TCP proxies in front of both (node B reaches PostgreSQL through its own proxy; both nodes reach
 * Redis through a shared one). Covers propagation over Redis and, with Redis down, over
 * PostgreSQL NOTIFY; Redis rejoined (a change reaches node B with its PostgreSQL cut); the mirror
 * catching up on what was written while Redis was down; node B meeting a project for the first time while its
 * PostgreSQL is unreachable (served from the Redis definitions mirror); and two nodes racing on
 * one flag with the same `version`; a scheduled change applied by one node reaching the other
 * and the mirror. Figures are printed for BENCHMARKS.md ("Faults").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { openStore } from '../../../src/store/open-store.ts';
import { RedisDefinitionsMirror } from '../../../src/cache/redis/redis-definitions-mirror.ts';
import type { Store } from '../../../src/store/store.ts';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';

const silent = createLogger('silent');

/** Polls `check` until it holds: bounded at 300 tries and 15 s. Resolves with the ms waited. */
async function until(check: () => Promise<boolean>, what: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 300 && performance.now() - started < 15_000; i++) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function proxiedUrl(base: string, port: number): string {
  const url = new URL(base);
  url.port = String(port);
  return url.toString();
}

describe('issue 15: propagation and faults across two nodes', () => {
  let direct: TestStore;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let storeB: Store;
  let a: App;
  let b: App;
  let key = '';
  let token = '';
  let projectId = 0;
  let flagId = 0;
  const figures: Record<string, number> = {};
  let channel = '';

  const inject = (app: App, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
    app.server.inject({ method, url, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, payload: body === undefined ? undefined : JSON.stringify(body) });
  const flags = async (app: App, apiToken: string, distinctId = 'someone') => {
    const res = await app.server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: apiToken, distinct_id: distinctId }) });
    if (res.statusCode !== 200) return { status: res.statusCode, body: { errorsWhileComputingFlags: true, flags: {} as Record<string, { enabled: boolean; failed?: boolean }>, text: res.body } };
    return { status: res.statusCode, body: JSON.parse(res.body) as { errorsWhileComputingFlags: boolean; flags: Record<string, { enabled: boolean; failed?: boolean }> } };
  };
  /**
   * Whether both nodes' six Redis connections (publisher, subscriber, mirror) are back through
   * the proxy and have been answered at least once (CLIENT LIST `cmd` set: the ready check's INFO
   * or the re-SUBSCRIBE), read on a direct connection.
   */
  const redisRejoined = async (): Promise<boolean> => {
    const ports = new Set(redisProxy.upstreamPorts().map(String));
    const probe = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const list = (await probe.call('CLIENT', 'LIST')) as string;
      const answered = list.split('\n').filter((line) => {
        const port = /\baddr=[^ ]*:(\d+)/.exec(line)?.[1];
        return port !== undefined && ports.has(port) && !/\bcmd=NULL\b/.test(line);
      });
      return answered.length >= 6;
    } finally {
      probe.disconnect();
    }
  };
  /** Flips the flag through node A (an inactive flag is left out of /flags: absent = off) and waits until node B answers the new value. */
  const flipAndWait = async (active: boolean): Promise<number> => {
    const res = await inject(a, 'PATCH', `/api/projects/${projectId}/feature_flags/${flagId}/`, { active });
    assert.equal(res.statusCode, 200, res.body);
    return until(async () => ((await flags(b, token)).body.flags.rollout?.enabled ?? false) === active, `node B to answer active=${active}`);
  };

  before(async () => {
    await requireRedis();
    direct = await openTestStore('postgres');
    const pgTarget = new URL(TEST_DATABASE_URL);
    pgProxy = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
    const redisTarget = new URL(REDIS_URL);
    redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    storeB = await openStore({ databaseUrl: proxiedUrl(TEST_DATABASE_URL, pgProxy.port), dataDir: '', schema: direct.options.schema, poolSize: 4, timeoutMs: 1500, connectTimeoutMs: 1000 });
    // Own Redis keys and channel, and a poll far too slow to be what makes a test pass.
    channel = `vexil_t15_${randomUUID().replace(/-/g, '')}`;
    const env = { LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', VEXIL_PERSON_CACHE_SIZE: '0', REDIS_URL: proxiedUrl(REDIS_URL, redisProxy.port) };
    a = await createApp(loadConfig({ ...env, DATABASE_URL: TEST_DATABASE_URL }), { store: direct.store, log: silent, print: () => undefined, defaultMetrics: false, redisChannel: channel });
    b = await createApp(loadConfig({ ...env, DATABASE_URL: proxiedUrl(TEST_DATABASE_URL, pgProxy.port) }), { store: storeB, log: silent, print: () => undefined, defaultMetrics: false, redisChannel: channel });
    key = a.bootstrap.personalApiKey!;
    token = a.bootstrap.project!.apiToken;
    projectId = a.bootstrap.project!.id;
    const created = await inject(a, 'POST', `/api/projects/${projectId}/feature_flags/`, { key: 'rollout', active: false, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
    assert.equal(created.statusCode, 201, created.body);
    flagId = (JSON.parse(created.body) as { id: number }).id;
    const first = await flags(b, token);
    assert.equal(first.body.flags.rollout?.enabled ?? false, false, `node B serves the project: ${JSON.stringify(first)}`);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await storeB?.close().catch(() => {});
    await pgProxy?.close();
    await redisProxy?.close();
    await direct?.cleanup();
    console.log(`# issue-15 nodes figures (ms): ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  test('a change through node A is answered by node B (Redis)', async () => {
    figures.redisPropagationMs = await flipAndWait(true);
    figures.redisPropagationBackMs = await flipAndWait(false);
  });

  test('Redis down: notices travel over PostgreSQL NOTIFY; Redis back: still propagated', async () => {
    await redisProxy.refuse();
    const sent = { flips: 0 };
    figures.notifyPropagationMs = await flipAndWait(true);
    sent.flips++;
    figures.notifyPropagationBackMs = await flipAndWait(false);
    sent.flips++;
    await redisProxy.forward();
    // Rejoined: ioredis reconnects with back-off; every change keeps propagating meanwhile.
    figures.afterRedisBackMs = await flipAndWait(true);
    assert.equal(sent.flips, 2);
    figures.redisRejoinedMs = await until(redisRejoined, 'both nodes to reconnect to Redis');
    // Node B's PostgreSQL (and so its LISTEN) cut: only a rejoined Redis can carry this change,
    // and node B reads the new revision from the mirror.
    await pgProxy.refuse();
    try {
      figures.redisRejoinedPropagationMs = await flipAndWait(false);
    } finally {
      await pgProxy.forward();
    }
  });

  test('a project node B never served is answered while its PostgreSQL is unreachable (Redis mirror)', async () => {
    // Written through node A while Redis is away: A cannot mirror it then, and must once Redis is
    // back (a mirror left behind by a Redis outage is what made node B answer 503 here before).
    await redisProxy.refuse();
    const res = await inject(a, 'POST', '/api/projects/', { name: 'met during outage' });
    assert.equal(res.statusCode, 201, res.body);
    const p2 = JSON.parse(res.body) as { id: number; api_token: string };
    const everyone = { groups: [{ properties: [], rollout_percentage: 100 }] };
    const person = { groups: [{ properties: [{ key: 'plan', value: ['pro'], operator: 'exact', type: 'person' }], rollout_percentage: 100 }] };
    for (const [flagKey, filters] of [['everyone', everyone], ['pro-plan', person]] as const) {
      const f = await inject(a, 'POST', `/api/projects/${p2.id}/feature_flags/`, { key: flagKey, active: true, filters });
      assert.equal(f.statusCode, 201, f.body);
    }
    const served = await a.snapshots.get(p2.id);
    assert.ok(served?.definitions.flags.length === 2, 'node A serves both flags');
    await redisProxy.forward();
    // Read as any node would, straight from Redis (not through the proxy).
    const mirror = new RedisDefinitionsMirror({ url: REDIS_URL, prefix: channel, log: silent });
    try {
      figures.mirrorCaughtUpMs = await until(async () => ((await mirror.get(p2.id))?.project.revision ?? -1) >= served.revision, 'node A to mirror what it wrote while Redis was down');
    } finally {
      await mirror.close();
    }
    await pgProxy.refuse();
    // Node B reaches the mirror once its own Redis connection is back (ioredis reconnects with
    // back-off); until then a project it never served has nothing to be answered from.
    figures.unseenProjectFirstAnswerMs = await until(async () => (await flags(b, p2.api_token)).status === 200, 'node B to answer from the mirror');
    let answered = 0;
    let non200 = 0;
    for (let i = 0; i < 20; i++) {
      const r = await flags(b, p2.api_token, `user-${i}`);
      if (r.status !== 200) {
        non200++;
        continue;
      }
      assert.equal(r.body.flags.everyone?.enabled, true);
      assert.equal(r.body.flags['pro-plan']?.failed, true, 'a flag that needs stored person data fails');
      assert.equal(r.body.errorsWhileComputingFlags, true);
      answered++;
    }
    // And the project it already served.
    assert.equal((await flags(b, token)).status, 200);
    // A node started while PostgreSQL is unreachable serves from the mirror, read-only, and says so.
    const c = await createApp(loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', VEXIL_PERSON_CACHE_SIZE: '0', REDIS_URL: proxiedUrl(REDIS_URL, redisProxy.port) }), {
      store: storeB,
      log: silent,
      print: () => undefined,
      defaultMetrics: false,
      redisChannel: channel,
      startDegraded: true,
    });
    try {
      const r = await flags(c, p2.api_token);
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.body.flags.everyone?.enabled, true);
      const ready = await c.server.inject({ method: 'GET', url: '/_readiness' });
      assert.equal(ready.statusCode, 200, ready.body);
      const body = JSON.parse(ready.body) as { status: string; definitionsMirror: boolean; checks: { database: { ok: boolean } } };
      assert.equal(body.status, 'degraded');
      assert.equal(body.definitionsMirror, true);
      assert.equal(body.checks.database.ok, false);
      const write = await inject(c, 'PATCH', `/api/projects/${projectId}/feature_flags/${flagId}/`, { name: 'during outage' });
      assert.equal(write.statusCode, 503, 'read-only: writes are refused while the database is away');
    } finally {
      await c.close();
    }
    figures.unseenProjectAnsweredOf20 = answered;
    figures.unseenProjectNon200 = non200;
    assert.equal(answered, 20);
    await pgProxy.forward();
    figures.pgRecoverMs = await until(async () => {
      const r = await flags(b, p2.api_token, 'after');
      return r.status === 200 && r.body.errorsWhileComputingFlags === false;
    }, 'node B to compute stored-person flags again');
  });

  test('two nodes racing on one flag with the same version: exactly one wins, the other gets 409', async () => {
    const current = JSON.parse((await inject(a, 'GET', `/api/projects/${projectId}/feature_flags/${flagId}/`)).body) as { version: number };
    const url = `/api/projects/${projectId}/feature_flags/${flagId}/`;
    let wins = 0;
    let conflicts = 0;
    for (let round = 0; round < 5; round++) {
      const version = current.version + round;
      const [ra, rb] = await Promise.all([
        inject(a, 'PATCH', url, { name: `a-${round}`, version }),
        inject(b, 'PATCH', url, { name: `b-${round}`, version }),
      ]);
      const statuses = [ra.statusCode, rb.statusCode].sort();
      assert.deepEqual(statuses, [200, 409], `round ${round}: ${ra.body} / ${rb.body}`);
      const loser = ra.statusCode === 409 ? ra : rb;
      const body = JSON.parse(loser.body) as { type: string; code: string; detail: string };
      assert.equal(body.code, 'conflict');
      assert.match(body.detail, /updated by another user/);
      wins++;
      conflicts++;
    }
    const final = JSON.parse((await inject(a, 'GET', url)).body) as { version: number };
    assert.equal(final.version, current.version + wins, 'every accepted write bumped the version once: none lost');
    figures.raceRounds = wins;
    figures.raceConflicts = conflicts;
  });

  test('a scheduled change applied by node A is answered by node B and lands in the mirror', async () => {
    const before = (await flags(b, token)).body.flags.rollout?.enabled ?? false;
    const res = await inject(a, 'POST', `/api/projects/${projectId}/scheduled_changes/`, {
      model_name: 'FeatureFlag',
      record_id: flagId,
      payload: { operation: 'update_status', value: !before },
      scheduled_at: new Date(Date.now() - 1000).toISOString(),
    });
    assert.equal(res.statusCode, 201, res.body);
    const started = performance.now();
    const applied = await a.scheduler.runDue();
    assert.equal(applied.length, 1, 'node A applied the due change');
    await until(async () => ((await flags(b, token)).body.flags.rollout?.enabled ?? false) === !before, 'node B to answer the scheduled change');
    figures.scheduledChangePropagationMs = performance.now() - started;
    const served = await a.snapshots.get(projectId);
    const mirror = new RedisDefinitionsMirror({ url: REDIS_URL, prefix: channel, log: silent });
    try {
      const mirrored = await mirror.get(projectId);
      assert.equal(mirrored?.project.revision, served?.revision, 'the mirror holds the revision the scheduled change made');
      assert.equal(mirrored?.flags.find((f) => f.id === flagId)?.active, !before);
    } finally {
      await mirror.close();
    }
  });
});
