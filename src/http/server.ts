/**
 * @module http/server
 * buildServer(deps): the fastify instance with request ids, CORS, metrics, the error handler and
 * Vexil's own routes. Everything it needs arrives as an argument; it opens nothing itself.
 */
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PersonCache } from '../cache/person-cache.ts';
import type { SnapshotCache } from '../cache/snapshot-cache.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { afterBodyDiscarded } from './discard-body.ts';
import { ConnectionDrain } from './drain.ts';
import { installErrorHandlers } from './error-handler.ts';
import { RateLimiter } from './rate-limit.ts';
import { registerDefinitionsRoutes } from './routes/definitions.ts';
import { registerFlagsRoutes, type EvaluationUsage, type FlagsRouteDeps } from './routes/flags.ts';
import { createFlagsFastPath, requestIdOf } from './flags-fast-path.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registerOfrepRoutes } from './routes/ofrep.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { loadWebUi, registerWebUi } from './routes/web-ui.ts';
import { registerSdkConfigRoutes } from './routes/sdk-config.ts';
import { registerRemoteConfigRoute } from './routes/remote-config.ts';
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import type { KeyRevocations } from '../auth/key-revocations.ts';
import type { GeoipSettings } from './flags/geoip-properties.ts';
import { registerStreams } from './streams/register-streams.ts';

/** The limits and switches the HTTP layer reads from Config. */
export interface ServerSettings {
  bodyLimitBytes: number;
  decompressedLimitBytes: number;
  /** Per project token and second; 0 = off. */
  rateLimitPerSecond: number;
  lookupTimeoutMs: number;
  /** Matching budget per evaluation, characters; 0 = unlimited; absent = the engine's default. */
  matchBudgetChars?: number;
  /** SSE heartbeat period, s (default 15). */
  streamHeartbeatSeconds?: number;
  /** Unsent bytes after which an SSE reader is closed as too slow (default 4 MiB). */
  streamMaxBufferBytes?: number;
}

/** Everything buildServer wires; all of it is created by the caller. */
export interface ServerDeps {
  settings: ServerSettings;
  store: Store;
  snapshots: SnapshotCache;
  metrics: Metrics;
  log: Logger;
  /** Per-node cache of person lookups for /flags; absent = none. */
  personCache?: PersonCache | null;
  /** Clock in ms; tests pin it. Default Date.now. */
  now?: () => number;
  /** Evaluation counters for flag usage; absent = not counted. */
  usage?: EvaluationUsage | null;
  /** Folder of the built admin UI (`web/dist`); absent, or not built there = no UI, `/` answers plain text. */
  webDir?: string | null;
  /** Decrypts remote-config payloads; absent = no key configured. */
  payloadCipher?: PayloadCipher | null;
  /** GeoIP person properties for /flags; absent = none. */
  geoip?: GeoipSettings;
  /** Clock for SSE heartbeats; given ⇒ no heartbeat timer, tests call `server.vexilStreams.tick()`. */
  streamClock?: () => number;
  /** Personal API key revocations, from this node or others; absent = remembered authorizations expire on their own. */
  keyRevocations?: KeyRevocations;
}

/** Deepest JSON nesting accepted in SDK bodies; real bodies stay under 10. */
export const MAX_JSON_DEPTH = 64;
/** Most object members in one SDK body (spec asks to survive 100,000; real bodies have dozens). */
export const MAX_JSON_PROPERTIES = 10_000;

/**
 * Records one request in the counter and histogram. Label children are cached per
 * (route, method, status class), so the hot path does not re-hash label sets (bounded: route patterns).
 */
function requestRecorder(metrics: Metrics): (route: string, method: string, status: number, seconds: number) => void {
  const counters = new Map<string, { inc(): void }>();
  // The counter is a pending count and the histogram series plain arrays: additions per request.
  return (route, method, status, seconds) => {
    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${route} ${method} ${statusClass}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = metrics.pending(metrics.httpRequests.labels({ route, method, status_class: statusClass }))));
    counter.inc();
    metrics.httpDuration.series(route).observe(seconds);
  };
}

/**
 * Builds the server and registers Vexil's routes; the caller may add plugins (the admin API)
 * before `ready()`/`listen()`.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { settings, metrics } = deps;
  // POST /flags and /decide bypass fastify on real sockets (see flags-fast-path.ts); set below,
  // once the routes' dependencies exist. app.inject() always goes through fastify.
  let fastPath: ((req: IncomingMessage, res: ServerResponse) => boolean) | null = null;
  const drain = new ConnectionDrain();
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer({ requestTimeout: 30_000, keepAliveTimeout: 72_000 }, (req, res) => {
        drain.mark(res);
        if (fastPath === null || !fastPath(req, res)) handler(req, res);
      });
      drain.attach(server);
      return server;
    },
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's default logger type.
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: settings.bodyLimitBytes,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    // The hot path logs nothing at info (STYLE §9); onResponse below logs each request at debug.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    // While draining, requests on connections already open are answered (with `Connection:
    // close`, see drain.ts), not refused with 503: a load balancer only retries refused connects.
    return503OnClosing: false,
    forceCloseConnections: false,
  });
  // preClose runs before fastify calls server.close(), which stops the listener.
  app.addHook('preClose', (done) => {
    drain.start();
    done();
  });
  installErrorHandlers(app, { bodyLimitBytes: settings.bodyLimitBytes });
  // A 413 waits for the rest of the body, as on the fast path (see discard-body.ts). onError runs
  // before the error handler renders the reply, on every route family.
  app.addHook('onError', (request, _reply, error, done) => {
    const tooLarge = error.statusCode === 413 || (error as { code?: string }).code === 'VXL_BODY_TOO_LARGE';
    if (tooLarge) afterBodyDiscarded(request.raw, 0, done);
    else done();
  });

  // Permissive CORS like PostHog's flag service (spec §1): origin mirrored, credentials allowed.
  // Callback-style hooks: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    const origin = request.headers.origin;
    if (origin !== undefined) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'Origin');
    }
    if (request.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS, HEAD');
      const requested = request.headers['access-control-request-headers'];
      if (requested !== undefined) reply.header('access-control-allow-headers', requested);
    }
    done();
  });
  const recordRequest = requestRecorder(metrics);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    recordRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    if (deps.log.isLevelEnabled('debug')) {
      request.log.debug({ route, statusCode: reply.statusCode, durationMs: reply.elapsedTime }, 'request done');
    }
    done();
  });
  // Browser preflights for any path; routes that define OPTIONS themselves take precedence.
  app.options('/*', async (_request, reply) => reply.code(204).header('allow', 'GET, POST, OPTIONS, HEAD').send());

  const rate = settings.rateLimitPerSecond;
  const flagsDeps: FlagsRouteDeps = {
    store: deps.store,
    snapshots: deps.snapshots,
    metrics,
    limits: { maxDecompressedBytes: settings.decompressedLimitBytes, maxDepth: MAX_JSON_DEPTH, maxProperties: MAX_JSON_PROPERTIES },
    rateLimiter: rate > 0 ? new RateLimiter(rate) : null,
    lookupTimeoutMs: settings.lookupTimeoutMs,
    matchBudget: settings.matchBudgetChars === 0 ? Infinity : settings.matchBudgetChars,
    personCache: deps.personCache ?? null,
    now: deps.now ?? Date.now,
    log: deps.log,
    geoip: deps.geoip,
    usage: deps.usage ?? null,
  };
  await registerFlagsRoutes(app, flagsDeps);
  // OFREP shares /flags' dependencies and evaluation path, with its own per-token limiter.
  await registerOfrepRoutes(app, { ...flagsDeps, rateLimiter: rate > 0 ? new RateLimiter(rate) : null });
  fastPath = createFlagsFastPath({
    flags: flagsDeps,
    errors: { bodyLimitBytes: settings.bodyLimitBytes },
    recordRequest,
    log: deps.log as FastifyBaseLogger,
  });
  registerDefinitionsRoutes(app, { store: deps.store, snapshots: deps.snapshots, rateLimiter: rate > 0 ? new RateLimiter(rate) : null, keyRevocations: deps.keyRevocations });
  registerSdkConfigRoutes(app, { snapshots: deps.snapshots });
  registerRemoteConfigRoute(app, { store: deps.store, snapshots: deps.snapshots, payloadCipher: deps.payloadCipher ?? null });
  registerStreams(app, {
    flags: flagsDeps,
    heartbeatSeconds: settings.streamHeartbeatSeconds ?? 15,
    maxBufferBytes: settings.streamMaxBufferBytes ?? 4 * 1024 * 1024,
    rateLimitPerSecond: rate,
    clock: deps.streamClock,
    keyRevocations: deps.keyRevocations,
  });
  const webUi = deps.webDir ? loadWebUi(deps.webDir) : null;
  const sendUi = webUi === null ? null : await registerWebUi(app, webUi);
  registerHealthRoutes(app, { store: deps.store, snapshots: deps.snapshots, sendUi, drain });
  registerMetricsRoute(app, { metrics });
  return app;
}
