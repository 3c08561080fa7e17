/**
 * @module store/postgres/postgres-store
 * The production backend: SqlStore over a node-postgres pool (pg-driver.ts) with named prepared
 * statements, per-call deadlines and fast failure during outages.
 */
import type { Store } from '../store.ts';
import { SqlStore } from '../sql-store.ts';
import { createPgDriver, type PgDriverOptions } from './pg-driver.ts';

/** Connection settings; see PgDriverOptions for each field and its default. */
export type PostgresStoreOptions = PgDriverOptions;

/** Store on a PostgreSQL server. Call migrate() before use. */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  return new SqlStore(createPgDriver(options), { schema: options.schema });
}
