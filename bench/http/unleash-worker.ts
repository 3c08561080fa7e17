/**
 * @module bench/http/unleash-worker
 * One unleash-server process (a cluster worker of bench/http/cluster.ts): unleash-server from the
 * benchmark's own install directory (BENCH_UNLEASH_DIR, outside the project's dependencies),
 * PostgreSQL from BENCH_UNLEASH_DB_URL, an admin and a frontend token created at start. Version
 * check and telemetry are off: the benchmark stays on loopback.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Tokens the benchmark talks to Unleash with (Unleash's `project:environment.secret` format). */
export const UNLEASH_ADMIN_TOKEN = '*:*.vexil-bench-admin-0000000000000000';
export const UNLEASH_FRONTEND_TOKEN = 'default:development.vexil-bench-frontend-00000000000';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** Starts unleash-server on PORT/HOST; resolves once it listens. */
export async function startUnleashWorker(): Promise<void> {
  const dir = required('BENCH_UNLEASH_DIR');
  const db = new URL(required('BENCH_UNLEASH_DB_URL'));
  const entry = createRequire(join(dir, 'package.json')).resolve('unleash-server');
  const unleash = (await import(pathToFileURL(entry).href)) as { start(options: unknown): Promise<unknown> };
  await unleash.start({
    db: {
      host: db.hostname,
      port: Number(db.port || 5432),
      user: decodeURIComponent(db.username),
      password: decodeURIComponent(db.password),
      database: db.pathname.slice(1),
      ssl: false,
    },
    server: { port: Number(required('PORT')), host: process.env.HOST ?? '127.0.0.1' },
    versionCheck: { enable: false },
    telemetry: false,
    logLevel: 'warn',
    authentication: {
      initApiTokens: [
        { environment: '*', projects: ['*'], secret: UNLEASH_ADMIN_TOKEN, type: 'admin', tokenName: 'vexil-bench-admin' },
        { environment: 'development', projects: ['default'], secret: UNLEASH_FRONTEND_TOKEN, type: 'frontend', tokenName: 'vexil-bench-frontend' },
      ],
    },
  });
}
