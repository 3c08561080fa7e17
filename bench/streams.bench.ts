/**
 * @module bench/streams.bench
 * `npm run bench:streams` (issue 18). Two Vexil nodes in this process on one PostgreSQL schema
 * (DATABASE_URL, default the test database; dropped at the end) and one Redis channel
 * (REDIS_URL, default 127.0.0.1:6379), listening on loopback.
 *  1. Change-to-delivery: M edits (VEXIL_BENCH_CHANGES, default 100, at most 30 s) written
 *     through node A (store write + notify, as the admin API does); the time from the start of
 *     the write (and from its commit: A rebuilds, Redis, B reloads and sends) until a reader on
 *     node B holds the new revision. p50/p99/max.
 *  2. Memory per idle stream: a child process opens N (VEXIL_BENCH_STREAMS, default 10,000)
 *     `/flags/definitions/stream` connections to node B; node B's heap and RSS growth after GC,
 *     divided by N.
 *  3. Change-to-delivery again while the N idle streams are open and receive every change too
 *     (the reader measured is the last one B writes to). Client and server share the machine.
 * The last line of output is one JSON object.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createApp, type App } from '../src/app.ts';
import { RedisChangeBus } from '../src/cache/redis/redis-change-bus.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { definitionsFrame } from '../src/http/streams/definitions-stream.ts';
import { openStore } from '../src/store/open-store.ts';
import { dropSchema } from '../test/helpers/db.ts';

const DB_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STREAMS = Number(process.env.VEXIL_BENCH_STREAMS ?? 10_000);
const CHANGES = Number(process.env.VEXIL_BENCH_CHANGES ?? 100);
const CHANGES_MAX_MS = 30_000;

const gc = (globalThis as { gc?: () => void }).gc;
function settledMemory(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** A reader that records when each revision arrives. */
function revisionReader(url: string, authorization: string, onRevision: (revision: number) => void): () => void {
  const req = request(url, { headers: { authorization, accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      for (const m of chunk.matchAll(/^id: (\d+)$/gm)) onRevision(Number(m[1]));
    });
  });
  req.end();
  return () => req.destroy();
}

async function main(): Promise<void> {
  const schema = `vexil_bench_${randomBytes(5).toString('hex')}`;
  const store = await openStore({ databaseUrl: DB_URL, dataDir: '', schema, poolSize: 8 });
  const log = createLogger('silent');
  const channel = `vexil:bench:${schema}`;
  const buses: RedisChangeBus[] = [];
  const apps: App[] = [];
  const config = loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600' });
  try {
    await store.migrate();
    for (let i = 0; i < 2; i++) {
      const bus = await RedisChangeBus.open({ url: REDIS, channel, log });
      buses.push(bus);
      const app = await createApp(config, { store, bus, log, print: () => undefined, defaultMetrics: false, webDir: null });
      await app.server.listen({ host: '127.0.0.1', port: 0 });
      apps.push(app);
    }
    const [a, b] = apps as [App, App];
    const project = a.bootstrap.project!;
    const auth = `Bearer ${a.bootstrap.personalApiKey!}`;
    const portB = (b.server.server.address() as AddressInfo).port;
    const path = `/flags/definitions/stream?token=${project.apiToken}`;
    // A realistic small project: twenty flags.
    let flagId = 0;
    for (let i = 0; i < 20; i++) {
      const f = await store.createFlag(project.id, { key: `flag-${i}`, name: '', active: true, filters: { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 50 }] } }, 'bench');
      flagId = f.id;
    }
    await a.notifyDefinitionsChanged(project.id);
    await b.snapshots.get(project.id);

    // Change-to-delivery, node A → node B: from the start of the write, and from its commit.
    let latest = 0;
    let waiting: { revision: number; resolve: () => void } | null = null;
    const stop = revisionReader(`http://127.0.0.1:${portB}${path}`, auth, (revision) => {
      latest = Math.max(latest, revision);
      if (waiting && latest >= waiting.revision) waiting.resolve();
    });
    let round_ = 0;
    const measure = async () => {
      const fromWrite: number[] = [];
      const fromCommit: number[] = [];
      const deadline = performance.now() + CHANGES_MAX_MS;
      for (let i = 0; i < CHANGES && performance.now() < deadline; i++) {
        // Every write moves the revision, so "delivered" = B's reader saw a revision above the last one.
        const seen = latest;
        const delivered = new Promise<void>((resolve) => (waiting = { revision: seen + 1, resolve }));
        const t0 = performance.now();
        await store.updateFlag(project.id, flagId, { filters: { groups: [{ properties: [], rollout_percentage: round_++ % 100 }] } }, 'bench');
        const t1 = performance.now();
        await a.notifyDefinitionsChanged(project.id);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
        if ((await Promise.race([delivered, timeout])) === 'timeout') throw new Error(`change ${i} not delivered to node B within 5 s`);
        const t2 = performance.now();
        fromWrite.push(t2 - t0);
        fromCommit.push(t2 - t1);
      }
      waiting = null;
      const stats = (xs: number[]) => {
        xs.sort((x, y) => x - y);
        return { p50: round(percentile(xs, 0.5)), p99: round(percentile(xs, 0.99)), max: round(xs[xs.length - 1]!) };
      };
      return { changes: fromWrite.length, fromWriteMs: stats(fromWrite), fromCommitMs: stats(fromCommit) };
    };
    await new Promise((r) => setTimeout(r, 200));
    const quiet = await measure();
    console.log(`change-to-delivery, no other streams: ${JSON.stringify(quiet)}`);

    // Idle streams: memory, then the same changes fanned out to all of them.
    const before = settledMemory();
    // Compiled (npm run bench:streams) or under tsx while developing.
    const ts = import.meta.url.endsWith('.ts');
    const script = new URL(`./fixtures/sse-idle-clients.${ts ? 'ts' : 'js'}`, import.meta.url);
    const child = fork(script, [String(portB), path, auth, String(STREAMS)], { stdio: 'inherit', execArgv: ts ? ['--import', 'tsx'] : [] });
    const reply = (type: string) => new Promise<Record<string, number>>((resolve) => child.once('message', (m: { type: string }) => m.type === type && resolve(m as never)));
    const opened = await reply('open');
    const afterOpen = settledMemory();
    const perStream = { heapBytes: round((afterOpen.heap - before.heap) / STREAMS, 0), rssBytes: round((afterOpen.rss - before.rss) / STREAMS, 0) };
    console.log(`idle streams: ${opened.streams}/${STREAMS} open on node B (${b.server.vexilStreams.size}); per stream heap ${perStream.heapBytes} B, rss ${perStream.rssBytes} B`);
    // How long node B's synchronous fan-out (one write per stream) takes per change.
    const hub = b.server.vexilStreams;
    const dispatch = hub.dispatch.bind(hub);
    const fanOut: number[] = [];
    hub.dispatch = (entry, previous) => {
      const t = performance.now();
      dispatch(entry, previous);
      fanOut.push(performance.now() - t);
    };
    const loaded = await measure();
    fanOut.sort((x, y) => x - y);
    console.log(`change-to-delivery with ${STREAMS} idle streams on B: ${JSON.stringify(loaded)}`);
    stop();
    child.send({ type: 'count' });
    const delivered = await reply('count');
    child.send({ type: 'exit' });
    const frameBytes = definitionsFrame((await b.snapshots.get(project.id))!).length;
    const result = {
      bench: 'streams',
      machine: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      idleStreams: STREAMS,
      streamsOpen: opened.streams,
      gcExposed: gc !== undefined,
      memoryPerStreamHeapBytes: perStream.heapBytes,
      memoryPerStreamRssBytes: perStream.rssBytes,
      frameBytes,
      changeToDelivery: quiet,
      changeToDeliveryWithIdleStreams: loaded,
      fanOutMs: { p50: round(percentile(fanOut, 0.5)), p99: round(percentile(fanOut, 0.99)) },
      idleStreamEventsDelivered: delivered.events,
    };
    console.log(JSON.stringify(result));
  } finally {
    for (const app of apps) await app.close();
    for (const bus of buses) await bus.close();
    await store.close();
    await dropSchema(DB_URL, schema);
  }
}

await main();
