/**
 * @module app
 * Composition root: opens the store, migrates, bootstraps, builds the snapshot cache, the change
 * bus and the HTTP server, and registers the admin API. Wiring only; no logic.
 */
import type { FastifyInstance } from 'fastify';
import { registerAdminRoutes } from './admin/routes.ts';
import { adminKeyLimiter } from './admin/key-rate-limit.ts';
import { bootstrapStore, type BootstrapResult } from './bootstrap.ts';
import cluster from 'node:cluster';
import type { ChangeBus, PersonsChanged } from './cache/change-bus.ts';
import { ClusterChangeBus } from './cluster/cluster-change-bus.ts';
import { FallbackChangeBus } from './cache/fallback-change-bus.ts';
import { MemoryChangeBus } from './cache/memory/memory-change-bus.ts';
import { PgNotifyChangeBus } from './cache/postgres/pg-notify-change-bus.ts';
import { RedisDefinitionsMirror } from './cache/redis/redis-definitions-mirror.ts';
import { RedisChangeBus } from './cache/redis/redis-change-bus.ts';
import { PersonCache } from './cache/person-cache.ts';
import { SnapshotCache } from './cache/snapshot-cache.ts';
import type { Config } from './config.ts';
import { buildServer } from './http/server.ts';
import { defaultWebDir } from './http/routes/web-ui.ts';
import { registerCaptureRoutes } from './ingest/capture-routes.ts';
import { registerPersonRoutes } from './ingest/person-routes.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { openStore } from './store/open-store.ts';
import { createGeneratedKeyCipher, createPayloadCipher, type PayloadCipher } from './auth/payload-cipher.ts';
import { KeyRevocations } from './auth/key-revocations.ts';
import { defaultGeoipDbPath, openGeoipDb, type GeoipLookup } from './geoip/geoip-db.ts';
import type { Store } from './store/store.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { UsageRecorder } from './usage/usage-recorder.ts';
import { unreachableCode } from './startup-retry.ts';

/** Test and embedding overrides for createApp; production passes none. */
export interface AppOptions {
  /** Default: a pino logger at config.logLevel on stdout. */
  log?: Logger;
  /** An already open store (tests); the app then neither migrates-and-owns nor closes it. */
  store?: Store;
  /** A change bus to use instead of the one config selects (tests). Not closed by the app. */
  bus?: ChangeBus;
  /** Redis channel for change notices (tests use their own). */
  redisChannel?: string;
  /** Where first-start secrets are printed. Default stdout. */
  print?: (text: string) => void;
  /** Clock for evaluation. Default Date.now. */
  now?: () => number;
  /** Include process metrics (CPU, heap) in /metrics. Default true. */
  defaultMetrics?: boolean;
  /**
   * PostgreSQL is unreachable at start (the caller's start-up retries ran out): skip migrating and
   * bootstrapping, and serve flags read-only from the Redis definitions mirror until the database
   * answers (readiness: `degraded`, `definitionsMirror: true`). Needs REDIS_URL. The start-up
   * retry loop in main.ts decides when to call this.
   */
  startDegraded?: boolean;
  /** Folder of the built admin UI; null = no UI. Default: this checkout's `web/dist`. */
  webDir?: string | null;
  /** Clock for SSE heartbeats (tests); given ⇒ no heartbeat timer, call `server.vexilStreams.tick()`. */
  streamClock?: () => number;
  /** Start the usage flush and scheduler intervals. Default true; tests call flush()/runDue() themselves. */
  backgroundTasks?: boolean;
}

/** A running composition: the server plus the parts tests and main.ts need. */
export interface App {
  server: FastifyInstance;
  store: Store;
  snapshots: SnapshotCache;
  metrics: Metrics;
  log: Logger;
  bootstrap: BootstrapResult;
  /** This node's flag usage counters (flushed on an interval and on close). */
  usage: UsageRecorder;
  /** This node's scheduled-change loop. */
  scheduler: Scheduler;
  /** Rebuilds a project's snapshot now and notifies other nodes (after writes that bypass the admin API). */
  notifyDefinitionsChanged(projectId: number): Promise<void>;
  /** Stops accepting requests, drains in-flight ones, then closes what the app opened. */
  close(): Promise<void>;
}

/** Builds a ready-to-listen app from a config. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  const ownsStore = options.store === undefined;
  const store =
    options.store ??
    (await openStore({
      databaseUrl: config.databaseUrl ?? undefined,
      dataDir: config.dataDir,
      embeddedMemory: config.embeddedMemory,
      poolSize: config.dbPoolSize,
      timeoutMs: config.dbTimeoutMs,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      onConnectionError: (err) => log.warn({ err }, 'database connection lost'),
    }));
  try {
    const degraded = options.startDegraded === true;
    if (degraded && !config.redisUrl) throw new Error('a degraded start (database unreachable) needs REDIS_URL: the definitions mirror is what it serves');
    if (ownsStore && !degraded) {
      await store.migrate();
      log.info({ backend: config.databaseUrl ? 'postgres' : 'embedded' }, 'store migrated');
    }
    if (degraded) log.warn('database unreachable at start: serving flags read-only from the Redis definitions mirror (degraded mode)');
    const bootstrap = degraded
      ? { project: null, personalApiKey: null }
      : await bootstrapStore(store, {
          bootstrapKey: config.bootstrapKey,
          log,
          print: options.print ?? ((text) => process.stdout.write(`${text}\n`)),
        });
    const ownsBus = options.bus === undefined;
    const bus = options.bus ?? (await openChangeBus(config, log, options.redisChannel));
    const mirror = options.bus === undefined && config.redisUrl ? new RedisDefinitionsMirror({ url: config.redisUrl, prefix: options.redisChannel ?? config.redisPrefix, log }) : null;
    // Each worker counts only what it served; the label tells a scraper's samples apart.
    const workerLabel = cluster.isWorker && cluster.worker ? { worker: String(cluster.worker.id) } : undefined;
    const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true, labels: workerLabel });
    const snapshots = new SnapshotCache({
      store,
      bus,
      log,
      mirror: mirror ?? undefined,
      pollIntervalMs: config.snapshotPollSeconds * 1000,
      onRebuild: (result, cached) => {
        metrics.snapshotRebuilds.inc({ result });
        metrics.snapshotsCached.set(cached);
      },
    });
    snapshots.start();
    const personCache =
      config.personCacheSize > 0
        ? new PersonCache({
            maxEntries: config.personCacheSize,
            // Other nodes' writes arrive as person notices on the change bus; the age cap bounds
            // staleness if one is lost (Redis down).
            maxAgeMs: config.snapshotPollSeconds * 1000,
            onLookup: (result) => metrics.personCacheLookups.inc({ result }),
            // Off a notice path, person notices from other nodes may not arrive: read the store.
            trusted: () => Object.values(bus.subscribed).every(Boolean),
          })
        : null;
    // A key revoked on any node: remembered definitions authorizations go on every node.
    const keyRevocations = new KeyRevocations();
    const unsubscribeKeys = bus.subscribe((notice) => {
      if (notice.keysRevoked) keyRevocations.revoked();
    });
    const now = options.now ?? Date.now;
    const usage = new UsageRecorder(store);
    const payloadCipher = openPayloadCipher(config);
    const geoip = { db: await openGeoip(config, log), trustProxy: config.trustProxy };
    const server = await buildServer({
      settings: config,
      store,
      snapshots,
      metrics,
      log,
      personCache,
      now: options.now,
      payloadCipher,
      geoip,
      webDir: options.webDir === undefined ? defaultWebDir() : options.webDir,
      streamClock: options.streamClock,
      usage,
      keyRevocations,
    });
    // Definitions changes also cover static cohort membership, which cached lookups carry.
    const notifyDefinitionsChanged = async (projectId: number) => {
      personCache?.invalidateProject(projectId);
      await snapshots.refresh(projectId);
    };
    // Person writes invalidate this node's cache at once and every node's through the bus.
    const unsubscribePersons = personCache
      ? bus.subscribe((notice) => {
          if (notice.persons) applyPersonsNotice(personCache, notice.projectId, notice.persons);
        })
      : null;
    // Person notices sent while this node was cut off from the bus never arrived: drop every
    // cached lookup rather than serve one that may be stale until its age cap.
    const unsubscribeResumed = personCache ? bus.onResumed(() => personCache.clear()) : null;
    const personsNotice = (projectId: number, persons: PersonsChanged) => {
      if (!personCache) return;
      applyPersonsNotice(personCache, projectId, persons);
      void bus.publish({ projectId, revision: null, persons });
    };
    const personsChanged = (projectId: number, distinctIds: string[]) => personsNotice(projectId, { distinctIds });
    // One per-key budget for the whole admin API (flags, cohorts, projects, keys, persons).
    const adminLimiter = adminKeyLimiter(config.adminRateLimitPerMinute);
    await registerAdminRoutes(server, {
      store,
      rateLimiter: adminLimiter,
      onDefinitionsChanged: notifyDefinitionsChanged,
      onMembershipChanged: (projectId) => personsNotice(projectId, { all: true }),
      onKeyRevoked: async () => {
        keyRevocations.revoked();
        await bus.publish({ projectId: 0, revision: null, keysRevoked: true });
      },
      bodyLimitBytes: config.bodyLimitBytes,
      payloadCipher,
      now,
      staleDays: config.staleDays,
    });
    await registerCaptureRoutes(server, {
      store,
      resolveProject: async (token) => {
        const entry = await snapshots.resolveToken(token);
        return entry ? { id: entry.project.id } : null;
      },
      onPersonsChanged: personsChanged,
      onGroupsChanged: (projectId, groups) => personsNotice(projectId, { groups }),
      // A new group type changes the group type mapping, part of the definitions.
      onDefinitionsChanged: notifyDefinitionsChanged,
      metrics,
      onFlagCalled: (projectId, key, response) => usage.recordCalledEvent(projectId, key, response, now()),
    });
    await registerPersonRoutes(server, {
      store,
      rateLimiter: adminLimiter,
      onPersonsChanged: personsChanged,
      onAllPersonsChanged: (projectId) => personsNotice(projectId, { all: true }),
    });
    const scheduler = new Scheduler({ store, now, onApplied: notifyDefinitionsChanged, log, payloadCipher });
    if (options.backgroundTasks ?? true) {
      // An unreachable database is expected during an outage (readiness says so): warn, don't page.
      usage.start(config.usageFlushSeconds * 1000, (err) => (unreachableCode(err) === null ? log.error({ err }, 'flag usage flush failed') : log.warn({ err }, 'flag usage flush waits for the database')));
      scheduler.start(config.schedulerIntervalSeconds * 1000);
    }
    await server.ready();
    return {
      server,
      store,
      snapshots,
      metrics,
      log,
      bootstrap,
      usage,
      scheduler,
      notifyDefinitionsChanged,
      close: async () => {
        // Open SSE streams would hold the drain; they end first so clients reconnect elsewhere.
        server.closeStreams();
        await server.close();
        await scheduler.stop();
        // Counts of requests answered before the server closed; a failed write is logged, not fatal.
        await usage.stop().catch((err: unknown) => log.error({ err }, 'flag usage flush on close failed'));
        unsubscribePersons?.();
        unsubscribeResumed?.();
        unsubscribeKeys();
        snapshots.stop();
        if (ownsBus) await bus.close();
        await mirror?.close();
        if (ownsStore) await store.close();
      },
    };
  } catch (err) {
    if (ownsStore) await store.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The change bus the config calls for: Redis with PostgreSQL NOTIFY behind it (both URLs),
 * NOTIFY alone (PostgreSQL, no Redis), Redis alone (embedded database), else in-process.
 */
async function openChangeBus(config: Config, log: Logger, channel: string | undefined): Promise<ChangeBus> {
  const prefix = channel ?? config.redisPrefix;
  const redis = config.redisUrl ? await RedisChangeBus.open({ url: config.redisUrl, log, channel: channel ?? `${prefix}:definitions`, connectionName: prefix }) : null;
  const pg = config.databaseUrl
    ? await PgNotifyChangeBus.open({ url: config.databaseUrl, log, channel: `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_')}_definitions`.slice(0, 63) })
    : null;
  if (redis && pg) return new FallbackChangeBus(redis, pg);
  // Without either, only the embedded database is left, which runs one process; a worker still
  // relays through the primary, so the bus choice never depends on that rule.
  return redis ?? pg ?? (cluster.isWorker ? new ClusterChangeBus() : new MemoryChangeBus());
}

/** Drops the cached lookups a person notice names. */
function applyPersonsNotice(cache: PersonCache, projectId: number, persons: PersonsChanged): void {
  if (persons.all) cache.invalidateProject(projectId);
  if (persons.distinctIds?.length) cache.invalidate(projectId, persons.distinctIds);
  if (persons.groups?.length) cache.invalidateGroups(projectId, persons.groups);
}

/**
 * Configured secrets, else (embedded database only) a key generated into the data directory on
 * first use; PostgreSQL without secrets has none, so encrypted payloads are refused there: a key
 * on one node's disk would not decrypt on the others.
 */
function openPayloadCipher(config: Config): PayloadCipher | null {
  if (config.flagsSecretKeys.length > 0) return createPayloadCipher(config.flagsSecretKeys);
  return config.databaseUrl ? null : createGeneratedKeyCipher(config.dataDir);
}

/** The GeoIP database, or null after one warning: flags keep answering, without `$geoip_*`. */
async function openGeoip(config: Config, log: Logger): Promise<GeoipLookup | null> {
  let path = config.geoipDb;
  try {
    path ??= defaultGeoipDbPath();
    return await openGeoipDb(path);
  } catch (err) {
    log.warn({ err, path }, 'GeoIP database unavailable: /flags derives no $geoip_* person properties');
    return null;
  }
}
