/**
 * @module store/postgres/pg-driver
 * The SqlDriver over a node-postgres (`pg`) pool, with a deadline on every call and a fast
 * failure while the server cannot be reached.
 *
 * Why each piece is here (issue 13):
 * - Every call (one statement, or one whole transaction) has a deadline that includes the wait
 *   for a connection. Past it the caller gets VXL_STORE_UNAVAILABLE, and the work is abandoned
 *   for good: a call still waiting for a connection never runs (the connection, when it comes,
 *   goes straight back), and a connection busy with it is destroyed, so the server rolls back an
 *   open transaction. The server's own `statement_timeout` (the same deadline) ends a statement
 *   that would outlive its caller. The one window that stays undecidable is a COMMIT sent but not
 *   answered when the network dies: nobody can know whether the server received it.
 * - A failure to connect (refused, connect timeout, server not accepting) marks the database
 *   down: then calls fail at once with that reason, except one at a time (and at most one every
 *   PROBE_INTERVAL_MS) that goes through as a
 *   probe; the first success clears it. Lookups stop waiting out their timeout during an outage.
 * - Errors of idle or busy connections (a terminated backend, a reset) never reach the process as
 *   an unhandled 'error' event: each client gets a listener, and the pool's are reported to
 *   `onConnectionError` (logged at warn by the app).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { VexilError } from '../../errors.ts';
import { cleanParams, quoteIdent, type SqlCallOptions, type SqlClient, type SqlDriver } from '../sql-client.ts';

/** Connection settings of the PostgreSQL backend. */
export interface PgDriverOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** Schema used as search_path (created by migrate()); default: the server's search_path. */
  schema?: string;
  /** Deadline of one call (statement or transaction, including the wait for a connection), ms; 0 = none. Default 5000. */
  timeoutMs?: number;
  /** Longest wait to open one connection, ms. Default 3000. */
  connectTimeoutMs?: number;
  /** `application_name` of every connection (what pg_stat_activity shows). Default `vexil`. */
  applicationName?: string;
  /** Told about errors of pooled connections (terminated backends, resets); they never crash the process. */
  onConnectionError?: (err: Error) => void;
}

/** While the database is down, the shortest time from the end of one try (probe) to the next. */
const PROBE_INTERVAL_MS = 500;

/** SQLSTATEs meaning the server or the connection is not usable (not a problem with the statement). */
const UNAVAILABLE_STATES = /^(08|57P0[1-5]|53300|57014|25P03)/;

/** True when `err` says the database could not be reached or gave up, rather than rejecting the SQL. */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return UNAVAILABLE_STATES.test(err.code ?? '');
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, …
  return /Connection terminated|timeout|Client has encountered a connection error|not queryable/i.test(err.message);
}

const unavailable = (message: string, cause?: unknown): VexilError => new VexilError('VXL_STORE_UNAVAILABLE', { message, cause });

/** Maps a driver failure: outages become VXL_STORE_UNAVAILABLE, SQL errors pass through untouched. */
function translate(err: unknown): unknown {
  if (err instanceof VexilError || !isConnectionFailure(err)) return err;
  return unavailable(`Database unavailable: ${(err as Error).message}`, err);
}

/** Named prepared statements: one name per query text, so a connection parses and plans it once. */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = 'v' + createHash('sha1').update(text).digest('hex').slice(0, 20);
    if (names.size < 10_000) names.set(text, name);
  }
  return name;
}

/** One call's state: why it was abandoned (set once, checked before each step), and whether its connection broke. */
interface Call {
  abandoned: Error | null;
  broken: boolean;
}

function run<T>(client: pg.PoolClient, text: string, params: readonly unknown[], call: Call): Promise<T[]> {
  if (call.abandoned) return Promise.reject(call.abandoned);
  return client
    .query({ name: statementName(text), text, values: cleanParams(params) })
    .then((r) => r.rows as T[]);
}

/** A SqlDriver over a `pg` pool; connects lazily on first query. */
export function createPgDriver(options: PgDriverOptions): SqlDriver {
  const defaultTimeoutMs = options.timeoutMs ?? 5000;
  const report = options.onConnectionError ?? (() => {});
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    // Idle sockets behind a silent network drop are noticed by the kernel, not kept forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName ?? 'vexil',
    // The server ends a statement that outlives its caller (0 = no limit); an idle open transaction too.
    statement_timeout: defaultTimeoutMs,
    idle_in_transaction_session_timeout: defaultTimeoutMs > 0 ? defaultTimeoutMs * 2 : 0,
    options: options.schema ? `-c search_path=${quoteIdent(options.schema)}` : undefined,
  });
  // An idle client's error (backend terminated, socket reset) is emitted on the pool; unhandled it
  // would crash the process. A busy client's error rejects its query; the listener keeps the
  // 'error' event itself from ever being unhandled.
  pool.on('error', (err) => report(err));
  pool.on('connect', (client) => client.on('error', () => {}));

  /** Set while the server cannot be connected to: calls fail fast, one probe at a time goes through. */
  let down: Error | null = null;
  let probing = false;
  let lastProbeEnd = 0;

  /** Runs `work` on one pooled client within the deadline; see the module comment for the guarantees. */
  async function withClient<T>(timeoutMs: number, work: (client: pg.PoolClient, call: Call) => Promise<T>): Promise<T> {
    let probe = false;
    if (down) {
      const now = performance.now();
      if (probing || now - lastProbeEnd < PROBE_INTERVAL_MS) throw unavailable(`Database unavailable: ${down.message}`, down);
      probing = probe = true;
    }
    const call: Call = { abandoned: null, broken: false };
    let client: pg.PoolClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      if (timeoutMs <= 0) return;
      timer = setTimeout(() => {
        call.abandoned = unavailable(`Database did not answer within ${timeoutMs} ms`);
        down ??= call.abandoned;
        // Destroying the busy connection makes the server roll back what it was doing for us.
        client?.release(call.abandoned);
        client = undefined;
        reject(call.abandoned);
      }, timeoutMs);
    });
    const acquired = pool.connect().then(
      (c) => {
        if (call.abandoned) {
          c.release(); // the caller has gone: nothing may run on its behalf
          throw call.abandoned;
        }
        client = c;
        return c;
      },
      (err: unknown) => {
        if (!call.abandoned) down = err instanceof Error ? err : new Error(String(err));
        throw err;
      },
    );
    try {
      const c = await Promise.race([acquired, deadline]);
      const result = await Promise.race([work(c, call), deadline]);
      down = null;
      client?.release();
      client = undefined;
      return result;
    } catch (err) {
      const connectionFailed = call.broken || isConnectionFailure(err);
      // An answer, even an SQL error, proves the server is reachable.
      if (!connectionFailed && !call.abandoned) down = null;
      // A connection that failed mid-call is not given to anyone else.
      if (client) client.release(connectionFailed ? (err as Error) : undefined);
      client = undefined;
      throw translate(err);
    } finally {
      clearTimeout(timer);
      if (probe) {
        probing = false;
        lastProbeEnd = performance.now();
      }
    }
  }

  return {
    query: <T>(text: string, params: readonly unknown[] = []) => withClient(defaultTimeoutMs, (c, call) => run<T>(c, text, params, call)),
    exec: (text: string) => withClient(defaultTimeoutMs, async (c) => void (await c.query(text))),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>, callOptions?: SqlCallOptions) => {
      const timeoutMs = callOptions?.timeoutMs ?? defaultTimeoutMs;
      return withClient(timeoutMs, async (c, call) => {
        await c.query('BEGIN');
        try {
          // The session's statement_timeout is the default deadline; a call with its own sets it here.
          if (timeoutMs !== defaultTimeoutMs) await c.query(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
          const tx: SqlClient = {
            query: <R>(text: string, params: readonly unknown[] = []) => run<R>(c, text, params, call),
            exec: async (text: string) => {
              if (call.abandoned) throw call.abandoned;
              await c.query(text);
            },
          };
          const result = await fn(tx);
          // Past the deadline the transaction is never committed (the client is already destroyed).
          if (call.abandoned) throw call.abandoned;
          await c.query('COMMIT');
          return result;
        } catch (err) {
          if (!call.abandoned) {
            await c.query('ROLLBACK').catch(() => {
              call.broken = true;
            });
          }
          throw err;
        }
      });
    },
    close: () => pool.end(),
  };
}
