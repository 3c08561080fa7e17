/**
 * @module test/helpers/fault-nodes
 * Shared pieces of the issue 15 fault tests that run real Vexil processes: a node's database URL
 * (own schema, own `application_name`, so `pg_terminate_backend` hits only this test's
 * connections), one HTTP call on a fresh or pinned connection, a bounded poll, the test's own
 * Redis clients (found by the names Vexil gives them) and keys, and the figures line.
 */
import { Agent, request } from 'node:http';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { sqlOnce, TEST_DATABASE_URL } from './db.ts';
import { REDIS_URL } from './redis.ts';
import { freePort, spawnVexil, type VexilProcess } from './vexil-process.ts';
import type { Store } from '../../src/store/store.ts';
import { createProject, type TestProject } from '../integration/http/http-helpers.ts';

/** The shared test database, in `schema`, with connections named `appName` in pg_stat_activity. */
export function nodeDatabaseUrl(schema: string, appName: string): string {
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', appName);
  return u.toString();
}

/** An HTTP answer: status, raw text, and the parsed JSON body when there is one. */
export interface Answer {
  status: number;
  text: string;
  json: any;
}

/**
 * One request to 127.0.0.1:port. Without `agent` it uses a fresh connection (closed after), so
 * with VEXIL_WORKERS > 1 the node's primary picks the worker; with a one-socket keep-alive agent
 * it goes to the worker behind that socket.
 */
export function call(port: number, method: string, path: string, options: { body?: unknown; bearer?: string; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: options.agent ?? false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          // plain-text answers (PostHog's /flags errors) stay in `text`
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/**
 * Polls `check` until it holds, at most `tries` times and `limitMs` in all (every loop in these
 * tests is bounded); resolves with the ms waited, fails the test naming `what` otherwise.
 */
export async function until(check: () => Promise<boolean>, what: string, { tries = 400, limitMs = 20_000, pauseMs = 25 } = {}): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < tries && performance.now() - started < limitMs; i++) {
    if (await check().catch(() => false)) return performance.now() - started;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** One line of `CLIENT LIST`, the fields these tests read. */
export interface RedisClientInfo {
  id: string;
  name: string;
  addr: string;
  /** Channels the connection is subscribed to. */
  sub: number;
}

/** Runs `work` with a short-lived Redis connection of the test's own. */
async function withRedis<T>(work: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => undefined);
  await r.connect();
  try {
    return await work(r);
  } finally {
    r.disconnect();
  }
}

/** Vexil's connections for one key prefix: named `<prefix>:bus-pub`, `<prefix>:bus-sub`, `<prefix>:mirror`. */
export async function vexilRedisClients(prefix: string): Promise<RedisClientInfo[]> {
  const list = (await withRedis((r) => r.call('CLIENT', 'LIST'))) as string;
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
    .filter((f) => typeof f.name === 'string' && f.name.startsWith(`${prefix}:`))
    .map((f) => ({ id: f.id!, name: f.name!, addr: f.addr!, sub: Number(f.sub ?? 0) }));
}

/** `CLIENT KILL ID` for each of Vexil's connections of this prefix (only this test's); how many went. */
export async function killVexilRedisClients(prefix: string): Promise<number> {
  const clients = await vexilRedisClients(prefix);
  let killed = 0;
  await withRedis(async (r) => {
    for (const c of clients) killed += Number(await r.call('CLIENT', 'KILL', 'ID', c.id));
  });
  return killed;
}

/** Deletes every key under `<prefix>:` (the definitions mirror never expires its keys). */
export async function dropRedisKeys(prefix: string): Promise<void> {
  await withRedis(async (r) => {
    let cursor = '0';
    for (let i = 0; i < 1000; i++) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await r.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  });
}

/** `pg_terminate_backend` of every connection named `appName` (only this test's); how many. */
export async function terminateBackends(appName: string): Promise<number> {
  const rows = await sqlOnce<{ n: number }>(TEST_DATABASE_URL, 'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName]);
  return rows[0]?.n ?? 0;
}

/**
 * How many connections named `appName` are the NOTIFY change bus's (their last statement was its
 * `LISTEN` or one of its `pg_notify` calls: the store's pool never sends either).
 */
export async function listeningConnections(appName: string): Promise<number> {
  const rows = await sqlOnce<{ n: number }>(
    TEST_DATABASE_URL,
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND (query LIKE 'LISTEN %' OR query LIKE 'SELECT pg_notify(%')`,
    [appName],
  );
  return rows[0]?.n ?? 0;
}

/** Worker pids of a node from their 'listening' log lines (pino puts pid on every line). */
export const listeningPids = (node: VexilProcess): number[] => node.logs.filter((l) => l.msg === 'listening').map((l) => Number(l.pid));

/** SIGTERM, waits for the exit (bounded), then SIGKILLs anything left, workers included. */
export async function stopNode(node: VexilProcess): Promise<{ code: number | null }> {
  const pids = listeningPids(node);
  node.child.kill('SIGTERM');
  const timeout = new Promise<{ code: null }>((resolve) => setTimeout(() => resolve({ code: null }), 15_000).unref());
  const exit = await Promise.race([node.exited, timeout]);
  for (const pid of [node.child.pid, ...pids]) {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return { code: exit.code };
}

/** Prints a test's figures on one line with a fixed prefix, for BENCHMARKS.md ("Faults across nodes (#15)"). */
export function printFigures(name: string, figures: Record<string, unknown>): void {
  const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]));
  console.log(`FAULT-FIGURES ${name} ${JSON.stringify(rounded)}`);
}

/** Flag filters the fault tests use: everyone, and persons whose stored `plan` is `pro`. */
export const EVERYONE = { groups: [{ properties: [], rollout_percentage: 100 }] };
export const PRO_PLAN = { groups: [{ properties: [{ key: 'plan', value: ['pro'], operator: 'exact', type: 'person' }], rollout_percentage: 100 }] };

/**
 * A project with an inactive `toggle` flag (for everyone: flipping it is the change a test
 * propagates), an active `pro-plan` flag (needs stored person data) and person `u1` on plan free.
 */
export async function seedToggleProject(store: Store, name: string): Promise<{ project: TestProject; toggleId: number }> {
  const project = await createProject(store, name);
  const toggleId = (await store.createFlag(project.id, { key: 'toggle', name: 'toggle', active: false, filters: EVERYONE }, 'test')).id;
  await store.createFlag(project.id, { key: 'pro-plan', name: 'pro', active: true, filters: PRO_PLAN }, 'test');
  await store.applyPersonUpdates(project.id, [{ distinctId: 'u1', set: { plan: 'free' } }]);
  return { project, toggleId };
}

/** The full-access personal API key every fault-test node is bootstrapped with. */
export const FAULT_KEY = 'phx_issue15_fault_nodes_key_0123456789';

/**
 * Starts one Vexil node for a fault test: the test's schema under its own `application_name`,
 * Redis (when `redisUrl` is given) under its own key prefix, FAULT_KEY, and a revision poll of an
 * hour (only a notice can deliver a change within a test). Resolves once every worker listens.
 */
export async function startFaultNode(options: {
  schema: string;
  appName: string;
  prefix: string;
  redisUrl?: string;
  workers?: number;
  env?: Record<string, string>;
}): Promise<{ node: VexilProcess; port: number }> {
  const port = await freePort();
  const workers = options.workers ?? 1;
  const node = spawnVexil({
    PORT: String(port),
    DATABASE_URL: nodeDatabaseUrl(options.schema, options.appName),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    // Own keys, Redis channel and NOTIFY channel (derived from the prefix): other runs stay apart.
    VEXIL_REDIS_PREFIX: options.prefix,
    VEXIL_BOOTSTRAP_KEY: FAULT_KEY,
    VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
    // Test loads send admin requests faster than the default per-key budget allows.
    VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
    VEXIL_WORKERS: String(workers),
    ...options.env,
  });
  await node.waitForLog('listening', workers);
  return { node, port };
}
