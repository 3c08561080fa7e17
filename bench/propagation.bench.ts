/**
 * Propagation benchmark (issue 15): three Vexil nodes (child processes of the built server) on
 * loopback, one fresh PostgreSQL database and one Redis reached through a TCP proxy. 200 flag
 * changes go through node 1's admin API; after each, nodes 2 and 3 are polled (bounded) until
 * they answer with the change. Reported: p50/p99/max ms from sending the write to the answer,
 * first with Redis, then with the Redis proxy refusing (notices over PostgreSQL LISTEN/NOTIFY).
 * The snapshot poll is set to an hour so only notices can make a node see a change.
 * The last line of output is one JSON object.
 *
 * Env: BENCH_CHANGES (default 200), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTcpProxy } from '../test/helpers/tcp-proxy.ts';
import { databaseUrl, recreateDatabase } from './http/pg.ts';
import { freePort, spawnNode, stop, waitForHttp, type Spawned } from './http/proc.ts';
import { requestJson } from './http/vexil-admin.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = 'vexil_bench_propagation';
const KEY = 'phx_bench_propagation_key_0001';
/** Per change and node: at most this many polls and this long before the change counts as lost. */
const MAX_POLLS = 5000;
const MAX_WAIT_MS = 5000;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOGS = join(ROOT, 'dist', 'bench-propagation');

const say = (line: string) => process.stderr.write(`${line}\n`);

interface Node {
  proc: Spawned;
  base: string;
}

async function startNode(i: number, redisPort: number): Promise<Node> {
  const port = await freePort();
  const redis = new URL(REDIS_URL);
  redis.port = String(redisPort);
  const proc = spawnNode([join(ROOT, 'dist', 'src', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl(DB),
      REDIS_URL: redis.toString(),
      VEXIL_REDIS_PREFIX: `vexil_bench_propagation_${process.pid}`,
      VEXIL_BOOTSTRAP_KEY: KEY,
      VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
      VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
      // Single-process nodes, as the issue measures them; every worker would subscribe alike.
      VEXIL_WORKERS: '1',
      VEXIL_DATA_DIR: join(LOGS, `data-${i}`),
      LOG_LEVEL: 'warn',
    },
    logFile: join(LOGS, `node-${i}.log`),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/_liveness`, { timeoutMs: 60_000, proc });
  return { proc, base };
}

/** Whether `node` answers the flag as `active` (an inactive flag is absent from /flags). */
async function answers(node: Node, token: string, active: boolean): Promise<boolean> {
  const res = await fetch(`${node.base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token, distinct_id: 'bench' }), headers: { 'content-type': 'application/json' } });
  const body = (await res.json()) as { flags?: Record<string, { enabled?: boolean }> };
  return (body.flags?.bench?.enabled ?? false) === active;
}

/** Polls `node` until it answers the change; ms since `t0`, or null when the bound passes. */
async function waitFor(node: Node, token: string, active: boolean, t0: number): Promise<number | null> {
  for (let i = 0; i < MAX_POLLS && performance.now() - t0 < MAX_WAIT_MS; i++) {
    if (await answers(node, token, active)) return performance.now() - t0;
  }
  return null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Phase {
  changes: number;
  lost: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  write_p50_ms: number;
  write_p99_ms: number;
  after_ack_p50_ms: number;
  after_ack_p99_ms: number;
}

async function runPhase(name: string, nodes: Node[], token: string, flagUrl: string, startActive: boolean): Promise<Phase> {
  const samples: number[] = [];
  const writes: number[] = [];
  const afterAck: number[] = [];
  let lost = 0;
  let active = startActive;
  for (let i = 0; i < CHANGES; i++) {
    active = !active;
    const t0 = performance.now();
    await requestJson(flagUrl, { method: 'PATCH', headers: { authorization: `Bearer ${KEY}` }, body: { active } });
    const written = performance.now() - t0;
    writes.push(written);
    const seen = await Promise.all(nodes.slice(1).map((n) => waitFor(n, token, active, t0)));
    for (const ms of seen) {
      if (ms === null) lost++;
      else {
        samples.push(ms);
        afterAck.push(Math.max(0, ms - written));
      }
    }
  }
  samples.sort((x, y) => x - y);
  writes.sort((x, y) => x - y);
  afterAck.sort((x, y) => x - y);
  const r = (v: number) => Math.round(v * 10) / 10;
  const phase = {
    changes: CHANGES,
    lost,
    p50_ms: r(percentile(samples, 50)),
    p99_ms: r(percentile(samples, 99)),
    max_ms: r(samples.at(-1) ?? NaN),
    // The admin write's own answer time (node 1 commits, rebuilds, mirrors, publishes before it answers).
    write_p50_ms: r(percentile(writes, 50)),
    write_p99_ms: r(percentile(writes, 99)),
    // From node 1's answer to the write until the other node answers the change.
    after_ack_p50_ms: r(percentile(afterAck, 50)),
    after_ack_p99_ms: r(percentile(afterAck, 99)),
  };
  say(`${name}: ${JSON.stringify(phase)}`);
  return phase;
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  await recreateDatabase(DB);
  const target = new URL(REDIS_URL);
  const redisProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const nodes: Node[] = [];
  try {
    // Node 1 first: it migrates and bootstraps; the others find the schema ready.
    nodes.push(await startNode(1, redisProxy.port));
    for (const i of [2, 3]) nodes.push(await startNode(i, redisProxy.port));
    const auth = { authorization: `Bearer ${KEY}` };
    const project = (await requestJson(`${nodes[0]!.base}/api/projects/`, { method: 'POST', headers: auth, body: { name: 'propagation' } })) as { id: number; api_token: string };
    const flag = (await requestJson(`${nodes[0]!.base}/api/projects/${project.id}/feature_flags/`, {
      method: 'POST',
      headers: auth,
      body: { key: 'bench', active: false, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
    })) as { id: number };
    const flagUrl = `${nodes[0]!.base}/api/projects/${project.id}/feature_flags/${flag.id}/`;
    // Every node serves the project before the first change (the first load is not propagation).
    for (const n of nodes) await waitFor(n, project.api_token, false, performance.now());
    say(`3 nodes up; ${CHANGES} changes through node 1, nodes 2 and 3 polled`);
    const redis = await runPhase('with redis', nodes, project.api_token, flagUrl, false);
    await redisProxy.refuse();
    const notify = await runPhase('redis down (postgres notify)', nodes, project.api_token, flagUrl, CHANGES % 2 === 1);
    await redisProxy.forward();
    const out = { bench: 'propagation', nodes: 3, changes_per_phase: CHANGES, target_p99_ms: 100, with_redis: redis, redis_down_pg_notify: notify, date: new Date().toISOString() };
    console.log(JSON.stringify(out));
  } finally {
    await Promise.all(nodes.map((n) => stop(n.proc)));
    await redisProxy.close();
  }
}

await main();
