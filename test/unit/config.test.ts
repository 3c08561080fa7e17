// Unit tests of loadConfig: defaults, strict parsing, and one error naming every bad variable.
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { VexilError } from '../../src/errors.ts';

test('defaults describe a single node on the embedded database', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.databaseUrl, null);
  assert.equal(c.redisUrl, null);
  assert.equal(c.dataDir, './data');
  assert.equal(c.bootstrapKey, null);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.bodyLimitBytes, 1024 * 1024);
  assert.equal(c.rateLimitPerSecond, 0);
  assert.equal(c.matchBudgetChars, 1024 * 1024);
  assert.equal(c.adminRateLimitPerMinute, 480);
  assert.equal(c.shutdownTimeoutMs, 10_000);
  assert.equal(c.startupRetrySeconds, 60);
  assert.ok(Object.isFrozen(c));
});

test('reads every variable', () => {
  const c = loadConfig({
    PORT: '9000',
    HOST: '127.0.0.1',
    DATABASE_URL: 'postgres://u@h:5432/db',
    REDIS_URL: 'redis://127.0.0.1:6379',
    VEXIL_DATA_DIR: '/var/lib/vexil',
    VEXIL_BOOTSTRAP_KEY: 'phx_0123456789abcdef',
    LOG_LEVEL: 'DEBUG',
    VEXIL_BODY_LIMIT_BYTES: '2048',
    VEXIL_DECOMPRESSED_LIMIT_BYTES: '4096',
    VEXIL_RATE_LIMIT_PER_SECOND: '50',
    VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '0',
    VEXIL_DB_POOL_SIZE: '3',
    VEXIL_PERSON_CACHE_SIZE: '100',
    VEXIL_SNAPSHOT_POLL_SECONDS: '7',
    VEXIL_LOOKUP_TIMEOUT_MS: '500',
    VEXIL_MATCH_BUDGET_CHARS: '0',
    VEXIL_DB_TIMEOUT_MS: '1500',
    VEXIL_DB_CONNECT_TIMEOUT_MS: '700',
    VEXIL_SHUTDOWN_TIMEOUT_MS: '3000',
    VEXIL_STARTUP_RETRY_SECONDS: '0',
    VEXIL_WORKERS: '3',
    VEXIL_EMBEDDED_SHARED_BUFFERS_MB: '32',
    VEXIL_EMBEDDED_WORK_MEM_MB: '8',
    VEXIL_EMBEDDED_MAINTENANCE_WORK_MEM_MB: '64',
    VEXIL_EMBEDDED_WASM_TIER_UP: 'true',
    VEXIL_FLAGS_SECRET_KEYS: 'new-key, old-key',
    VEXIL_GEOIP_DB: '/srv/GeoLite2-City.mmdb',
    VEXIL_TRUST_PROXY: 'true',
    VEXIL_STREAM_HEARTBEAT_SECONDS: '30',
    VEXIL_STREAM_MAX_BUFFER_BYTES: '65536',
    VEXIL_USAGE_FLUSH_SECONDS: '3',
    VEXIL_STALE_DAYS: '14',
    VEXIL_SCHEDULER_INTERVAL_SECONDS: '4',
    VEXIL_WORKER_SEMI_SPACE_MB: '8',
  });
  assert.deepEqual(
    { ...c },
    {
      port: 9000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u@h:5432/db',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'vexil',
      dataDir: '/var/lib/vexil',
      bootstrapKey: 'phx_0123456789abcdef',
      logLevel: 'debug',
      bodyLimitBytes: 2048,
      decompressedLimitBytes: 4096,
      rateLimitPerSecond: 50,
      adminRateLimitPerMinute: 0,
      dbPoolSize: 3,
      personCacheSize: 100,
      snapshotPollSeconds: 7,
      lookupTimeoutMs: 500,
      matchBudgetChars: 0,
      dbTimeoutMs: 1500,
      dbConnectTimeoutMs: 700,
      shutdownTimeoutMs: 3000,
      startupRetrySeconds: 0,
      workers: 3,
      workerSemiSpaceMb: 8,
      embeddedMemory: { sharedBuffersMb: 32, workMemMb: 8, maintenanceWorkMemMb: 64, wasmTierUp: true },
      flagsSecretKeys: ['new-key', 'old-key'],
      geoipDb: '/srv/GeoLite2-City.mmdb',
      trustProxy: true,
      streamHeartbeatSeconds: 30,
      streamMaxBufferBytes: 65536,
      usageFlushSeconds: 3,
      staleDays: 14,
      schedulerIntervalSeconds: 4,
    },
  );
});

test("VEXIL_WORKER_SEMI_SPACE_MB: default 16 (V8's own), 1–1024 MiB", () => {
  assert.equal(loadConfig({}).workerSemiSpaceMb, 16);
  assert.equal(loadConfig({ VEXIL_WORKER_SEMI_SPACE_MB: '64' }).workerSemiSpaceMb, 64);
  for (const bad of ['0', '16MB', '1025']) {
    assert.throws(() => loadConfig({ VEXIL_WORKER_SEMI_SPACE_MB: bad }), new RegExp(`VEXIL_WORKER_SEMI_SPACE_MB must be an integer 1–1024, got '${bad}'`));
  }
});

test('VEXIL_TRUST_PROXY is a strict boolean, false by default', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ VEXIL_TRUST_PROXY: '0' }).trustProxy, false);
  assert.throws(() => loadConfig({ VEXIL_TRUST_PROXY: 'yes' }), /VEXIL_TRUST_PROXY must be true, false, 1 or 0, got 'yes'/);
});

test('VEXIL_FLAGS_SECRET_KEYS: empty entries are an error that does not echo the keys', () => {
  assert.deepEqual(loadConfig({}).flagsSecretKeys, []);
  assert.throws(() => loadConfig({ VEXIL_FLAGS_SECRET_KEYS: 'sekrit,,other' }), (err: Error) => /VEXIL_FLAGS_SECRET_KEYS/.test(err.message) && !err.message.includes('sekrit'));
});

test('empty strings count as unset', () => {
  assert.equal(loadConfig({ PORT: '', DATABASE_URL: ' ' }).port, 8000);
  assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, null);
});

test('one error lists every bad variable, never a silent default', () => {
  let caught: unknown;
  try {
    loadConfig({
      PORT: 'abc',
      DATABASE_URL: 'mysql://secret-password@h/db',
      REDIS_URL: 'nope',
      LOG_LEVEL: 'loud',
      VEXIL_BODY_LIMIT_BYTES: '1.5',
      VEXIL_RATE_LIMIT_PER_SECOND: '-1',
      VEXIL_BOOTSTRAP_KEY: 'short',
    });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof VexilError);
  assert.equal(caught.code, 'VXL_CONFIG_INVALID');
  for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'VEXIL_BODY_LIMIT_BYTES', 'VEXIL_RATE_LIMIT_PER_SECOND', 'VEXIL_BOOTSTRAP_KEY']) {
    assert.match(caught.message, new RegExp(`\\b${name}\\b`), `message names ${name}`);
  }
  assert.match(caught.message, /PORT must be an integer 0–65535, got 'abc'/);
  // A URL may carry a password: it is not echoed.
  assert.doesNotMatch(caught.message, /secret-password/);
});

test('numbers out of range are errors', () => {
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
  assert.throws(() => loadConfig({ VEXIL_DB_POOL_SIZE: '0' }), /VEXIL_DB_POOL_SIZE/);
  assert.throws(() => loadConfig({ VEXIL_SNAPSHOT_POLL_SECONDS: '0' }), /VEXIL_SNAPSHOT_POLL_SECONDS/);
  assert.throws(() => loadConfig({ VEXIL_MATCH_BUDGET_CHARS: '-1' }), /VEXIL_MATCH_BUDGET_CHARS/);
});

test('embedded database memory: small defaults, strict whole MiB within 1–1024, strict booleans', () => {
  const c = loadConfig({});
  assert.deepEqual(c.embeddedMemory, { sharedBuffersMb: 8, workMemMb: 4, maintenanceWorkMemMb: 16, wasmTierUp: false });
  assert.ok(Object.isFrozen(c.embeddedMemory));
  assert.equal(loadConfig({ VEXIL_EMBEDDED_SHARED_BUFFERS_MB: '1' }).embeddedMemory.sharedBuffersMb, 1);
  assert.equal(loadConfig({ VEXIL_EMBEDDED_SHARED_BUFFERS_MB: '1024' }).embeddedMemory.sharedBuffersMb, 1024);
  let caught: unknown;
  try {
    loadConfig({
      VEXIL_EMBEDDED_SHARED_BUFFERS_MB: '8MB',
      VEXIL_EMBEDDED_WORK_MEM_MB: '0',
      VEXIL_EMBEDDED_MAINTENANCE_WORK_MEM_MB: '1025',
      VEXIL_EMBEDDED_WASM_TIER_UP: 'yes',
    });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof VexilError);
  assert.match(caught.message, /VEXIL_EMBEDDED_SHARED_BUFFERS_MB must be an integer 1–1024, got '8MB'/);
  assert.match(caught.message, /VEXIL_EMBEDDED_WORK_MEM_MB must be an integer 1–1024, got '0'/);
  assert.match(caught.message, /VEXIL_EMBEDDED_MAINTENANCE_WORK_MEM_MB must be an integer 1–1024, got '1025'/);
  assert.match(caught.message, /VEXIL_EMBEDDED_WASM_TIER_UP must be true, false, 1 or 0, got 'yes'/);
  assert.equal(loadConfig({ VEXIL_EMBEDDED_WASM_TIER_UP: 'false' }).embeddedMemory.wasmTierUp, false);
  assert.throws(() => loadConfig({ VEXIL_EMBEDDED_SHARED_BUFFERS_MB: '2.5' }), /VEXIL_EMBEDDED_SHARED_BUFFERS_MB/);
  assert.throws(() => loadConfig({ VEXIL_EMBEDDED_WORK_MEM_MB: '-4' }), /VEXIL_EMBEDDED_WORK_MEM_MB/);
});

test('VEXIL_WORKERS: default one per core, 1 = no cluster, bad values are errors', () => {
  assert.equal(loadConfig({}).workers, availableParallelism());
  assert.equal(loadConfig({ VEXIL_WORKERS: '1' }).workers, 1);
  assert.equal(loadConfig({ VEXIL_WORKERS: ' 4 ' }).workers, 4);
  for (const bad of ['0', '-2', 'two', '1.5', '1025']) {
    assert.throws(() => loadConfig({ VEXIL_WORKERS: bad }), new RegExp(`VEXIL_WORKERS must be an integer 1–1024, got '${bad.replace('.', '\\.')}'`));
  }
});
