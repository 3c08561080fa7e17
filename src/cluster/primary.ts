/**
 * @module cluster/primary
 * The node:cluster primary of a node with VEXIL_WORKERS > 1. It serves no request itself: it
 * forks the workers (each runs today's single-process app behind the one shared port, holding
 * its own compiled snapshots), relays change notices between them (cluster-change-bus.ts), restarts a
 * worker that exits while the node runs, and on SIGTERM/SIGINT drains every worker.
 *
 * Restart policy: a worker that exits 0 (it was sent SIGTERM on its own, a rolling restart) is
 * replaced at once; one that crashes is replaced after a back-off that doubles per crash in a row
 * (250 ms … 30 s) and resets once a worker has run for a minute. A worker that fails before any
 * worker ever listened is a start-up failure (bad configuration, database unreachable past the
 * start-up retry): the primary stops the others and exits 1 instead of looping.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { isChangeMessage } from './cluster-change-bus.ts';
import { workerExecArgv } from './worker-flags.ts';

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;
/** A worker that ran this long resets the crash back-off. */
const STABLE_AFTER_MS = 60_000;

/** Runs the primary until the node is stopped; never returns normally (the process exits). */
export function runPrimary(config: Config, log: Logger): void {
  const startedAt = new Map<Worker, number>();
  let listened = false;
  let stopping = false;
  let crashesInARow = 0;
  let stopCode = 0;

  const fork = () => {
    if (stopping) return;
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('message', (message: unknown) => {
      if (!isChangeMessage(message)) return;
      // Every worker, the sender included: the bus contract delivers to the publisher too.
      for (const w of startedAt.keys()) if (w.isConnected()) w.send(message, undefined, () => undefined);
    });
    worker.once('listening', () => {
      listened = true;
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const started = startedAt.get(worker) ?? Date.now();
    startedAt.delete(worker);
    const pid = worker.process.pid;
    if (stopping) {
      if (startedAt.size === 0) {
        log.info({ durationMs: Math.round(performance.now() - stopStarted) }, 'stopped');
        process.exit(stopCode);
      }
      return;
    }
    if (!listened) {
      log.error({ pid, code, signal }, 'a worker failed to start; stopping the node');
      stop('worker start failure', 1);
      return;
    }
    if (code === 0 && signal === null) {
      log.info({ pid }, 'worker exited; starting a replacement');
      fork();
      return;
    }
    crashesInARow = Date.now() - started >= STABLE_AFTER_MS ? 1 : crashesInARow + 1;
    const delayMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (crashesInARow - 1));
    log.error({ pid, code, signal, restartInMs: delayMs }, 'worker died; restarting it');
    // Not unref'd: with every worker dead this timer is what keeps the primary alive.
    setTimeout(fork, delayMs);
  });

  let stopStarted = 0;
  const stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    stopCode = exitCode;
    stopStarted = performance.now();
    log.info({ reason, workers: startedAt.size }, 'shutting down');
    // Each worker runs its own drain (http/drain.ts) and exits; the primary waits for all of them.
    const force = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      for (const w of startedAt.keys()) w.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    if (startedAt.size === 0) process.exit(exitCode);
    for (const w of startedAt.keys()) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Workers serve the requests: their young generation is sized for that (worker-flags.ts).
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, config.workerSemiSpaceMb) });
  log.info({ workers: config.workers, pid: process.pid, semiSpaceMb: config.workerSemiSpaceMb }, 'starting workers');
  for (let i = 0; i < config.workers; i++) fork();
}
