/**
 * @module main
 * Process entry: loadConfig → createApp → listen. SIGTERM/SIGINT stop accepting connections,
 * drain in-flight requests and close the store and Redis before exiting.
 */
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { isVexilError } from './errors.ts';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    // Before a logger exists: the message lists every bad variable.
    process.stderr.write(`${isVexilError(err) ? err.message : String(err)}\n`);
    process.exit(78);
  }
  const app = await createApp(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    app.close().then(
      () => {
        app.log.info('stopped');
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

main().catch((err: unknown) => {
  process.stderr.write(`Vexil failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
