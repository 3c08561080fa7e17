// SSE streams on two Vexil nodes sharing one PostgreSQL schema and one Redis channel: a change
// written through node A reaches streams held by node B (definitions stream and PostHog's
// /flags/stream, both modes); reconnect with and without Last-Event-ID; heartbeats on a
// passed-in clock; shutdown ends streams; a reader that stops reading is closed while the others
// and /flags keep going.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createApp, type App } from '../../../src/app.ts';
import { RedisChangeBus } from '../../../src/cache/redis/redis-change-bus.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { openSse, type SseReader } from '../../helpers/sse.ts';
import { TEST_NOW } from '../http/http-helpers.ts';

const silent = createLogger('silent');

describe('streams across two nodes (postgres store, real Redis)', () => {
  let testStore: TestStore;
  const apps: App[] = [];
  const buses: RedisChangeBus[] = [];
  const bases: string[] = [];
  const readers: SseReader[] = [];
  const rawSockets: Socket[] = [];
  const channel = `vexil:test:${randomUUID()}`;
  let clock = 1_000_000;
  let token = '';
  let personalKey = '';
  let projectId = 0;
  let flagId = 0;

  const open = async (url: string, headers: Record<string, string> = {}) => {
    const r = await openSse(url, headers);
    readers.push(r);
    return r;
  };
  const defsUrl = (node: number) => `${bases[node]}/flags/definitions/stream?token=${token}`;
  const auth = () => ({ authorization: `Bearer ${personalKey}` });
  /** Writes a change as the admin API would on node A: store write, then A refreshes and tells B. */
  const setRollout = async (pct: number) => {
    await testStore.store.updateFlag(projectId, flagId, { filters: { groups: [{ properties: [], rollout_percentage: pct }] } }, 'test');
    await apps[0]!.notifyDefinitionsChanged(projectId);
  };

  before(async () => {
    await requireRedis();
    testStore = await openTestStore('postgres');
    // Revision polls every hour: only change notices on the bus can move node B.
    const config = loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', VEXIL_STREAM_MAX_BUFFER_BYTES: '65536' });
    for (let i = 0; i < 3; i++) {
      const bus = await RedisChangeBus.open({ url: REDIS_URL, channel, log: silent });
      buses.push(bus);
      const app = await createApp(config, { store: testStore.store, bus, log: silent, print: () => undefined, now: () => TEST_NOW, defaultMetrics: false, webDir: null, streamClock: () => clock });
      await app.server.listen({ host: '127.0.0.1', port: 0 });
      bases.push(`http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`);
      apps.push(app);
    }
    const project = apps[0]!.bootstrap.project!;
    token = project.apiToken;
    personalKey = apps[0]!.bootstrap.personalApiKey!;
    projectId = project.id;
    flagId = (await testStore.store.createFlag(projectId, { key: 'beta', name: '', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, 'test')).id;
    await apps[0]!.notifyDefinitionsChanged(projectId);
  });

  after(async () => {
    for (const r of readers) r.close();
    for (const socket of rawSockets) socket.destroy();
    for (const app of apps) await app.close();
    for (const bus of buses) await bus.close();
    await testStore.cleanup();
  });

  test('definitions stream on B: full payload with the polling ETag, then A’s change with a new id', async () => {
    const poll = await fetch(`${bases[1]}/flags/definitions?token=${token}`, { headers: auth() });
    assert.equal(poll.status, 200);
    const r = await open(defsUrl(1), auth());
    assert.equal(r.status, 200);
    const first = await r.waitFor((e) => e.event === 'definitions', 'first definitions event');
    const payload = JSON.parse(first.data);
    assert.equal(`W/"${payload.etag}"`, poll.headers.get('etag'));
    assert.equal(first.id, String(payload.revision));
    assert.equal(payload.definitions.flags[0].filters.groups[0].rollout_percentage, 100);
    await setRollout(40);
    const second = await r.waitFor((e) => e.event === 'definitions', 'the change made on node A', 1);
    const next = JSON.parse(second.data);
    assert.ok(Number(second.id) > Number(first.id));
    assert.equal(next.definitions.flags[0].filters.groups[0].rollout_percentage, 40);
    assert.notEqual(next.etag, payload.etag);
  });

  test('definitions stream is authorised like /flags/definitions', async () => {
    const none = await fetch(defsUrl(1));
    assert.equal(none.status, 401);
    const publicToken = await fetch(defsUrl(1), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(publicToken.status, 401);
    const unknown = await fetch(`${bases[1]}/flags/definitions/stream?token=phc_nope`, { headers: auth() });
    assert.equal(unknown.status, 401);
  });

  test('reconnect: Last-Event-ID of the current revision gets nothing, an old one the full payload', async () => {
    const r = await open(defsUrl(0), auth());
    const current = await r.waitFor((e) => e.event === 'definitions', 'first event');
    r.close();
    const upToDate = await open(defsUrl(1), { ...auth(), 'last-event-id': current.id! });
    // Nothing missed: the next thing on the stream is a heartbeat, not a payload.
    clock += 60_000;
    apps[1]!.server.vexilStreams.tick();
    await upToDate.waitUntil(() => upToDate.comments.includes('heartbeat'), 'a heartbeat');
    assert.equal(upToDate.events.length, 0);
    const behind = await open(defsUrl(1), { ...auth(), 'last-event-id': String(Number(current.id) - 1) });
    const caughtUp = await behind.waitFor((e) => e.event === 'definitions', 'catch-up payload');
    assert.equal(caughtUp.id, current.id);
    const garbage = await open(defsUrl(1), { ...auth(), 'last-event-id': 'not-a-revision' });
    await garbage.waitFor((e) => e.event === 'definitions', 'full payload for an unknown id');
  });

  test('heartbeats follow the passed-in clock', async () => {
    const r = await open(defsUrl(1), auth());
    await r.waitFor((e) => e.event === 'definitions', 'first event');
    apps[1]!.server.vexilStreams.tick();
    assert.equal(r.comments.length, 0, 'not idle yet: no heartbeat');
    clock += 15_000;
    apps[1]!.server.vexilStreams.tick();
    await r.waitUntil(() => r.comments.filter((c) => c === 'heartbeat').length === 1, 'one heartbeat');
  });

  test('/flags/stream on B: connected with team_id, then one message per flag A changes', async () => {
    const r = await open(`${bases[1]}/flags/stream`, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 200);
    const connected = await r.waitFor((e) => e.event === 'connected', 'connected');
    assert.deepEqual(JSON.parse(connected.data), { team_id: projectId });
    await setRollout(55);
    const msg = await r.waitFor((e) => e.event === 'message', 'flag message');
    const flag = JSON.parse(msg.data);
    assert.equal(flag.key, 'beta');
    assert.equal(flag.team_id, projectId);
    assert.equal(flag.filters.groups[0].rollout_percentage, 55);
    const missing = await fetch(`${bases[1]}/flags/stream`);
    assert.equal(missing.status, 401);
    const wrong = await fetch(`${bases[1]}/flags/stream?token=phc_wrong`);
    assert.equal(wrong.status, 401);
  });

  test('/flags/stream?token=…&evaluations=true pushes the user’s flags on connect and after each change', async () => {
    const r = await open(`${bases[1]}/flags/stream?token=${token}&evaluations=true&distinct_id=user-1`);
    const first = JSON.parse((await r.waitFor((e) => e.event === 'message', 'initial evaluation')).data);
    assert.deepEqual(Object.keys(first), ['flags', 'errors_while_computing_flags']);
    await setRollout(0);
    const after0 = JSON.parse((await r.waitFor((e) => e.event === 'message', 'evaluation after change', 1)).data);
    assert.equal(after0.flags.beta, false);
    await setRollout(100);
    const after100 = JSON.parse((await r.waitFor((e) => e.event === 'message', 'evaluation after 2nd change', 2)).data);
    assert.equal(after100.flags.beta, true);
    const bad = await fetch(`${bases[1]}/flags/stream?token=${token}&evaluations=true`);
    assert.equal(bad.status, 400);
  });

  test('a reader that stops reading is closed; other readers and /flags carry on', async () => {
    // A big definition so the unread bytes overflow socket buffers and the 64 KiB stream limit.
    const big = Array.from({ length: 4000 }, (_, i) => `value-${i}-${'x'.repeat(40)}`);
    await testStore.store.createFlag(projectId, { key: 'big', name: '', active: true, filters: { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'exact', value: big }] }] } }, 'test');
    await apps[0]!.notifyDefinitionsChanged(projectId);
    const healthy = await open(defsUrl(1), auth());
    await healthy.waitFor((e) => e.event === 'definitions', 'healthy first event');
    const slow = createConnection({ host: '127.0.0.1', port: Number(new URL(bases[1]!).port) });
    rawSockets.push(slow);
    slow.on('error', () => undefined);
    await new Promise<void>((resolve) => slow.once('connect', resolve));
    slow.write(`GET /flags/definitions/stream?token=${token} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${personalKey}\r\n\r\n`);
    slow.pause();
    let closed = false;
    slow.once('close', () => (closed = true));
    const slowCount = async () => (await apps[1]!.metrics.streamEvents.get()).values.find((v) => v.labels.event === 'slow')?.value ?? 0;
    let changes = 0;
    for (let pct = 1; pct <= 60 && (await slowCount()) === 0; pct++) {
      await setRollout(pct);
      changes++;
      await healthy.waitFor((e) => e.event === 'definitions', `healthy event ${changes}`, changes);
    }
    assert.ok((await slowCount()) >= 1, 'the slow reader was closed');
    const res = await fetch(`${bases[1]}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token, distinct_id: 'u' }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    // The server, not this test, ended the slow stream: reading on reaches its end.
    slow.resume();
    await healthy.waitUntil(() => closed, 'the slow stream to be closed by the server');
  });

  test('shutdown ends every stream of the node cleanly', async () => {
    const r = await open(defsUrl(2), auth());
    const f = await open(`${bases[2]}/flags/stream?token=${token}`);
    await r.waitFor((e) => e.event === 'definitions', 'first event');
    await f.waitFor((e) => e.event === 'connected', 'connected');
    await apps[2]!.close();
    await r.waitUntil(() => r.ended && f.ended, 'streams to end');
    assert.ok(r.comments.includes('shutdown'));
    assert.equal(apps[2]!.server.vexilStreams.size, 0);
  });
});
