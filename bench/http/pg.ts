/**
 * @module bench/http/pg
 * The benchmark's own PostgreSQL databases, made fresh at the start of every run and left in
 * place afterwards for inspection.
 */
import { sqlOnce } from '../../test/helpers/db.ts';

/** The server's URL (BENCH_PG_URL, default the local trust-auth server) with `database` swapped in. */
export function databaseUrl(database: string): string {
  const url = new URL(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.pathname = `/${database}`;
  return url.toString();
}

/** Drops (closing its connections) and creates `database`. */
export async function recreateDatabase(database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bad database name ${database}`);
  await sqlOnce(databaseUrl('postgres'), `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await sqlOnce(databaseUrl('postgres'), `CREATE DATABASE ${database}`);
}
