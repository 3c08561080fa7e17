/**
 * @module schedule/scheduler
 * Each node's scheduled-change loop. There is no leader: every node asks the store for due
 * changes on its own interval, and the store's claim (FOR UPDATE SKIP LOCKED) gives each
 * occurrence to exactly one of them. State lives only in the database, so restarts lose nothing.
 */
import type { Logger } from 'pino';
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import type { ScheduledChangeOutcome, Store } from '../store/store.ts';
import { planAt } from './plan.ts';
import { unreachableCode } from '../startup-retry.ts';

/** What a Scheduler needs. */
export interface SchedulerOptions {
  store: Store;
  /** The clock, ms since the epoch (tests pass their own). */
  now: () => number;
  /** Called after a change was applied to a flag (the normal definitions-changed notice). */
  onApplied(projectId: number): void | Promise<void>;
  log: Logger;
  /** Most changes applied per run, so one run cannot hold the loop for long. Default 100. */
  maxPerRun?: number;
  /** Decrypts and re-encrypts the payloads of flags with encrypted payloads (null: none configured). */
  payloadCipher?: PayloadCipher | null;
}

/** Runs due scheduled changes on an interval, or on demand with `runDue()`. */
export class Scheduler {
  readonly #opts: SchedulerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ScheduledChangeOutcome[]> | null = null;

  constructor(options: SchedulerOptions) {
    this.#opts = options;
  }

  /** Applies every change due now (up to maxPerRun); a run already under way is joined, not doubled. */
  runDue(): Promise<ScheduledChangeOutcome[]> {
    this.#running ??= this.#run().finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(): Promise<ScheduledChangeOutcome[]> {
    const { store, log } = this.#opts;
    const done: ScheduledChangeOutcome[] = [];
    const max = this.#opts.maxPerRun ?? 100;
    while (done.length < max) {
      const now = new Date(this.#opts.now());
      const outcome = await store.runDueScheduledChange(now, planAt(now, this.#opts.payloadCipher ?? null));
      if (outcome === null) break;
      done.push(outcome);
      const { change } = outcome;
      if (outcome.failure !== null) {
        log.warn({ scheduledChangeId: change.id, projectId: change.projectId, failure: outcome.failure }, 'scheduled change failed');
        continue;
      }
      if (outcome.skipped) {
        log.info({ scheduledChangeId: change.id, projectId: change.projectId }, 'scheduled change closed: past its end_date');
        continue;
      }
      log.info({ scheduledChangeId: change.id, projectId: change.projectId, recordId: change.recordId }, 'scheduled change applied');
      try {
        await this.#opts.onApplied(change.projectId);
      } catch (err) {
        log.error({ err, projectId: change.projectId }, 'definitions change notice failed');
      }
    }
    return done;
  }

  /** Runs every `intervalMs` until stop(); errors are logged and the next run tries again. */
  start(intervalMs: number): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => {
      this.runDue().catch((err: unknown) => {
        // During a database outage every run fails the same way; readiness already reports it.
        if (unreachableCode(err) === null) this.#opts.log.error({ err }, 'scheduled changes run failed');
        else this.#opts.log.warn({ err }, 'scheduled changes wait for the database');
      });
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval and waits for a run under way. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }
}
