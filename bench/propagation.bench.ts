/**
 * Propagation benchmark (issue 15): three Vexil nodes (single-process, the built server) on
 * loopback, one fresh PostgreSQL database and one Redis reached through a TCP proxy (in its own
 * process: bench/propagation/proxy-process.ts). 200 flag changes go through node 1's admin API,
 * one at a time; from each write's start, nodes 2 and 3 are polled every 2 ms (bounded) until
 * they answer with the change. Reported per phase, first with Redis, then with the Redis proxy
 * refusing (notices over PostgreSQL LISTEN/NOTIFY): p50/p99/max ms until nodes 2
 * and 3 answer, from the write's start and from node 1's answer to it, and how that time splits
 * (bench/propagation/timeline.ts: a listener beside the nodes stamps each notice, each node logs
 * when it serves a revision), plus the bare bus round trips measured in the same run.
 * The snapshot poll is set to an hour so only notices can make a node see a change.
 * The last line of output is one JSON object.
 *
 * Env: BENCH_CHANGES (default 200), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, recreateDatabase } from './http/pg.ts';
import { freePort, spawnNode, stop, waitForHttp, type Spawned } from './http/proc.ts';
import { requestJson } from './http/vexil-admin.ts';
import { startProxyProcess } from './propagation/proxy-process.ts';
import { busFloors, listenForNotices, reloadStamps, wallMs } from './propagation/timeline.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 200);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = 'vexil_bench_propagation';
const KEY = 'phx_bench_propagation_key_0001';
/** Per change and node: at most this many polls and this long before the change counts as lost. */
const MAX_POLLS = 5000;
const MAX_WAIT_MS = 5000;
/** Pause between two polls of one node: bounds the probe's own lag to this plus one /flags round trip. */
const POLL_PAUSE_MS = 2;
/** Redis prefix of the nodes; the NOTIFY channel is `<prefix>_definitions` (already a valid identifier). */
const PREFIX = `vexil_bench_propagation_${process.pid}`;
const LOAD_AT_START = Math.round(loadavg()[0]! * 10) / 10;
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
      VEXIL_REDIS_PREFIX: PREFIX,
      VEXIL_BOOTSTRAP_KEY: KEY,
      VEXIL_SNAPSHOT_POLL_SECONDS: '3600',
      VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
      // Single-process nodes, as the issue measures them; every worker would subscribe alike.
      VEXIL_WORKERS: '1',
      VEXIL_DATA_DIR: join(LOGS, `data-${i}`),
      // `snapshot reloaded` (info, once per swap) stamps when each node serves a revision.
      LOG_LEVEL: 'info',
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

/**
 * Polls `node` until it answers the change, pausing POLL_PAUSE_MS between polls (back-to-back
 * polls of two nodes during the write took CPU from node 1 and PostgreSQL on 2 vCPUs and slowed
 * the write they measure): wall ms of the answer and polls sent, or null when the bound passes.
 */
async function waitFor(node: Node, token: string, active: boolean, t0: number): Promise<{ at: number; polls: number } | null> {
  for (let i = 0; i < MAX_POLLS && wallMs() - t0 < MAX_WAIT_MS; i++) {
    if (await answers(node, token, active)) return { at: wallMs(), polls: i + 1 };
    await new Promise((r) => setTimeout(r, POLL_PAUSE_MS));
  }
  return null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const r1 = (v: number) => Math.round(v * 10) / 10;
/** p50/p99/max of `xs`, rounded to 0.1 ms. */
function stats(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((x, y) => x - y);
  return { p50: r1(percentile(s, 50)), p99: r1(percentile(s, 99)), max: r1(s.at(-1) ?? NaN), n: s.length };
}

/** One change as the benchmark saw it: wall ms stamps. */
interface ChangeRecord {
  t0: number;
  ack: number;
  /** Per polled node (2, 3): when it first answered the change, and polls sent; null = lost. */
  seen: ({ at: number; polls: number } | null)[];
}

async function runChanges(nodes: Node[], token: string, flagUrl: string, startActive: boolean): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  let active = startActive;
  for (let i = 0; i < CHANGES; i++) {
    active = !active;
    const t0 = wallMs();
    // Nodes 2 and 3 are polled from the write's start, not from node 1's answer: how fast node 1
    // answers its client (the response is built after the notice is out) is not propagation.
    const write = requestJson(flagUrl, { method: 'PATCH', headers: { authorization: `Bearer ${KEY}` }, body: { active } }).then(() => wallMs());
    const [ack, ...seen] = await Promise.all([write, ...nodes.slice(1).map((n) => waitFor(n, token, active, t0))]);
    out.push({ t0, ack: ack as number, seen: seen as ChangeRecord['seen'] });
  }
  return out;
}

/**
 * The phase's figures: end to end from the write's start (`from_write_start`) and from node 1's
 * answer (`from_write_ack`), and how that time splits, per change and polled node:
 * `write` (node 1 answers the PATCH), `node1_serves` (write start → node 1 serves the new revision:
 * its transaction, reload and compile), `notice` (write start → the notice reaches a listener
 * beside the nodes), `reload` (notice → the polled node serves the revision: mirror or database
 * read and compile), `probe` (→ the poll sees it: up to the 2 ms pause plus two /flags round trips),
 * `poll_rtt` (mean time per poll of the probe, which polls from the write's start).
 */
function summarize(records: ChangeRecord[], noticeAt: Map<number, number>, node1: Map<number, number>, polled: Map<number, number>[]): Record<string, unknown> {
  // The revision of change i is the first one noticed after its write started.
  const revisions = [...noticeAt.entries()].sort((a, b) => a[1] - b[1]);
  const split = { write: [] as number[], node1_serves: [] as number[], notice: [] as number[], reload: [] as number[], probe: [] as number[], poll_rtt: [] as number[] };
  const fromStart: number[] = [];
  const fromAck: number[] = [];
  let lost = 0;
  let unmatched = 0;
  for (const rec of records) {
    split.write.push(rec.ack - rec.t0);
    const rev = revisions.find(([, at]) => at >= rec.t0)?.[0];
    if (rev !== undefined && node1.has(rev)) split.node1_serves.push(node1.get(rev)! - rec.t0);
    if (rev !== undefined) split.notice.push(noticeAt.get(rev)! - rec.t0);
    rec.seen.forEach((seen, k) => {
      if (seen === null) {
        lost++;
        return;
      }
      fromStart.push(seen.at - rec.t0);
      fromAck.push(Math.max(0, seen.at - rec.ack));
      split.poll_rtt.push((seen.at - rec.t0) / seen.polls);
      const served = rev === undefined ? undefined : polled[k]!.get(rev);
      if (served === undefined) {
        unmatched++;
        return;
      }
      split.reload.push(served - noticeAt.get(rev!)!);
      split.probe.push(seen.at - served);
    });
  }
  return {
    changes: records.length,
    lost,
    from_write_start_ms: stats(fromStart),
    from_write_ack_ms: stats(fromAck),
    split_ms: Object.fromEntries(Object.entries(split).map(([k, v]) => [k, stats(v)])),
    unmatched_samples: unmatched,
  };
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  await recreateDatabase(DB);
  const target = new URL(REDIS_URL);
  const redisProxy = await startProxyProcess(target.hostname, Number(target.port || 6379));
  const nodes: Node[] = [];
  const listener = await listenForNotices(REDIS_URL, `${PREFIX}:definitions`, databaseUrl(DB), `${PREFIX}_definitions`);
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
    for (const n of nodes) await waitFor(n, project.api_token, false, wallMs());
    const floorsBefore = await busFloors(REDIS_URL, databaseUrl(DB), 50);
    say(`3 nodes up; ${CHANGES} changes through node 1, nodes 2 and 3 polled`);
    const withRedis = await runChanges(nodes, project.api_token, flagUrl, false);
    await redisProxy.send('refuse');
    const withNotify = await runChanges(nodes, project.api_token, flagUrl, CHANGES % 2 === 1);
    await redisProxy.send('forward');
    // Let the last reload lines reach the log files.
    await new Promise((r) => setTimeout(r, 500));
    const logs = nodes.map((n) => reloadStamps(n.proc.logFile, project.id));
    const polled = logs.slice(1);
    const redis = { ...summarize(withRedis, listener.stamps.redis, logs[0]!, polled), notice_bus: 'redis' };
    const notify = { ...summarize(withNotify, listener.stamps.pg, logs[0]!, polled), notice_bus: 'postgres notify' };
    say(`with redis: ${JSON.stringify(redis)}`);
    say(`redis down (postgres notify): ${JSON.stringify(notify)}`);
    const floors = { redis_pubsub_ms: stats(floorsBefore.redis_pubsub_ms), pg_notify_ms: stats(floorsBefore.pg_notify_ms) };
    const out = {
      bench: 'propagation',
      nodes: 3,
      changes_per_phase: CHANGES,
      target_p99_ms: 100,
      with_redis: redis,
      redis_down_pg_notify: notify,
      bare_bus_round_trip_same_run: floors,
      loadavg_1m_start_end: [LOAD_AT_START, r1(loadavg()[0]!)],
      date: new Date().toISOString(),
    };
    console.log(JSON.stringify(out));
  } finally {
    await listener.close();
    await Promise.all(nodes.map((n) => stop(n.proc)));
    await redisProxy.send('close');
  }
}

await main();
