/**
 * @module store/embedded/embedded-store
 * The zero-install backend: PGlite (PostgreSQL compiled to WASM) in-process, persisted in a
 * data directory, running the same SQL and migrations as the PostgreSQL backend.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { collectStartupGarbage, initDataDirOutOfProcess, chooseWasmCompiler } from './footprint.ts';
import { defaultEmbeddedMemory, memoryStartParams, type EmbeddedMemorySettings } from './memory-settings.ts';
import type { Store } from '../store.ts';
import { cleanParams, quoteIdent, type SqlClient, type SqlDriver } from '../sql-client.ts';
import { SqlStore } from '../sql-store.ts';

export interface EmbeddedStoreOptions {
  /** Directory holding the database files (created if missing); undefined ⇒ in memory, lost on close. */
  dataDir?: string;
  /** Schema used as search_path (created by migrate()). */
  schema?: string;
  /** PostgreSQL memory settings; default `defaultEmbeddedMemory` (small). */
  memory?: EmbeddedMemorySettings;
}

function clientOf(db: PGlite | Transaction): SqlClient {
  return {
    query: async <T>(text: string, params: readonly unknown[] = []) => (await db.query<T>(text, cleanParams(params))).rows,
    exec: async (text: string) => {
      await db.exec(text);
    },
  };
}

/**
 * A SqlDriver over one PGlite instance. PGlite is a single connection: queries queue, and a
 * transaction holds it exclusively, which makes every transaction serializable in effect.
 * Only one process may open a data directory at a time.
 */
export async function createEmbeddedDriver(options: EmbeddedStoreOptions): Promise<SqlDriver> {
  const memory = options.memory ?? defaultEmbeddedMemory;
  chooseWasmCompiler(memory.wasmTierUp);
  const startParams = memoryStartParams(memory);
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    await initDataDirOutOfProcess(options.dataDir, startParams);
  }
  const pg = new PGlite(options.dataDir, { startParams: [...PGlite.defaultStartParams, ...startParams] });
  await pg.waitReady;
  collectStartupGarbage();
  if (options.schema) await pg.exec(`SET search_path TO ${quoteIdent(options.schema)}`);
  return {
    ...clientOf(pg),
    transaction: (fn) => pg.transaction((tx) => fn(clientOf(tx))),
    close: () => pg.close(),
  };
}

/** Store in an embedded PGlite database. Call migrate() before use. */
export async function createEmbeddedStore(options: EmbeddedStoreOptions): Promise<Store> {
  return new SqlStore(await createEmbeddedDriver(options), { schema: options.schema });
}
