/**
 * @module main
 * Process entry: loadConfig → createApp (retried while the database cannot be reached) → listen.
 * SIGTERM/SIGINT stop accepting connections, drain in-flight requests and close the store and
 * Redis before exiting; VEXIL_SHUTDOWN_TIMEOUT_MS bounds the whole of it. With VEXIL_WORKERS > 1
 * (and PostgreSQL) this process becomes the cluster primary (cluster/primary.ts) and each worker
 * runs the rest of this file.
 */
import cluster from 'node:cluster';
import { createApp } from './app.ts';
import { runPrimary } from './cluster/primary.ts';
import { loadConfig } from './config.ts';
import { isVexilError } from './errors.ts';
import { createLogger } from './log.ts';
import { describeDatabase, startWithRetry, StartupFailed } from './startup-retry.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    // Before a logger exists: the message lists every bad variable.
    process.stderr.write(`${isVexilError(err) ? err.message : String(err)}\n`);
    process.exit(78);
  }
  const log = createLogger(config.logLevel);
  if (cluster.isPrimary && config.workers > 1) {
    if (config.databaseUrl) {
      runPrimary(config, log);
      return;
    }
    // PGlite is one process holding the data directory; serving it to workers is not built yet.
    log.info({ workers: 1, requested: config.workers }, 'embedded database: running one process (VEXIL_WORKERS applies with DATABASE_URL)');
  }
  const target = config.databaseUrl ? `PostgreSQL at ${describeDatabase(config.databaseUrl)}` : `the embedded database in ${config.dataDir}`;
  const app = await startWithRetry(() => createApp(config, { log }), {
    totalMs: config.startupRetrySeconds * 1000,
    target,
    warn: (fields, msg) => log.warn(fields, msg),
  }).catch((err: unknown) => {
    // PostgreSQL still unreachable after the retries: with Redis, serve what its definitions
    // mirror holds, read-only, rather than not at all (issue 15).
    if (!(err instanceof StartupFailed) || !config.databaseUrl || !config.redisUrl) throw err;
    return createApp(config, { log, startDegraded: true });
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => {
        app.log.info({ durationMs: Math.round(performance.now() - started) }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = await app.server.listen({ port: config.port, host: config.host });
  app.log.info({ address }, 'listening');
}

/** One plain line for what an operator can act on; a stack trace only for what looks like a bug. */
function startFailure(err: unknown): string {
  if (err instanceof StartupFailed || isVexilError(err)) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string') return `${err.message} (${code})`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

main().catch((err: unknown) => {
  process.stderr.write(`Vexil failed to start: ${startFailure(err)}\n`);
  process.exit(1);
});
