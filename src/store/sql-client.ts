/**
 * @module store/sql-client
 * The tiny SQL client both backends provide (node-postgres `pg`, PGlite), so one SQL
 * implementation of the Store runs on either, plus the parameter and error helpers it needs.
 */

/** One result row as the driver returns it (jsonb parsed, timestamptz as Date, int8 as string or number). */
export type SqlRow = Record<string, unknown>;

/** What a statement runs on: the pool, or one open transaction. */
export interface SqlClient {
  /** One statement with `$n` parameters; prepared and cached per connection where the driver can. */
  query<T = SqlRow>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations), sent with the simple protocol. */
  exec(text: string): Promise<void>;
}

/** Options of one driver call. */
export interface SqlCallOptions {
  /**
   * Deadline of the whole call, ms, replacing the driver's default (PostgreSQL; PGlite has none);
   * 0 = none, for migrations and bulk imports.
   */
  timeoutMs?: number;
}

/** A backend connection: a client that can also open transactions and be closed. */
export interface SqlDriver extends SqlClient {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. No nesting. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: SqlCallOptions): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATEs after which the whole transaction may simply be run again. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `fn` in a transaction, retrying a few times on deadlock or serialization failure: these
 * are expected when concurrent ingestion batches touch the same persons in different orders.
 */
export async function withTransaction<T>(db: SqlDriver, fn: (tx: SqlClient) => Promise<T>, options?: SqlCallOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn, options);
    } catch (err) {
      if (attempt >= 5 || !RETRYABLE.has(sqlState(err) ?? '')) throw err;
    }
  }
}

/** The SQLSTATE of a driver error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` is a unique violation of the named constraint or index (both drivers' field names). */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (sqlState(err) !== '23505') return false;
  const e = err as { constraint_name?: string; constraint?: string };
  return (e.constraint_name ?? e.constraint) === constraint;
}

/**
 * Matches, in JSON text, an unescaped `\u0000` or a `\uD800`–`\uDFFF` escape (preceded by an
 * even number of backslashes). JSON.stringify writes surrogates as escapes only when they are
 * unpaired, and jsonb rejects both NUL and unpaired surrogates.
 */
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

/**
 * JSON text for a `$n::text::jsonb` parameter. Passed as text, not as an object, because the two
 * drivers serialise object parameters differently. NUL characters and unpaired surrogates become
 * U+FFFD, as PostHog's ingestion does (`sanitizeJsonbValue`), so one odd value cannot fail a batch.
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value ?? null) ?? 'null';
  return text.includes('\\u') ? text.replace(BAD_ESCAPE, '$1\\ufffd') : text;
}

const cleanText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

/**
 * Parameters as PostgreSQL text accepts them: it cannot store NUL, so NUL in a string (or in a
 * string array element) becomes U+FFFD. Applied to every parameter by both drivers, so a distinct
 * id is written and looked up in the same form. Unpaired surrogates are already replaced by the
 * drivers' UTF-8 encoding.
 */
export function cleanParams(params: readonly unknown[]): unknown[] {
  return params.map((p) =>
    typeof p === 'string' ? cleanText(p) : Array.isArray(p) ? p.map((x) => (typeof x === 'string' ? cleanText(x) : x)) : p,
  );
}

/** Escapes LIKE wildcards so user search text matches literally. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Quotes an identifier (schema name) for interpolation into SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `s` can be cast to uuid; callers drop other strings instead of letting the cast fail. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
