/**
 * @module http/streams/register-streams
 * Wires the SSE streams into a server: one SseHub per server, fed by the snapshot cache's swaps,
 * heartbeats on a timer (or on the caller's clock in tests), and every stream ended in fastify's
 * `preClose`, i.e. before the server stops accepting and drains, so `app.close()` never waits on
 * an open stream and clients reconnect to another node.
 */
import type { FastifyInstance } from 'fastify';
import type { FlagsRouteDeps } from '../routes/flags.ts';
import type { KeyRevocations } from '../../auth/key-revocations.ts';
import { RateLimiter } from '../rate-limit.ts';
import { registerDefinitionsStream } from './definitions-stream.ts';
import { registerFlagsStream } from './flags-stream.ts';
import { SseHub } from './sse-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This server's SSE streams (tests read `size` and drive `tick()`). */
    vexilStreams: SseHub;
    /** Ends every stream now; also run by fastify's preClose on `close()`. */
    closeStreams(): void;
  }
}

/** What the streams need from the server. */
export interface StreamsDeps {
  flags: FlagsRouteDeps;
  heartbeatSeconds: number;
  maxBufferBytes: number;
  /** New stream connections per second per project on each stream route (VEXIL_RATE_LIMIT_PER_SECOND); 0 = unlimited. */
  rateLimitPerSecond: number;
  /** Heartbeat clock; when given, no timer runs and the caller calls `vexilStreams.tick()`. */
  clock?: () => number;
  /** Revoked personal API keys (the definitions stream remembers authorizations). */
  keyRevocations?: KeyRevocations;
}

/** Registers `/flags/stream` and `/flags/definitions/stream` on `app`. */
export function registerStreams(app: FastifyInstance, deps: StreamsDeps): void {
  const { flags } = deps;
  const hub = new SseHub({
    now: deps.clock ?? Date.now,
    autoHeartbeat: deps.clock === undefined,
    heartbeatMs: deps.heartbeatSeconds * 1000,
    maxBufferBytes: deps.maxBufferBytes,
    onEvent: (event) => flags.metrics.streamEvents.inc({ event }),
    onFanOut: (seconds) => flags.metrics.streamFanOutSeconds.observe(seconds),
    onError: (err) => app.log.error({ err }, 'stream change handler failed'),
  });
  const unsubscribe = flags.snapshots.onSwap((entry, previous) => void hub.dispatch(entry, previous));
  app.decorate('vexilStreams', hub);
  app.decorate('closeStreams', () => hub.closeAll());
  app.addHook('preClose', (done) => {
    hub.closeAll();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    unsubscribe();
    done();
  });
  // Like every other route family, each stream route has its own bucket per project: a flood of
  // browser /flags/stream opens cannot lock server SDKs out of the definitions stream.
  const limiter = () => (deps.rateLimitPerSecond > 0 ? new RateLimiter(deps.rateLimitPerSecond) : null);
  registerFlagsStream(app, { snapshots: flags.snapshots, hub, evaluate: flags, now: flags.now, log: app.log, rateLimiter: limiter() });
  registerDefinitionsStream(app, { store: flags.store, snapshots: flags.snapshots, hub, rateLimiter: limiter(), keyRevocations: deps.keyRevocations });
}
