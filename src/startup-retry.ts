/**
 * @module startup-retry
 * Start-up against a database that is not reachable yet (a node starting before PostgreSQL, a
 * failover in progress): retry with capped exponential back-off for a bounded time, saying in one
 * plain line per attempt what cannot be reached and why. Errors that are not about reaching the
 * database (a bad password, a failed migration) are not retried.
 */

/** Error codes that mean "cannot reach it now", from node's sockets, DNS and PostgreSQL. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  // porsager/postgres
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  // PostgreSQL: cannot_connect_now (starting up, shutting down, in recovery), too_many_connections.
  '57P03',
  '53300',
  // Vexil's own "store unavailable" (a store deadline wrapping the driver's error).
  'VXL_STORE_UNAVAILABLE',
]);

/** First back-off pause; doubled per attempt up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5000;

/**
 * The code that makes `err` a "cannot reach" failure, looking through `cause` chains and
 * AggregateError's `errors` (node's happy-eyeballs connect); null when it is something else.
 */
export function unreachableCode(err: unknown, depth = 0): string | null {
  if (err === null || typeof err !== 'object' || depth > 5) return null;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) {
    // A Vexil wrapper names no socket error: prefer the driver's code underneath.
    return e.code.startsWith('VXL_') ? (unreachableCode(e.cause, depth + 1) ?? e.code) : e.code;
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = unreachableCode(inner, depth + 1);
      if (code !== null) return code;
    }
  }
  return unreachableCode(e.cause, depth + 1);
}

/** `host:port/database` of a PostgreSQL URL: never the user or password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'the configured database';
  }
}

export interface StartupRetryOptions {
  /** Total time to keep trying, ms; 0 = one attempt. */
  totalMs: number;
  /** What is being reached, for the messages ("PostgreSQL at db:5432/vexil"). */
  target: string;
  /** Receives one plain line per failed attempt that will be retried. */
  warn: (fields: { attempt: number; code: string; retryInMs: number }, msg: string) => void;
  /** Waits; tests may shorten it. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}

/** Start-up gave up: `message` is the one plain line to show. */
export class StartupFailed extends Error {
  override readonly name = 'StartupFailed';
}

/**
 * Runs `start` until it succeeds, retrying only "cannot reach" failures (see unreachableCode)
 * with back-off for at most `totalMs`.
 * @throws StartupFailed with a one-line message when the time is up; any other error as is.
 */
export async function startWithRetry<T>(start: () => Promise<T>, options: StartupRetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.totalMs;
  let pause = FIRST_PAUSE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const code = unreachableCode(err);
      if (code === null) throw err;
      const left = deadline - now();
      if (left <= 0) {
        const tried = attempt === 1 ? '' : ` after ${attempt} attempts in ${Math.round(options.totalMs / 1000)} s`;
        throw new StartupFailed(`cannot reach ${options.target} (${code})${tried}; giving up`, { cause: err });
      }
      const wait = Math.min(pause, left);
      options.warn({ attempt, code, retryInMs: wait }, `cannot reach ${options.target} (${code}); retrying in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
}
