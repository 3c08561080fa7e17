/**
 * Issue 15, "Faults across nodes": two Vexil processes on one PostgreSQL schema and one Redis,
 * under bounded keep-alive /flags load on both, while Redis `CLIENT KILL` cuts every connection
 * the two nodes hold (found by the names Vexil gives them, `<prefix>:bus-pub|bus-sub|mirror`:
 * nobody else's). Three rounds: right after each kill a flag change and a person write go through
 * node A, and node B must answer both (through NOTIFY, or through Redis once ioredis reconnected);
 * then both nodes rejoin Redis (their named connections are back, the subscribers subscribed).
 * The revision poll and the person cache's age cap are an hour, so only notices can deliver.
 * Figures printed with `FAULT-FIGURES`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { startKeepAliveLoad, type LoadRequest } from '../../helpers/keep-alive-load.ts';
import { call, dropRedisKeys, FAULT_KEY, killVexilRedisClients, printFigures, seedToggleProject, startFaultNode, stopNode, until, vexilRedisClients } from '../../helpers/fault-nodes.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import type { VexilProcess } from '../../helpers/vexil-process.ts';

const ROUNDS = 3;
/** Three named connections per node (bus publisher, bus subscriber, mirror). */
const CLIENTS_PER_NODE = 3;

describe('issue 15: Redis CLIENT KILL of both nodes’ connections under load', () => {
  let ts: TestStore;
  let project = { id: 0, token: '' };
  let toggleId = 0;
  const prefix = `f15r_${randomBytes(4).toString('hex')}`;
  const nodes: VexilProcess[] = [];
  const ports = { a: 0, b: 0 };
  const figures: Record<string, unknown> = {};

  before(async () => {
    await requireRedis();
    ts = await openTestStore('postgres');
    ({ project, toggleId } = await seedToggleProject(ts.store, 'redis-kill'));
    for (const name of ['a', 'b'] as const) {
      // An hour of revision poll, and so of person cache age: only notices can deliver.
      const { node, port } = await startFaultNode({ schema: ts.options.schema!, appName: `f15r_${ts.options.schema}`, prefix, redisUrl: REDIS_URL });
      nodes.push(node);
      ports[name] = port;
    }
  });

  after(async () => {
    for (const node of nodes) await stopNode(node);
    await ts?.cleanup();
    await dropRedisKeys(prefix).catch(() => undefined);
    printFigures('issue-15-redis-kill', figures);
  });

  const flags = async (port: number, distinctId = 'u1') =>
    (await call(port, 'POST', '/flags?v=2', { body: { token: project.token, distinct_id: distinctId } })).json as { flags: Record<string, { enabled: boolean }> };
  /** Both nodes hold all three named connections, and both subscribers are subscribed. */
  const joined = async () => {
    const clients = await vexilRedisClients(prefix);
    return clients.length === 2 * CLIENTS_PER_NODE && clients.filter((c) => c.name === `${prefix}:bus-sub` && c.sub >= 1).length === 2;
  };

  test('both nodes keep answering, changes made right after a kill reach the other node, both rejoin Redis', async () => {
    await until(joined, 'both nodes to hold their Redis connections');
    // B serves the project and caches u1 (plan free): only a person notice can replace that.
    assert.equal((await flags(ports.b)).flags['pro-plan']?.enabled, false);
    const load = (port: number) =>
      startKeepAliveLoad({
        port,
        workers: 2,
        next: (i): LoadRequest => ({ method: 'POST', path: '/flags?v=2', body: JSON.stringify({ token: project.token, distinct_id: `load-${i % 200}` }) }),
        maxRequests: 40_000,
        maxMs: 60_000,
      });
    const loads = [load(ports.a), load(ports.b)];
    const rounds: Record<string, number>[] = [];
    try {
      await Promise.all(loads.map((l) => l.reached(200)));
      for (let round = 0; round < ROUNDS; round++) {
        const active = round % 2 === 0;
        const plan = active ? 'pro' : 'free';
        const killed = await killVexilRedisClients(prefix);
        const killedAt = performance.now();
        // Right after the kill, through node A, while its connections reconnect: a person write
        // and a flag change.
        const [captured, patched] = await Promise.all([
          call(ports.a, 'POST', '/capture/', { body: { api_key: project.token, event: '$set', distinct_id: 'u1', properties: { $set: { plan } } } }),
          call(ports.a, 'PATCH', `/api/projects/${project.id}/feature_flags/${toggleId}/`, { body: { active }, bearer: FAULT_KEY }),
        ]);
        assert.equal(captured.status, 200, captured.text);
        assert.equal(patched.status, 200, patched.text);
        const flagSeenMs = await until(async () => ((await flags(ports.b)).flags.toggle?.enabled ?? false) === active, `round ${round}: node B to answer toggle=${active}`);
        const personSeenMs = await until(async () => (await flags(ports.b)).flags['pro-plan']?.enabled === active, `round ${round}: node B to answer u1 with plan=${plan}`);
        await until(joined, `round ${round}: both nodes to rejoin Redis`);
        const rejoinMs = performance.now() - killedAt;
        rounds.push({ killed, flagSeenMs, personSeenMs, rejoinMs });
        assert.equal(killed, 2 * CLIENTS_PER_NODE, 'every named connection of both nodes was killed');
      }
      // Rejoined: a change after the last rejoin propagates too.
      const patched = await call(ports.a, 'PATCH', `/api/projects/${project.id}/feature_flags/${toggleId}/`, { body: { active: true }, bearer: FAULT_KEY });
      assert.equal(patched.status, 200);
      figures.afterRejoinMs = await until(async () => (await flags(ports.b)).flags.toggle?.enabled === true, 'node B to answer toggle=true after the rejoin');
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
    const results = loads.map((l) => l.result);
    Object.assign(figures, {
      rounds: rounds.length,
      clientsKilledPerRound: rounds.map((r) => r.killed),
      flagSeenMs: rounds.map((r) => Math.round(r.flagSeenMs!)),
      personSeenMs: rounds.map((r) => Math.round(r.personSeenMs!)),
      rejoinMs: rounds.map((r) => Math.round(r.rejoinMs!)),
      flagsSent: results.reduce((n, r) => n + r.sent, 0),
      flagsNon200: results.reduce((n, r) => n + (r.sent - r.ok), 0),
      failures: Object.fromEntries(results.flatMap((r) => [...r.failures])),
    });
    for (const r of results) assert.equal(r.failures.size, 0, `every /flags answer is 200: ${JSON.stringify(Object.fromEntries(r.failures))}`);
    for (const port of [ports.a, ports.b]) assert.equal((await call(port, 'GET', '/_readiness')).json.status, 'ok');
    for (const node of nodes) assert.equal(node.child.exitCode, null, 'both nodes still run');
  });
});
