// Unit tests of loadConfig: defaults, strict parsing, and one error naming every bad variable.
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
    VEXIL_DB_POOL_SIZE: '3',
    VEXIL_PERSON_CACHE_SIZE: '100',
    VEXIL_SNAPSHOT_POLL_SECONDS: '7',
    VEXIL_LOOKUP_TIMEOUT_MS: '500',
    VEXIL_USAGE_FLUSH_SECONDS: '3',
    VEXIL_STALE_DAYS: '14',
    VEXIL_SCHEDULER_INTERVAL_SECONDS: '4',
  });
  assert.deepEqual(
    { ...c },
    {
      port: 9000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u@h:5432/db',
      redisUrl: 'redis://127.0.0.1:6379',
      dataDir: '/var/lib/vexil',
      bootstrapKey: 'phx_0123456789abcdef',
      logLevel: 'debug',
      bodyLimitBytes: 2048,
      decompressedLimitBytes: 4096,
      rateLimitPerSecond: 50,
      dbPoolSize: 3,
      personCacheSize: 100,
      snapshotPollSeconds: 7,
      lookupTimeoutMs: 500,
      usageFlushSeconds: 3,
      staleDays: 14,
      schedulerIntervalSeconds: 4,
    },
  );
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
});
