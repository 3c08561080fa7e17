/**
 * Issue 15, "Faults across nodes": a node that starts while Redis is unreachable. Node A reaches
 * Redis directly; node B through a TCP proxy that is stopped before B starts (connections
 * refused). B starts, serves, and hears node A's flag changes and person writes through
 * PostgreSQL NOTIFY; its readiness says which notice paths it is on. When the proxy starts, B
 * rejoins Redis (its named connections appear, its subscriber subscribes), says so in readiness,
 * and a change then still reaches it. The revision poll and the person cache's age cap are an
 * hour, so only notices can deliver. Figures printed with `FAULT-FIGURES`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { call, dropRedisKeys, FAULT_KEY, printFigures, seedToggleProject, startFaultNode, stopNode, until, vexilRedisClients } from '../../helpers/fault-nodes.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import type { VexilProcess } from '../../helpers/vexil-process.ts';

describe('issue 15: a node started while Redis is unreachable', () => {
  let ts: TestStore;
  let proxy: TcpProxy;
  let project = { id: 0, token: '' };
  let toggleId = 0;
  const prefix = `f15s_${randomBytes(4).toString('hex')}`;
  const nodes: VexilProcess[] = [];
  const ports = { a: 0, b: 0 };
  const figures: Record<string, unknown> = {};

  before(async () => {
    await requireRedis();
    ts = await openTestStore('postgres');
    ({ project, toggleId } = await seedToggleProject(ts.store, 'redis-start'));
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.refuse();
  });

  after(async () => {
    for (const node of nodes) await stopNode(node);
    await proxy?.close();
    await ts?.cleanup();
    await dropRedisKeys(prefix).catch(() => undefined);
    printFigures('issue-15-redis-start', figures);
  });

  const start = async (redisUrl: string) => {
    const started = await startFaultNode({ schema: ts.options.schema!, appName: `f15s_${ts.options.schema}`, prefix, redisUrl });
    nodes.push(started.node);
    return started;
  };
  const flags = async (port: number) =>
    (await call(port, 'POST', '/flags?v=2', { body: { token: project.token, distinct_id: 'u1' } })).json as { flags: Record<string, { enabled: boolean }> };
  const readiness = async (port: number) => (await call(port, 'GET', '/_readiness')).json as { status: string; changeNotices?: Record<string, boolean> };
  /** A flag change and a person write through node A; ms until node B answers both. */
  const changeThroughA = async (active: boolean) => {
    const patched = await call(ports.a, 'PATCH', `/api/projects/${project.id}/feature_flags/${toggleId}/`, { body: { active }, bearer: FAULT_KEY });
    assert.equal(patched.status, 200, patched.text);
    const captured = await call(ports.a, 'POST', '/capture/', { body: { api_key: project.token, event: '$set', distinct_id: 'u1', properties: { $set: { plan: active ? 'pro' : 'free' } } } });
    assert.equal(captured.status, 200, captured.text);
    const flagMs = await until(async () => ((await flags(ports.b)).flags.toggle?.enabled ?? false) === active, `node B to answer toggle=${active}`);
    const personMs = await until(async () => (await flags(ports.b)).flags['pro-plan']?.enabled === active, `node B to answer u1 with plan ${active ? 'pro' : 'free'}`);
    return { flagMs, personMs };
  };

  test('node B starts without Redis, hears changes over NOTIFY, and rejoins Redis when it comes', async () => {
    ports.a = (await start(REDIS_URL)).port;
    const startedAt = performance.now();
    const b = await start(`redis://127.0.0.1:${proxy.port}`);
    ports.b = b.port;
    figures.startWithoutRedisMs = performance.now() - startedAt;
    assert.ok(b.node.logs.some((l) => l.msg === 'redis unreachable; change notices fall back to polling'), 'B says Redis is unreachable');
    // B serves, and caches u1 (plan free): only a person notice can replace that.
    assert.equal((await flags(ports.b)).flags['pro-plan']?.enabled, false);
    const readyDown = await readiness(ports.b);
    assert.equal(readyDown.status, 'ok', 'the database answers: B is ready');
    assert.deepEqual(readyDown.changeNotices, { redis: false, postgres: true }, 'readiness says B hears notices over NOTIFY only');
    assert.equal((await vexilRedisClients(prefix)).length, 3, 'only node A is on Redis');

    const overNotify = await changeThroughA(true);
    Object.assign(figures, { notifyFlagMs: overNotify.flagMs, notifyPersonMs: overNotify.personMs });

    await proxy.forward();
    const forwardedAt = performance.now();
    await until(async () => {
      const clients = await vexilRedisClients(prefix);
      return clients.length === 6 && clients.filter((c) => c.name === `${prefix}:bus-sub` && c.sub >= 1).length === 2;
    }, 'node B to rejoin Redis');
    figures.rejoinMs = performance.now() - forwardedAt;
    figures.readinessUpMs = await until(async () => (await readiness(ports.b)).changeNotices?.redis === true, 'B’s readiness to say it is on Redis');

    const afterRejoin = await changeThroughA(false);
    Object.assign(figures, { afterRejoinFlagMs: afterRejoin.flagMs, afterRejoinPersonMs: afterRejoin.personMs });
    for (const node of nodes) assert.equal(node.child.exitCode, null, 'both nodes still run');
  });
});
