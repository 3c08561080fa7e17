/**
 * @module bench/streams.bench
 * `npm run bench:streams` (issue 18). Two Vexil nodes in this process on one PostgreSQL schema
 * (DATABASE_URL, default the test database; dropped at the end) and one Redis channel
 * (REDIS_URL, default 127.0.0.1:6379), listening on loopback; a project of twenty flags.
 *
 * Edits are written through node A (store write + notify, as the admin API does) and timed until
 * they arrive on `/flags/definitions/stream` connections held by node B. The readers are a child
 * process (fixtures/sse-stream-clients.ts): W *watchers* (VEXIL_BENCH_WATCHERS, default 100)
 * spread over the server's fan-out order timestamp each event on receipt; the other streams are
 * idle holders, paused while a change is measured and drained between changes, so the figure is
 * the server's fan-out rather than this machine's client reading 10,000 sockets.
 *  1. Change-to-delivery with the W watchers only.
 *  2. Memory per idle stream: the child opens N streams (VEXIL_BENCH_STREAMS, default 10,000,
 *     watchers included); node B's heap and RSS growth after GC, divided by N.
 *  3. Change-to-delivery again with all N streams receiving every change; then 30 more edits
 *     while `POST /flags` is sent to node B every 20 ms (what a neighbour of the fan-out sees;
 *     kept apart so the other figures compare with the floor's like for like).
 *  4. The floor, in the same run: the same frames fanned out to N sockets by a bare node:http
 *     server in its own process (fixtures/sse-bare-server.ts), measured the same way, with its
 *     memory per stream; Vexil ÷ bare is the ratio.
 * Each phase makes M edits (VEXIL_BENCH_CHANGES, default 100; at most 60 s a phase). Reported: delivery
 * from the start of the write over every (edit, watcher) pair and for the last watcher of each
 * edit; node B's side (write start → B serves the new revision; B's fan-out until every write is
 * handed to the kernel, in wall and CPU time); in phase 3's last part, the /flags latencies.
 * The last line of output is one JSON object.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
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
const WATCHERS = Number(process.env.VEXIL_BENCH_WATCHERS ?? 100);
const CHANGES = Number(process.env.VEXIL_BENCH_CHANGES ?? 100);
const PROBED_CHANGES = 30;
const PHASE_MAX_MS = 60_000;

/** CLOCK_MONOTONIC in ms: the clock the child timestamps with. */
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const gc = (globalThis as { gc?: () => void }).gc;
function settledMemory(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss };
}
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
function stats(xs: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((x, y) => x - y);
  const at = (p: number) => round(s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: round(s[s.length - 1] ?? NaN) };
}

/** A bench fixture run as a child process, with a typed request/reply over IPC. */
function forkFixture(name: string, args: string[], nodeArgs: string[] = []) {
  // Compiled (npm run bench:streams) or under tsx while developing.
  const ts = import.meta.url.endsWith('.ts');
  const script = new URL(`./fixtures/${name}.${ts ? 'ts' : 'js'}`, import.meta.url);
  const child: ChildProcess = fork(script, args, { stdio: 'inherit', execArgv: [...(ts ? ['--import', 'tsx'] : []), ...nodeArgs] });
  const ask = <T>(type: string, msg: object | null, timeoutMs = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m as T);
      };
      child.on('message', onMessage);
      if (msg) child.send(msg);
    });
  const exit = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'exit' });
    });
  return { ask, exit };
}
const startClients = (port: number, path: string, auth: string, count: number) => forkFixture('sse-stream-clients', [String(port), path, auth, String(count), String(WATCHERS)]);
type Clients = ReturnType<typeof startClients>;

/** Heap and RSS growth per stream. */
function perStream(before: { heap: number; rss: number }, after: { heap: number; rss: number }, n: number) {
  return { heapBytes: Math.round((after.heap - before.heap) / n), rssBytes: Math.round((after.rss - before.rss) / n) };
}

/**
 * `POST /flags` on node B, one at a time, 20 ms apart, while a phase runs: what a neighbour of
 * the fan-out sees. Bounded by the phase (PHASE_MAX_MS).
 */
function probeFlags(port: number, token: string): { stop: () => Promise<number[]> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ token, distinct_id: 'probe' });
  const times: number[] = [];
  let running = true;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t = nowMs();
      const req = request({ host: '127.0.0.1', port, path: '/flags?v=2', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`/flags answered ${res.statusCode}`));
          times.push(nowMs() - t);
          resolve();
        });
      });
      req.on('error', (err) => reject(new Error(`flags probe: ${err.message}`)));
      req.end(body);
    });
  const loop = (async () => {
    while (running) {
      await one();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  // Rethrown by stop(); until then a failure only ends the loop.
  loop.catch(() => (running = false));
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return times;
    },
  };
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
    let flagId = 0;
    for (let i = 0; i < 20; i++) {
      const f = await store.createFlag(project.id, { key: `flag-${i}`, name: '', active: true, filters: { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 50 }] } }, 'bench');
      flagId = f.id;
    }
    await a.notifyDefinitionsChanged(project.id);
    await b.snapshots.get(project.id);

    // Node B's side: when it starts serving a revision, and when its fan-out has handed every
    // stream's write to the kernel. (A hub whose dispatch returns nothing wrote synchronously,
    // deferring part of it to process.nextTick: setImmediate covers that.)
    const hub = b.server.vexilStreams;
    const dispatch = hub.dispatch.bind(hub);
    const served = new Map<number, { swapAt: number; flushedAt: number; cpuMs: number }>();
    hub.dispatch = (entry, previous) => {
      const swapAt = nowMs();
      const cpu = process.cpuUsage();
      const result: unknown = dispatch(entry, previous);
      const done = result instanceof Promise ? result : new Promise<void>((resolve) => setImmediate(resolve));
      void done.then(() => {
        const used = process.cpuUsage(cpu);
        served.set(entry.revision, { swapAt, flushedAt: nowMs(), cpuMs: (used.user + used.system) / 1000 });
      });
      return done as Promise<void>;
    };

    /** One timed edit: changes something, returns the revision the watchers must receive. */
    type Change = () => Promise<number>;
    let pct = 0;
    const edit: Change = async () => {
      await store.updateFlag(project.id, flagId, { filters: { groups: [{ properties: [], rollout_percentage: pct++ % 100 }] } }, 'bench');
      await a.notifyDefinitionsChanged(project.id);
      return (await a.snapshots.get(project.id))!.revision;
    };
    const measure = async (clients: Clients, change: Change, changes = CHANGES, probe = false) => {
      const all: number[] = [];
      const last: number[] = [];
      const serving: number[] = [];
      const fanOut: number[] = [];
      const fanOutCpu: number[] = [];
      const flags = probe ? probeFlags(portB, project.apiToken) : null;
      const deadline = nowMs() + PHASE_MAX_MS;
      for (let i = 0; i < changes && nowMs() < deadline; i++) {
        await clients.ask('held', { type: 'hold' });
        served.clear();
        const t0 = nowMs();
        const revision = await change();
        const { at } = await clients.ask<{ at: number[] }>('delivered', { type: 'await', revision }, 20_000);
        for (const t of at) all.push(t - t0);
        last.push(Math.max(...at) - t0);
        const side = served.get(revision);
        if (side) {
          serving.push(side.swapAt - t0);
          fanOut.push(side.flushedAt - side.swapAt);
          fanOutCpu.push(side.cpuMs);
        }
        await clients.ask('drained', { type: 'drain' });
      }
      return { changes: last.length, deliveryMs: stats(all), lastWatcherMs: stats(last), nodeBServingMs: stats(serving), nodeBFanOutMs: stats(fanOut), nodeBFanOutCpuMs: stats(fanOutCpu), flagsDuringPhaseMs: flags ? stats(await flags.stop()) : undefined };
    };

    const few = startClients(portB, path, auth, WATCHERS);
    await few.ask('open', null, 60_000);
    const quiet = await measure(few, edit);
    console.log(`vexil, ${WATCHERS} streams on B: ${JSON.stringify(quiet)}`);
    await few.exit();

    const before = settledMemory();
    const many = startClients(portB, path, auth, STREAMS);
    const opened = await many.ask<{ streams: number }>('open', null, 300_000);
    const vexilMemory = perStream(before, settledMemory(), STREAMS);
    console.log(`vexil: ${opened.streams}/${STREAMS} streams open on node B (${hub.size}); per stream ${JSON.stringify(vexilMemory)}`);
    const loaded = await measure(many, edit);
    console.log(`vexil, ${STREAMS} streams on B: ${JSON.stringify(loaded)}`);
    const neighbour = await measure(many, edit, PROBED_CHANGES, true);
    console.log(`vexil, ${STREAMS} streams on B, /flags probed: ${JSON.stringify(neighbour)}`);
    const { idleBytes } = await many.ask<{ idleBytes: number }>('drained', { type: 'drain' });
    await many.exit();
    for (let i = 0; i < 500 && hub.size > 0; i++) await new Promise((r) => setTimeout(r, 10));

    // The floor: the same frames to the same number of sockets from a bare node:http server.
    const entry = (await b.snapshots.get(project.id))!;
    let bareRevision = entry.revision;
    const bare = forkFixture('sse-bare-server', [], ['--expose-gc']);
    const frameBody = definitionsFrame(entry).toString().replace(/^id: \d+\n/, '');
    const { port: barePort } = await bare.ask<{ port: number }>('listening', { type: 'init', body: frameBody });
    type Memory = { heap: number; rss: number };
    const bareBefore = await bare.ask<Memory>('memory', { type: 'memory' });
    const bareClients = startClients(barePort, '/', auth, STREAMS);
    await bareClients.ask('open', null, 300_000);
    const bareMemory = perStream(bareBefore, await bare.ask<Memory>('memory', { type: 'memory' }), STREAMS);
    const bareFanOut: number[] = [];
    const bareCpu: number[] = [];
    const bareChange: Change = async () => {
      bareRevision++;
      const { ms, cpuMs } = await bare.ask<{ ms: number; cpuMs: number }>('fannedOut', { type: 'fanOut', revision: bareRevision });
      bareFanOut.push(ms);
      bareCpu.push(cpuMs);
      return bareRevision;
    };
    const floor = { ...(await measure(bareClients, bareChange)), nodeBServingMs: undefined, nodeBFanOutMs: stats(bareFanOut), nodeBFanOutCpuMs: stats(bareCpu) };
    console.log(`bare node:http, ${STREAMS} streams: ${JSON.stringify(floor)}`);
    await bareClients.exit();
    await bare.exit();

    const ratio = (x: number, y: number) => round(x / y, 2);
    console.log(
      JSON.stringify({
        bench: 'streams',
        machine: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        loadAverage: os.loadavg().map((x) => round(x, 2)),
        node: process.version,
        streams: STREAMS,
        streamsOpen: opened.streams,
        watchers: WATCHERS,
        gcExposed: gc !== undefined,
        memoryPerStream: vexilMemory,
        bareMemoryPerStream: bareMemory,
        frameBytes: definitionsFrame(entry).length,
        idleBytesReceived: idleBytes,
        fewStreams: quiet,
        allStreams: loaded,
        allStreamsFlagsProbed: neighbour,
        bareAllStreams: floor,
        vexilOverBare: {
          deliveryP50: ratio(loaded.deliveryMs.p50, floor.deliveryMs.p50),
          deliveryP99: ratio(loaded.deliveryMs.p99, floor.deliveryMs.p99),
          fanOutP50: ratio(loaded.nodeBFanOutMs.p50, floor.nodeBFanOutMs.p50),
          fanOutCpuP50: ratio(loaded.nodeBFanOutCpuMs.p50, floor.nodeBFanOutCpuMs.p50),
        },
      }),
    );
  } finally {
    for (const app of apps) await app.close();
    for (const bus of buses) await bus.close();
    await store.close();
    await dropSchema(DB_URL, schema);
  }
}

await main();
