/**
 * @module store/postgres/postgres-store
 * The production backend: a porsager `postgres` pool with prepared statements behind SqlStore.
 */
import postgres from 'postgres';
import type { Store } from '../store.ts';
import { cleanParams, quoteIdent, type SqlClient, type SqlDriver } from '../sql-client.ts';
import { SqlStore } from '../sql-store.ts';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** Schema used as search_path (created by migrate()); default: the server's search_path. */
  schema?: string;
}

type Sql = postgres.Sql | postgres.TransactionSql;

function clientOf(sql: Sql): SqlClient {
  return {
    // Named prepared statements, cached per connection by query text: the hot-path lookups
    // are parsed and planned once per connection.
    query: async <T>(text: string, params: readonly unknown[] = []) =>
      (await sql.unsafe(text, cleanParams(params) as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[],
    exec: async (text: string) => {
      await sql.unsafe(text).simple();
    },
  };
}

/** A SqlDriver over a porsager pool; connects lazily on first query. */
export function createPostgresDriver(options: PostgresStoreOptions): SqlDriver {
  const sql = postgres(options.url, {
    max: options.poolSize ?? 10,
    prepare: true,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    // Startup parameter: every pooled connection resolves unqualified names in this schema.
    connection: options.schema ? { search_path: quoteIdent(options.schema) } : {},
  });
  return {
    ...clientOf(sql),
    transaction: async <T>(fn: (tx: SqlClient) => Promise<T>) => (await sql.begin((tx) => fn(clientOf(tx)))) as T,
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Store on a PostgreSQL server. Call migrate() before use. */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  return new SqlStore(createPostgresDriver(options), { schema: options.schema });
}
