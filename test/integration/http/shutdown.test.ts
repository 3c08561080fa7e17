// Issue 13 part 4: SIGTERM under keep-alive load drains (Connection: close, idle sockets closed,
// exit 0 before VEXIL_SHUTDOWN_TIMEOUT_MS), and a rolling restart of two nodes behind a load
// balancer that retries only refused connects loses no request. Real processes, real PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';
import { startKeepAliveLoad, type LoadRequest, type LoadResult } from '../../helpers/keep-alive-load.ts';
import { startTcpBalancer } from '../../helpers/tcp-balancer.ts';
import { freePort, spawnVexil, type VexilProcess } from '../../helpers/vexil-process.ts';
import { createProject } from './http-helpers.ts';

const BOOTSTRAP_KEY = 'shutdown-test-key-0123456789';
/** Keep-alive workers (connections) of the load; BENCHMARKS.md's Faults runs also use 32. */
const WORKERS = Number(process.env.VEXIL_FAULT_TEST_WORKERS ?? 8);
/** Generous: exit code 0 (not the forced exit's 1) is what proves the drain finished in time. */
const SHUTDOWN_TIMEOUT_MS = '10000';

describe('shutdown under keep-alive load (postgres store)', () => {
  let ts: TestStore;
  let token = '';
  let databaseUrl = '';
  const running = new Set<VexilProcess>();

  before(async () => {
    ts = await openTestStore('postgres');
    token = (await createProject(ts.store, 'shutdown')).token;
    // Both nodes share the test file's schema through the connection's search_path.
    databaseUrl = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${ts.options.schema}`)}`;
  });
  after(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await ts.cleanup();
  });

  const startNode = async (port: number): Promise<VexilProcess> => {
    const node = spawnVexil({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
      VEXIL_SHUTDOWN_TIMEOUT_MS: SHUTDOWN_TIMEOUT_MS,
      VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
      // One in four requests is an admin call: a fast run exceeds the 480/min per-key budget (429s).
      VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
    });
    running.add(node);
    void node.exited.then(() => running.delete(node));
    await node.waitForLog('listening');
    return node;
  };
  /** SIGTERM, then the exit code and the drain time the node logged. */
  const terminate = async (node: VexilProcess) => {
    node.child.kill('SIGTERM');
    const { code } = await node.exited;
    const stopped = node.logs.find((l) => l.msg === 'stopped');
    return { code, drainMs: Number(stopped?.durationMs ?? NaN) };
  };
  const flags = (i: number): LoadRequest => ({ method: 'POST', path: '/flags?v=2', body: JSON.stringify({ token, distinct_id: `user-${i % 500}` }) });
  // Three of four requests take the /flags fast path; one goes through fastify and the store.
  const mixed = (i: number): LoadRequest =>
    i % 4 === 3 ? { method: 'GET', path: '/api/projects/', headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` } } : flags(i);
  const summary = (r: LoadResult) => `${r.ok}/${r.sent} ok, failures ${JSON.stringify(Object.fromEntries(r.failures))}, ${r.closeResponses} Connection: close`;

  test('SIGTERM under keep-alive load answers in-flight requests with Connection: close and exits 0', async () => {
    const port = await freePort();
    const node = await startNode(port);
    const workers = WORKERS;
    // Only the fast path: no fastify route closes a connection for it.
    const load = startKeepAliveLoad({ port, workers, next: flags, maxRequests: 20_000, maxMs: 60_000 });
    await load.reached(400);
    const { code, drainMs } = await terminate(node);
    const r = await load.stop();
    // Without a load balancer, requests after the listener closed are refused; nothing else may fail.
    const other = [...r.failures].filter(([k]) => k !== 'ECONNREFUSED');
    console.log(`single node: ${summary(r)}; exit ${code}; drain ${drainMs} ms`);
    assert.equal(code, 0, 'drained before the forced exit');
    assert.deepEqual(other, [], `no reset or dropped request: ${summary(r)}`);
    // Every busy connection was told to close by its last response.
    assert.ok(r.closeResponses >= workers, summary(r));
  });

  test('a rolling restart of two nodes behind a load balancer loses no request', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    let a = await startNode(portA);
    let b = await startNode(portB);
    const proxy = await startTcpBalancer([portA, portB]);
    const load = startKeepAliveLoad({ port: proxy.port, workers: WORKERS, next: mixed, maxRequests: 50_000, maxMs: 120_000 });
    try {
      await load.reached(400);
      const first = await terminate(a);
      a = await startNode(portA);
      await load.reached(load.result.sent + 400);
      const second = await terminate(b);
      b = await startNode(portB);
      await load.reached(load.result.sent + 400);
      const r = await load.stop();
      console.log(
        `rolling restart: ${summary(r)}; node A exit ${first.code} drain ${first.drainMs} ms, node B exit ${second.code} drain ${second.drainMs} ms; ` +
          `proxy: ${proxy.stats.forwarded} connections, ${proxy.stats.refusedRetries} refused connects retried`,
      );
      assert.equal(first.code, 0, 'node A drained before the forced exit');
      assert.equal(second.code, 0, 'node B drained before the forced exit');
      assert.equal(r.failures.size, 0, summary(r));
      assert.equal(r.ok, r.sent);
      assert.ok(r.closeResponses > 0, 'draining nodes closed their connections with Connection: close');
    } finally {
      await load.stop();
      await proxy.close();
      await Promise.all([terminate(a), terminate(b)]);
    }
  });
});
