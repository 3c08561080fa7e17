/**
 * @module test/helpers/db
 * Opens a migrated store for a test file: PostgreSQL in a fresh schema, or PGlite in a fresh
 * temp dir. Never skips: an unreachable PostgreSQL fails the test with a message saying so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type OpenStoreOptions } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

/** The shared test database (STYLE §10); VEXIL_TEST_DATABASE_URL overrides it. */
export const TEST_DATABASE_URL = process.env.VEXIL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type StoreKind = 'postgres' | 'embedded';

export interface TestStore {
  store: Store;
  kind: StoreKind;
  /** What `openStore` was called with: open a second store on the same data with these. */
  options: OpenStoreOptions;
  /** Closes the store, then drops the schema (postgres) or deletes the directory (embedded). */
  cleanup(): Promise<void>;
}

/**
 * Runs `text` (one statement with `$n` parameters, or several without) on a fresh connection
 * outside any store, and returns the rows of the last statement: for test setup and inspection.
 */
export async function sqlOnce<T = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {}); // a connection lost after the statement is of no interest here
  await client.connect();
  try {
    const result = await client.query(text, params);
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return (last?.rows ?? []) as T[];
  } finally {
    await client.end().catch(() => {});
  }
}

/** Throws a clear error when PostgreSQL cannot be reached, instead of a bare ECONNREFUSED later. */
async function assertPostgresReachable(url: string): Promise<void> {
  try {
    await sqlOnce(url, 'SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL is unreachable at ${url} (integration tests need it running): ${(err as Error).message}`, { cause: err });
  }
}

/** Drops a test schema with everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  await sqlOnce(url, `DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
}

/** A unique schema name such as `vexil_t_1a2b3c4d5e6f`. */
export function uniqueSchemaName(): string {
  return `vexil_t_${randomBytes(6).toString('hex')}`;
}

/**
 * A migrated store of the given kind with its own isolated data. Call `cleanup()` in `after`.
 * `options` lets a test reopen the same data (e.g. close + reopen, or a second node).
 */
export async function openTestStore(kind: StoreKind, extra: { poolSize?: number } = {}): Promise<TestStore> {
  let options: OpenStoreOptions;
  let dropData: () => Promise<void>;
  if (kind === 'postgres') {
    await assertPostgresReachable(TEST_DATABASE_URL);
    const schema = uniqueSchemaName();
    // A long deadline: on a machine shared by many test runs a bulk setup step may take seconds;
    // the tests of deadlines (test/integration/faults/) open their stores with short ones.
    options = { databaseUrl: TEST_DATABASE_URL, dataDir: '', schema, poolSize: extra.poolSize ?? 4, timeoutMs: 60_000 };
    dropData = () => dropSchema(TEST_DATABASE_URL, schema);
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'vexil-test-'));
    options = { dataDir };
    dropData = () => rm(dataDir, { recursive: true, force: true });
  }
  const store = await openStore(options);
  await store.migrate();
  return {
    store,
    kind,
    options,
    cleanup: async () => {
      await store.close().catch(() => {});
      await dropData();
    },
  };
}
