/**
 * @module store/open-store
 * Picks the backend from configuration: PostgreSQL when a database URL is set, else embedded PGlite.
 */
import type { Store } from './store.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { createEmbeddedStore } from './embedded/embedded-store.ts';
import type { EmbeddedMemorySettings } from './embedded/memory-settings.ts';

export interface OpenStoreOptions {
  /** PostgreSQL URL; unset ⇒ the embedded database in `dataDir`. */
  databaseUrl?: string;
  /** Directory of the embedded database (ignored with databaseUrl). */
  dataDir: string;
  /** PostgreSQL pool size; default 10. */
  poolSize?: number;
  /** Schema for all tables (search_path), e.g. one per test file; created by migrate(). */
  schema?: string;
  /** PostgreSQL: deadline of one call, ms (see PgDriverOptions.timeoutMs). */
  timeoutMs?: number;
  /** PostgreSQL: longest wait to open a connection, ms. */
  connectTimeoutMs?: number;
  /** PostgreSQL: told about errors of pooled connections, which never crash the process. */
  onConnectionError?: (err: Error) => void;
  /** Memory settings of the embedded database (ignored with databaseUrl); default small. */
  embeddedMemory?: EmbeddedMemorySettings;
}

/**
 * Opens (but does not migrate) the store. PostgreSQL connects lazily, so an unreachable server
 * shows up at the first query (`migrate()` or `ping()`), not here.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const { databaseUrl: url, poolSize, schema, timeoutMs, connectTimeoutMs, onConnectionError } = options;
    return createPostgresStore({ url, poolSize, schema, timeoutMs, connectTimeoutMs, onConnectionError });
  }
  return createEmbeddedStore({ dataDir: options.dataDir, schema: options.schema, memory: options.embeddedMemory });
}
