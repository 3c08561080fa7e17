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
  /** Memory settings of the embedded database (ignored with databaseUrl); default small. */
  embeddedMemory?: EmbeddedMemorySettings;
}

/**
 * Opens (but does not migrate) the store. PostgreSQL connects lazily, so an unreachable server
 * shows up at the first query (`migrate()` or `ping()`), not here.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    return createPostgresStore({ url: options.databaseUrl, poolSize: options.poolSize, schema: options.schema });
  }
  return createEmbeddedStore({ dataDir: options.dataDir, schema: options.schema, memory: options.embeddedMemory });
}
