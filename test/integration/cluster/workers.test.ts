// Issue 15 "Every core": VEXIL_WORKERS=2 on PostgreSQL without Redis — a flag change made through
// one worker is answered at once by the other (the notice crosses the primary over IPC; the
// revision poll is set to an hour so it cannot be what delivers it), a killed worker is restarted,
// a rolling restart of one worker under keep-alive load loses no request, and SIGTERM to the
// primary drains every worker. On the embedded database the node runs one process and says so.
// Real processes, real PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';
import { startKeepAliveLoad, type LoadRequest, type LoadResult } from '../../helpers/keep-alive-load.ts';
import { freePort, spawnVexil, type VexilProcess } from '../../helpers/vexil-process.ts';
import { createProject } from '../http/http-helpers.ts';

const BOOTSTRAP_KEY = 'cluster-test-key-0123456789';
const LOAD_WORKERS = Number(process.env.VEXIL_FAULT_TEST_WORKERS ?? 8);

/** One request over `agent` (one keep-alive socket, so one worker); status and parsed JSON body. */
function call(port: number, agent: Agent, method: string, path: string, body?: unknown, auth = false): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth) headers.authorization = `Bearer ${BOOTSTRAP_KEY}`;
    const req = request({ host: '127.0.0.1', port, agent, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The pid of the worker behind this agent's one socket. */
const pidOf = async (port: number, agent: Agent) => (await call(port, agent, 'GET', '/_readiness')).json.pid as number;

/** Worker pids from the workers' 'listening' log lines (pino puts pid on every line). */
const listeningPids = (node: VexilProcess) => node.logs.filter((l) => l.msg === 'listening').map((l) => Number(l.pid));

describe('VEXIL_WORKERS=2 (postgres store)', () => {
  let ts: TestStore;
  let project = { id: 0, token: '' };
  let databaseUrl = '';
  let node: VexilProcess;
  let port = 0;

  before(async () => {
    ts = await openTestStore('postgres');
    project = await createProject(ts.store, 'cluster');
    databaseUrl = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${ts.options.schema}`)}`;
    port = await freePort();
    node = spawnVexil({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
      VEXIL_WORKERS: '2',
      VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
      VEXIL_SHUTDOWN_TIMEOUT_MS: '10000',
      // The load's admin requests would exhaust the per-key budget (and each worker has its own).
      VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
    });
    await node.waitForLog('listening', 2);
  });
  after(async () => {
    node.child.kill('SIGKILL');
    for (const pid of listeningPids(node)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ts.cleanup();
  });

  test('workers run with a young generation sized for serving (VEXIL_WORKER_SEMI_SPACE_MB, default 16)', () => {
    const pids = listeningPids(node);
    assert.equal(pids.length, 2);
    for (const pid of pids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('--max-semi-space-size=16'), `worker ${pid} runs ${argv.join(' ')}`);
    }
  });

  test('a flag created through one worker is answered by the other at once', async () => {
    // Distinct keep-alive sockets until both workers are behind one (bounded).
    const byPid = new Map<number, Agent>();
    const agents: Agent[] = [];
    for (let i = 0; i < 40 && byPid.size < 2; i++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      const pid = await pidOf(port, agent);
      if (!byPid.has(pid)) byPid.set(pid, agent);
    }
    try {
      assert.equal(byPid.size, 2, 'both workers answered');
      const [[pidA, a], [pidB, b]] = [...byPid];
      // Worker B compiles the project first, so it holds a snapshot the change must replace.
      const before = await call(port, b, 'POST', '/flags?v=2', { token: project.token, distinct_id: 'u1' });
      assert.equal(before.status, 200);
      assert.equal(before.json.flags['every-core'], undefined);
      const created = await call(port, a, 'POST', `/api/projects/${project.id}/feature_flags/`, { key: 'every-core', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, true);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        const res = await call(port, b, 'POST', '/flags?v=2', { token: project.token, distinct_id: 'u1' });
        seen = res.json.flags['every-core']?.enabled === true;
      }
      assert.ok(seen, 'worker B answers with the flag worker A created');
      assert.equal(await pidOf(port, b), pidB, 'the answers came from worker B');
      assert.equal(await pidOf(port, a), pidA);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  test('a worker that dies is restarted by the primary', async () => {
    const [victim] = listeningPids(node);
    const listening = listeningPids(node).length;
    process.kill(victim!, 'SIGKILL');
    const died = await node.waitForLog('worker died; restarting it');
    assert.equal(died.pid !== undefined, true);
    await node.waitForLog('listening', listening + 1);
  });

  test('a rolling restart of one worker under keep-alive load loses no request, then SIGTERM drains the node', async () => {
    const flags = (i: number): LoadRequest => ({ method: 'POST', path: '/flags?v=2', body: JSON.stringify({ token: project.token, distinct_id: `user-${i % 500}` }) });
    const mixed = (i: number): LoadRequest =>
      i % 4 === 3 ? { method: 'GET', path: '/api/projects/', headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` } } : flags(i);
    const summary = (r: LoadResult) => `${r.ok}/${r.sent} ok, failures ${JSON.stringify(Object.fromEntries(r.failures))}, ${r.closeResponses} Connection: close`;
    const load = startKeepAliveLoad({ port, workers: LOAD_WORKERS, next: mixed, maxRequests: 50_000, maxMs: 120_000 });
    let r: LoadResult;
    try {
      await load.reached(400);
      const pids = listeningPids(node);
      const listening = pids.length;
      const victim = pids[pids.length - 1]!;
      process.kill(victim, 'SIGTERM');
      await node.waitForLog('worker exited; starting a replacement');
      await node.waitForLog('listening', listening + 1);
      await load.reached(load.result.sent + 400);
    } finally {
      r = await load.stop();
    }
    console.log(`rolling worker restart: ${summary(r)}`);
    assert.equal(r.failures.size, 0, summary(r));
    assert.equal(r.ok, r.sent);
    assert.ok(r.closeResponses > 0, 'the draining worker closed its connections with Connection: close');

    node.child.kill('SIGTERM');
    const { code } = await node.exited;
    assert.equal(code, 0, 'every worker drained before the forced exit');
    assert.ok(node.logs.some((l) => l.msg === 'stopped' && l.pid === node.child.pid), 'the primary logged stopped');
  });
});

describe('VEXIL_WORKERS=2, start-up failure', () => {
  test('a worker that cannot start stops the node with exit 1 instead of restarting forever', async () => {
    // Port 1 on loopback refuses at once; no start-up retry.
    const node = spawnVexil({ PORT: String(await freePort()), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/vexil', VEXIL_WORKERS: '2', VEXIL_STARTUP_RETRY_SECONDS: '0' });
    try {
      await node.waitForLog('a worker failed to start; stopping the node');
      const { code } = await node.exited;
      assert.equal(code, 1);
      assert.equal(node.logs.filter((l) => l.msg === 'worker died; restarting it').length, 0);
    } finally {
      node.child.kill('SIGKILL');
    }
  });
});

describe('VEXIL_WORKERS=2 (embedded store)', () => {
  test('runs one process and says why', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vexil-cluster-'));
    const node = spawnVexil({ PORT: String(await freePort()), VEXIL_DATA_DIR: dataDir, VEXIL_WORKERS: '2', VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY });
    try {
      const line = await node.waitForLog(/^embedded database: running one process/);
      assert.equal(line.requested, 2);
      await node.waitForLog('listening');
      assert.equal(node.logs.filter((l) => l.msg === 'listening').length, 1);
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
