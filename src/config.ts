/**
 * @module config
 * The one typed configuration, read once from the environment. Strict: a value that does not
 * parse is an error, never a silent default, and every bad variable is reported at once.
 */
import { VexilError } from './errors.ts';

/** Log levels pino accepts. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level name. */
export type LogLevel = (typeof logLevels)[number];

/** The validated, frozen configuration (one field per variable). */
export interface Config {
  /** TCP port to listen on. Default 8000. */
  readonly port: number;
  /** Interface to bind. Default 0.0.0.0 (all). */
  readonly host: string;
  /** PostgreSQL URL. Unset (default) ⇒ the embedded database (PGlite) in `dataDir`. */
  readonly databaseUrl: string | null;
  /** Redis URL for cross-node change notices. Unset (default) ⇒ in-process bus (single node). */
  readonly redisUrl: string | null;
  /** Prefix of Vexil's Redis keys and channel, so deployments can share one Redis. Default `vexil`. */
  readonly redisPrefix: string;
  /** Directory of the embedded database. Default ./data. */
  readonly dataDir: string;
  /** When set, this exact string is always a valid full-access personal API key. Default unset. */
  readonly bootstrapKey: string | null;
  /** pino level. Default info. */
  readonly logLevel: LogLevel;
  /** Largest accepted request body, bytes, before decompression. Default 1 MiB. */
  readonly bodyLimitBytes: number;
  /** Largest body after gunzip, bytes (gzip-bomb guard). Default 8 MiB. */
  readonly decompressedLimitBytes: number;
  /** /flags and definitions requests per second per project token; 0 (default) = unlimited. */
  readonly rateLimitPerSecond: number;
  /** Admin API requests per minute per personal API key (bursts to one minute's worth); 0 = unlimited. Default 480. */
  readonly adminRateLimitPerMinute: number;
  /** PostgreSQL connection pool size. Default 10. */
  readonly dbPoolSize: number;
  /** Entries in the per-node LRU of /flags person/group lookups; 0 = no cache. Default 50,000. */
  readonly personCacheSize: number;
  /** Seconds between revision polls, the safety net behind change notices. Default 5. */
  readonly snapshotPollSeconds: number;
  /** Longest wait for a per-request store lookup, ms; then affected flags fail. Default 2000. */
  readonly lookupTimeoutMs: number;
  /**
   * Characters of property text one flag evaluation may scan (regex searches count 16 per
   * character); filters past it fail their flag (`match_budget_exceeded`). 0 = unlimited.
   * Default 1,048,576 (engine/match/match-budget.ts).
   */
  readonly matchBudgetChars: number;
  /**
   * Deadline of every PostgreSQL call (one statement or transaction, the wait for a connection
   * included), ms; past it the caller gets 503 and the work is abandoned (never applied later). Default 5000.
   */
  readonly dbTimeoutMs: number;
  /** Longest wait to open one PostgreSQL connection, ms. Default 3000. */
  readonly dbConnectTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration. Pure: same env in, same frozen Config out.
 * @throws VexilError VXL_CONFIG_INVALID naming every invalid variable and its value.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === null) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer ${min}–${max}, got '${raw}'`);
      return def;
    }
    return Number(raw);
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = str(name);
    if (raw === null) return null;
    let ok = false;
    try {
      ok = protocols.includes(new URL(raw).protocol);
    } catch {
      ok = false;
    }
    // The URL may carry a password, so it is never echoed back.
    if (!ok) problems.push(`${name} must be a ${protocols.map((p) => p + '//').join(' or ')} URL`);
    return ok ? raw : null;
  };

  const logLevelRaw = str('LOG_LEVEL') ?? 'info';
  const logLevel = logLevelRaw.toLowerCase() as LogLevel;
  if (!logLevels.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got '${logLevelRaw}'`);

  const bootstrapKey = str('VEXIL_BOOTSTRAP_KEY');
  if (bootstrapKey !== null && (bootstrapKey.length < 16 || /\s/.test(bootstrapKey))) {
    problems.push('VEXIL_BOOTSTRAP_KEY must be at least 16 characters without spaces');
  }

  const MiB = 1024 * 1024;
  const config: Config = {
    port: int('PORT', 8000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: str('VEXIL_REDIS_PREFIX') ?? 'vexil',
    dataDir: str('VEXIL_DATA_DIR') ?? './data',
    bootstrapKey,
    logLevel: logLevels.includes(logLevel) ? logLevel : 'info',
    bodyLimitBytes: int('VEXIL_BODY_LIMIT_BYTES', MiB, 1024, 1024 * MiB),
    decompressedLimitBytes: int('VEXIL_DECOMPRESSED_LIMIT_BYTES', 8 * MiB, 1024, 1024 * MiB),
    rateLimitPerSecond: int('VEXIL_RATE_LIMIT_PER_SECOND', 0, 0, 1_000_000),
    adminRateLimitPerMinute: int('VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE', 480, 0, 1_000_000),
    dbPoolSize: int('VEXIL_DB_POOL_SIZE', 10, 1, 1000),
    personCacheSize: int('VEXIL_PERSON_CACHE_SIZE', 50_000, 0, 10_000_000),
    snapshotPollSeconds: int('VEXIL_SNAPSHOT_POLL_SECONDS', 5, 1, 86_400),
    lookupTimeoutMs: int('VEXIL_LOOKUP_TIMEOUT_MS', 2000, 1, 600_000),
    matchBudgetChars: int('VEXIL_MATCH_BUDGET_CHARS', MiB, 0, 1_000_000_000),
    dbTimeoutMs: int('VEXIL_DB_TIMEOUT_MS', 5000, 100, 600_000),
    dbConnectTimeoutMs: int('VEXIL_DB_CONNECT_TIMEOUT_MS', 3000, 100, 600_000),
  };

  if (problems.length > 0) {
    throw new VexilError('VXL_CONFIG_INVALID', { message: `Invalid configuration:\n  - ${problems.join('\n  - ')}` });
  }
  return Object.freeze(config);
}
