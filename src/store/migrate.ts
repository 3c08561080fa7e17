/**
 * @module store/migrate
 * Applies the versioned SQL files of postgres/migrations/ in order, once each, on either backend.
 */
import { readdir, readFile } from 'node:fs/promises';
import { quoteIdent, type SqlDriver } from './sql-client.ts';

const MIGRATIONS_DIR = new URL('./postgres/migrations/', import.meta.url);

/** One migration file: `NNN_name.sql` → version NNN. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files, ordered by version. Throws when two files share a version. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const version = Number.parseInt(file, 10);
    if (out.some((m) => m.version === version)) throw new Error(`Two migrations share version ${version}: ${file}`);
    out.push({ version, name: file, sql: await readFile(new URL(file, MIGRATIONS_DIR), 'utf8') });
  }
  return out;
}

/**
 * Applies pending migrations in one transaction under a transaction-scoped advisory lock, so
 * nodes starting at once queue up: the first applies, the others then find nothing to do.
 * The lock key includes the schema, so test files migrating their own schemas do not wait on
 * each other. The schema itself is created under the lock because concurrent
 * `CREATE SCHEMA IF NOT EXISTS` can still fail with a unique violation.
 */
export async function runMigrations(db: SqlDriver, schema: string | undefined): Promise<number[]> {
  const migrations = await loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))::text AS locked', [`vexil_migrations:${schema ?? ''}`]);
    if (schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS vexil_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM vexil_migrations')).map((r) => r.version),
    );
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO vexil_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  }, { timeoutMs: 0 }); // a migration may rightly take long; it holds no request
}
