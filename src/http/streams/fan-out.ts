/**
 * @module http/streams/fan-out
 * Runs "do this for each stream" jobs in short slices of the event loop. A change written to
 * 10,000 streams is 10,000 socket writes (tens to hundreds of ms on a loaded machine); done in
 * one go it would hold every /flags request on the node for that long. Here the first slice
 * runs at once, the rest after the loop has served what arrived meanwhile (setImmediate).
 *
 * Jobs run one after another in the order pushed, so a stream always gets revisions in order;
 * one background job (heartbeats) runs only when no change is waiting.
 */

/** How long one slice may run, ms: about one /flags request's worth of delay at most. */
export const SLICE_MS = 8;
/** Items between two clock reads. */
const CHECK_EVERY = 32;

interface Job<T> {
  items: T[];
  index: number;
  step: (item: T) => void;
  done: () => void;
}

/** A queue of per-item jobs, run in time slices. */
export class FanOutQueue<T> {
  readonly #jobs: Job<T>[] = [];
  readonly #onError: (err: unknown) => void;
  readonly #clock: () => number;
  #background: Job<T> | null = null;
  #scheduled = false;
  #running = false;

  /**
   * @param onError told when a step throws; the job goes on with the next item.
   * @param clock ms, read to end a slice after SLICE_MS (tests pass their own).
   */
  constructor(onError: (err: unknown) => void = () => undefined, clock: () => number = () => performance.now()) {
    this.#onError = onError;
    this.#clock = clock;
  }

  /** Whether a background job is still running. */
  get background(): boolean {
    return this.#background !== null;
  }

  /** Runs `step` for each item after the jobs already queued; resolves when the last one ran. */
  push(items: T[], step: (item: T) => void): Promise<void> {
    return new Promise((resolve) => {
      this.#jobs.push({ items, index: 0, step, done: resolve });
      this.#run();
    });
  }

  /** Runs `step` for each item whenever no pushed job is waiting (replaces any background job). */
  pushBackground(items: T[], step: (item: T) => void): void {
    this.#background = { items, index: 0, step, done: () => undefined };
    this.#run();
  }

  /** Drops every job (shutdown); their promises resolve. */
  clear(): void {
    const jobs = this.#jobs.splice(0);
    this.#background = null;
    for (const job of jobs) job.done();
  }

  #run(): void {
    // A step that pushes lands in the queue and is picked up by the running loop.
    if (this.#running || this.#scheduled) return;
    this.#running = true;
    const deadline = this.#clock() + SLICE_MS;
    try {
      for (;;) {
        const job = this.#jobs[0] ?? this.#background;
        if (!job) return;
        const end = Math.min(job.items.length, job.index + CHECK_EVERY);
        while (job.index < end) {
          const item = job.items[job.index++]!;
          try {
            job.step(item);
          } catch (err) {
            this.#onError(err);
          }
        }
        if (job.index >= job.items.length) {
          if (job === this.#jobs[0]) this.#jobs.shift();
          else if (job === this.#background) this.#background = null;
          job.done();
        }
        if (this.#clock() >= deadline && (this.#jobs.length > 0 || this.#background)) {
          this.#scheduled = true;
          setImmediate(() => {
            this.#scheduled = false;
            this.#run();
          });
          return;
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
