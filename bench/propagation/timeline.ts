/**
 * @module bench/propagation/timeline
 * Where a change's propagation time goes, seen from outside the nodes: the benchmark listens on
 * the same Redis channel and PostgreSQL NOTIFY channel as the nodes (direct connections, not
 * through the proxy) and stamps each definitions notice as it arrives; each node logs
 * `snapshot reloaded` with the revision and the time it started serving it. All stamps are wall
 * clock ms on one machine.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Wall clock in ms with sub-ms precision (pino's `time` is Date.now(), same clock). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Notice arrival stamps per project revision, per bus. */
export interface NoticeStamps {
  redis: Map<number, number>;
  pg: Map<number, number>;
}

/** Listens to both buses; `close()` ends both connections. */
export async function listenForNotices(redisUrl: string, redisChannel: string, pgUrl: string, pgChannel: string): Promise<{ stamps: NoticeStamps; close(): Promise<void> }> {
  const stamps: NoticeStamps = { redis: new Map(), pg: new Map() };
  const stamp = (into: Map<number, number>, payload: string | undefined) => {
    const at = wallMs();
    try {
      const n = JSON.parse(payload ?? '') as { revision?: unknown; persons?: unknown };
      if (typeof n.revision === 'number' && !n.persons && !into.has(n.revision)) into.set(n.revision, at);
    } catch {
      // not a notice
    }
  };
  const sub = new Redis(redisUrl);
  sub.on('message', (_channel: string, message: string) => stamp(stamps.redis, message));
  await sub.subscribe(redisChannel);
  const listener = new pg.Client({ connectionString: pgUrl });
  await listener.connect();
  listener.on('notification', (msg) => stamp(stamps.pg, msg.payload));
  await listener.query(`LISTEN ${pgChannel}`);
  return {
    stamps,
    async close() {
      sub.disconnect();
      await listener.end();
    },
  };
}

/** revision → wall ms at which a node logged `snapshot reloaded` for `projectId`. */
export function reloadStamps(logFile: string, projectId: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('snapshot reloaded')) continue;
    try {
      const l = JSON.parse(line) as { msg?: string; projectId?: number; revision?: number; time?: number };
      if (l.msg === 'snapshot reloaded' && l.projectId === projectId && typeof l.revision === 'number' && typeof l.time === 'number' && !out.has(l.revision)) out.set(l.revision, l.time);
    } catch {
      // not JSON (a stack trace line)
    }
  }
  return out;
}

/**
 * Round trip of a bare notice on each bus, measured in the same run: what delivery alone costs
 * on this machine right now, the floor under any propagation figure. `samples` of each.
 */
export async function busFloors(redisUrl: string, pgUrl: string, samples: number): Promise<{ redis_pubsub_ms: number[]; pg_notify_ms: number[] }> {
  const channel = `vexil_bench_floor_${process.pid}`;
  const pub = new Redis(redisUrl);
  const sub = new Redis(redisUrl);
  const listener = new pg.Client({ connectionString: pgUrl });
  const notifier = new pg.Client({ connectionString: pgUrl });
  await Promise.all([listener.connect(), notifier.connect()]);
  try {
    let arrived: (() => void) | null = null;
    sub.on('message', () => arrived?.());
    await sub.subscribe(channel);
    listener.on('notification', () => arrived?.());
    await listener.query(`LISTEN ${channel}`);
    const roundTrip = async (send: () => Promise<unknown>) => {
      const got = new Promise<void>((resolve) => (arrived = resolve));
      const t0 = performance.now();
      await send();
      await got;
      return performance.now() - t0;
    };
    const redis: number[] = [];
    const notify: number[] = [];
    for (let i = 0; i < samples; i++) {
      redis.push(await roundTrip(() => pub.publish(channel, 'x')));
      notify.push(await roundTrip(() => notifier.query('SELECT pg_notify($1, $2)', [channel, 'x'])));
    }
    return { redis_pubsub_ms: redis, pg_notify_ms: notify };
  } finally {
    pub.disconnect();
    sub.disconnect();
    await Promise.all([listener.end(), notifier.end()]);
  }
}
