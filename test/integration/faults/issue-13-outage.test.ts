/**
 * Issue 13, parts 2 and 3: PostgreSQL refusing connections, and silently dropping packets (a
 * black hole), for real, through a TCP proxy in front of the test database. Every call that
 * touches the database answers within its deadline, fails fast while the database is refused,
 * readiness says what is degraded, a write answered 503 is never applied later, and everything
 * recovers when the proxy forwards again. Figures of these runs are in BENCHMARKS.md ("Faults").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { openStore } from '../../../src/store/open-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';

/** Deadlines of this test's node: short, so the test is quick; the assertions leave wide slack. */
const DB_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 1000;
const LOOKUP_TIMEOUT_MS = 6000;
/** Slack over a deadline for a loaded, shared machine: still far below "hangs for the outage". */
const SLACK_MS = 3000;

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  ms: number;
}

describe('issue 13: database refused or black-holed', () => {
  let direct: TestStore;
  let proxy: TcpProxy;
  let viaProxy: Store;
  let app: App;
  let token: string;
  let key: string;
  let projectId: number;
  let flagId: number;

  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, auth = true): Promise<Answer> => {
    const started = performance.now();
    const res = await app.server.inject({
      method,
      url,
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${key}` } : {}) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body, ms: performance.now() - started };
  };
  const flags = (distinctId: string, apiToken = token) => call('POST', '/flags?v=2', { token: apiToken, distinct_id: distinctId }, false);
  const flagUrl = () => `/api/projects/${projectId}/feature_flags/${flagId}/`;
  const readiness = async () => JSON.parse((await call('GET', '/_readiness')).body) as { status: string; checks: { database: { ok: boolean; error: string | null } } };
  /** Waits (bounded: 100 tries, 15 s) until readiness says `status`. */
  const waitForReadiness = async (status: string): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < 100 && performance.now() - started < 15_000; i++) {
      if ((await readiness()).status === status) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`readiness never became ${status}`);
  };
  const assertStoredPersonFlagFailed = (a: Answer) => {
    assert.equal(a.status, 200, a.body);
    const b = JSON.parse(a.body);
    assert.equal(b.errorsWhileComputingFlags, true);
    assert.equal(b.flags['pro-plan'].failed, true);
    assert.equal(b.flags.everyone.enabled, true, 'flags that need no stored data are still served');
  };
  const assertUnavailable = (a: Answer, what: string) => {
    assert.equal(a.status, 503, `${what}: ${a.body}`);
    assert.equal(a.headers['retry-after'], '2', `${what} says when to retry`);
    assert.ok(a.ms < DB_TIMEOUT_MS + CONNECT_TIMEOUT_MS + SLACK_MS, `${what} answered within its deadline (took ${Math.round(a.ms)} ms)`);
  };
  const figures: Record<string, number> = {};
  const lookupTimes: Record<string, number[]> = {};

  before(async () => {
    direct = await openTestStore('postgres');
    const url = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    viaProxy = await openStore({
      databaseUrl: url.toString(),
      dataDir: '',
      schema: direct.options.schema,
      poolSize: 4,
      timeoutMs: DB_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
      VEXIL_PERSON_CACHE_SIZE: '0',
      VEXIL_LOOKUP_TIMEOUT_MS: String(LOOKUP_TIMEOUT_MS),
    });
    app = await createApp(config, { store: viaProxy, log: createLogger('silent'), print: () => undefined, defaultMetrics: false });
    projectId = app.bootstrap.project!.id;
    token = app.bootstrap.project!.apiToken;
    key = app.bootstrap.personalApiKey!;
    const person = { groups: [{ properties: [{ key: 'plan', value: ['pro'], operator: 'exact', type: 'person' }], rollout_percentage: 100 }] };
    flagId = (await direct.store.createFlag(projectId, { key: 'pro-plan', name: 'before', active: true, filters: person }, 'test')).id;
    await direct.store.createFlag(projectId, { key: 'everyone', name: 'everyone', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, 'test');
    await app.notifyDefinitionsChanged(projectId);
    await direct.store.applyPersonUpdates(projectId, [{ distinctId: 'stored-user', set: { plan: 'pro' } }]);
    // A real socket too: POST /flags on a socket takes the fast path (flags-fast-path.ts), not fastify.
    await app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
    await viaProxy?.close().catch(() => {});
    await proxy?.close();
    await direct?.cleanup();
    console.log(`# issue-13 outage figures (ms): ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v)])))}`);
    console.log(`# issue-13 outage lookups (ms, in order): ${JSON.stringify(Object.fromEntries(Object.entries(lookupTimes).map(([k, v]) => [k, v.map(Math.round)])))}`);
  });

  test('healthy through the proxy', async () => {
    const b = JSON.parse((await flags('stored-user')).body);
    assert.equal(b.flags['pro-plan'].enabled, true);
    assert.equal(b.errorsWhileComputingFlags, false);
    assert.equal((await readiness()).status, 'ok');
  });

  test('refused: lookups fail at once, readiness is degraded, every call answers 503 with Retry-After', async () => {
    await proxy.refuse();
    const lookups: number[] = [];
    for (let i = 0; i < 10; i++) {
      const a = await flags('stored-user');
      assertStoredPersonFlagFailed(a);
      lookups.push(a.ms);
    }
    figures.refusedLookupMaxMs = Math.max(...lookups);
    lookupTimes.refused = lookups;
    assert.ok(figures.refusedLookupMaxMs < LOOKUP_TIMEOUT_MS / 2, `no lookup waits out its ${LOOKUP_TIMEOUT_MS} ms timeout (slowest ${Math.round(figures.refusedLookupMaxMs)} ms)`);

    const ready = await call('GET', '/_readiness');
    assert.equal(ready.status, 200, 'flags are still served from memory');
    const r = JSON.parse(ready.body);
    assert.equal(r.status, 'degraded');
    assert.equal(r.checks.database.ok, false);
    assert.match(r.checks.database.error, /ECONNREFUSED|refused|unavailable/i);

    const patch = await call('PATCH', flagUrl(), { name: 'during refusal' });
    assertUnavailable(patch, 'admin PATCH');
    assert.equal(JSON.parse(patch.body).code, 'service_unavailable');
    figures.refusedPatchMs = patch.ms;
    const get = await call('GET', flagUrl());
    assertUnavailable(get, 'admin GET');
    figures.refusedGetMs = get.ms;
    const uncached = await flags('u', 'phc_not_cached_token_1');
    assertUnavailable(uncached, '/flags for an uncached token');
    assert.match(uncached.body, /database service is currently unavailable/);
    figures.refusedUncachedTokenMs = uncached.ms;
    const address = app.server.server.address() as import('node:net').AddressInfo;
    const onSocket = await fetch(`http://127.0.0.1:${address.port}/flags?v=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'phc_not_cached_token_3', distinct_id: 'u' }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(onSocket.status, 503, 'the fast path too');
    assert.equal(onSocket.headers.get('retry-after'), '2');
    assert.match(await onSocket.text(), /database service is currently unavailable/);
    const capture = await call('POST', '/batch/', { api_key: token, batch: [{ event: 'e', distinct_id: 'c1', properties: { $set: { plan: 'free' } } }] }, false);
    assertUnavailable(capture, 'capture /batch/');
    figures.refusedCaptureMs = capture.ms;
  });

  test('forwarding again: readiness and lookups recover', async () => {
    await proxy.forward();
    figures.recoverFromRefusedMs = await waitForReadiness('ok');
    const b = JSON.parse((await flags('stored-user')).body);
    assert.equal(b.flags['pro-plan'].enabled, true);
    assert.equal(b.errorsWhileComputingFlags, false);
    assert.equal(JSON.parse((await call('GET', flagUrl())).body).name, 'before', 'the PATCH answered 503 was not applied');
  });

  test('black hole: every call answers within its deadline, and a write answered 503 is never applied', async () => {
    proxy.blackhole();
    const patch = await call('PATCH', flagUrl(), { name: 'during black hole' });
    assertUnavailable(patch, 'admin PATCH');
    figures.blackholePatchMs = patch.ms;
    const get = await call('GET', flagUrl());
    assertUnavailable(get, 'admin GET');
    figures.blackholeGetMs = get.ms;
    const uncached = await flags('u', 'phc_not_cached_token_2');
    assertUnavailable(uncached, '/flags for an uncached token');
    figures.blackholeUncachedTokenMs = uncached.ms;
    const capture = await call('POST', '/batch/', { api_key: token, batch: [{ event: 'e', distinct_id: 'c2', properties: { $set: { plan: 'free' } } }] }, false);
    assertUnavailable(capture, 'capture /batch/');
    figures.blackholeCaptureMs = capture.ms;
    const lookups: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await flags('stored-user');
      assertStoredPersonFlagFailed(a);
      lookups.push(a.ms);
    }
    figures.blackholeLookupMaxMs = Math.max(...lookups);
    lookupTimes.blackhole = lookups;
    assert.ok(figures.blackholeLookupMaxMs < LOOKUP_TIMEOUT_MS, `lookups fail before their ${LOOKUP_TIMEOUT_MS} ms timeout`);
    assert.equal((await readiness()).status, 'degraded');

    await proxy.forward();
    figures.recoverFromBlackholeMs = await waitForReadiness('ok');
    // Past every deadline: a write still queued somewhere would have been applied by now.
    await new Promise((r) => setTimeout(r, DB_TIMEOUT_MS * 2));
    const flag = await direct.store.getFlag(projectId, flagId);
    assert.equal(flag?.name, 'before', 'the PATCH answered 503 was never applied');
    const person = await direct.store.getPersonByDistinctId(projectId, 'c2');
    assert.equal(person, null, 'the capture answered 503 was never applied');
    const ok = await call('PATCH', flagUrl(), { name: 'after' });
    assert.equal(ok.status, 200, ok.body);
    const b = JSON.parse((await flags('stored-user')).body);
    assert.equal(b.flags['pro-plan'].enabled, true);
    assert.equal(b.errorsWhileComputingFlags, false);
  });
});
