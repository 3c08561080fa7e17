/**
 * @module usage/usage-recorder
 * Counts flag evaluations per project, flag, value and UTC day in memory, and hands them to the
 * store in batches. The /flags path only increments counters: no I/O, no clock read (it passes
 * the request's evaluation time it already has) and no allocation once a flag's value has been
 * seen. Flushes run on an interval and on shutdown; counts of a failed flush are merged back
 * and tried again with the next one.
 */
import type { FlagResult } from '../engine/types.ts';
import type { FlagUsageIncrement, UsageSource } from '../store/store.ts';

const DAY_MS = 86_400_000;

/** One (project, flag, value) counter of the current day, with its latest evaluation time. */
interface Counter {
  readonly projectId: number;
  readonly key: string;
  readonly value: string;
  count: number;
  last: number;
}

/**
 * Past this many distinct result objects in a day's counters, further ones are counted by key:
 * decided results are shared per snapshot, but a path building fresh ones must not grow the map.
 */
const MAX_RESULT_COUNTERS = 20_000;

/** The value a result counts under: its variant, or "true" / "false". */
function valueOf(f: FlagResult): string {
  return f.enabled ? (f.variant ?? 'true') : 'false';
}

/** Counters of one source and UTC day. */
class DayCounts {
  /**
   * By result object: the engine shares one frozen result per flag outcome across requests, so
   * an identity lookup finds the counter with no string hashing and no allocation.
   */
  readonly byResult = new Map<FlagResult, Counter>();
  /** By `project \n key \n value`, for events and overflow. */
  readonly byKey = new Map<string, Counter>();

  constructor(
    readonly day: number,
    readonly source: UsageSource,
  ) {}

  byValue(projectId: number, key: string, value: string, at: number): Counter {
    const id = `${projectId}\n${key}\n${value}`;
    let c = this.byKey.get(id);
    if (c === undefined) this.byKey.set(id, (c = { projectId, key, value, count: 0, last: at }));
    return c;
  }

  count(projectId: number, f: FlagResult, at: number): void {
    let c = this.byResult.get(f);
    if (c === undefined) {
      if (this.byResult.size >= MAX_RESULT_COUNTERS) c = this.byValue(projectId, f.key, valueOf(f), at);
      else this.byResult.set(f, (c = { projectId, key: f.key, value: valueOf(f), count: 0, last: at }));
    }
    c.count++;
    if (at > c.last) c.last = at;
  }
}

/** What the recorder writes to; the Store provides it. */
export interface UsageSink {
  recordFlagUsage(rows: readonly FlagUsageIncrement[]): Promise<void>;
}

/** In-memory usage counters with batched flushes. */
export class UsageRecorder {
  readonly #sink: UsageSink;
  /** Current day's counters per source; older days wait in #pending until the next flush. */
  #current: Record<UsageSource, DayCounts | null> = { flags: null, event: null };
  #pending: DayCounts[] = [];
  #retry: FlagUsageIncrement[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(sink: UsageSink) {
    this.#sink = sink;
  }

  #day(source: UsageSource, at: number): DayCounts {
    const day = Math.floor(at / DAY_MS);
    const counts = this.#current[source];
    if (counts !== null && counts.day === day) return counts;
    // A new day: park the old counters for the next flush (the store adds rows of the same key).
    if (counts !== null) this.#pending.push(counts);
    const fresh = new DayCounts(day, source);
    this.#current[source] = fresh;
    return fresh;
  }

  /**
   * Counts one /flags answer: every decided flag once, by its value. Failed flags (their value
   * is unknown) are not counted. `at` is the request's evaluation time, ms since the epoch.
   */
  recordEvaluations(projectId: number, flags: readonly FlagResult[], at: number): void {
    if (flags.length === 0) return;
    const counts = this.#day('flags', at);
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i]!;
      if (!f.failed) counts.count(projectId, f, at);
    }
  }

  /**
   * Counts one `$feature_flag_called` event: `response` is `$feature_flag_response` (a boolean or
   * a variant key); anything else counts as "false".
   */
  recordCalledEvent(projectId: number, flagKey: string, response: unknown, at: number): void {
    const variant = typeof response === 'string' && response !== '' && response !== 'true' && response !== 'false';
    const value = variant ? response : response === true || response === 'true' ? 'true' : 'false';
    const c = this.#day('event', at).byValue(projectId, flagKey, value, at);
    c.count++;
    if (at > c.last) c.last = at;
  }

  /** Takes every counter recorded so far as store rows (one per key), leaving the recorder empty. */
  drain(): FlagUsageIncrement[] {
    const merged = new Map<string, FlagUsageIncrement>();
    const add = (row: FlagUsageIncrement) => {
      const id = `${row.projectId}\n${row.flagKey}\n${row.day}\n${row.source}\n${row.value}`;
      const seen = merged.get(id);
      if (seen === undefined) merged.set(id, row);
      else {
        seen.count += row.count;
        if (row.lastCalledAt > seen.lastCalledAt) seen.lastCalledAt = row.lastCalledAt;
      }
    };
    this.#retry.forEach(add);
    this.#retry = [];
    const all = [...this.#pending, this.#current.flags, this.#current.event];
    this.#pending = [];
    this.#current = { flags: null, event: null };
    for (const counts of all) {
      if (counts === null) continue;
      const { source } = counts;
      const day = new Date(counts.day * DAY_MS).toISOString().slice(0, 10);
      for (const c of [...counts.byResult.values(), ...counts.byKey.values()]) {
        add({ projectId: c.projectId, flagKey: c.key, day, source, value: c.value, count: c.count, lastCalledAt: new Date(c.last) });
      }
    }
    return [...merged.values()];
  }

  /** Writes everything counted so far; on failure the counts stay for the next flush (and this rejects). */
  flush(): Promise<void> {
    // One flush at a time: a second caller waits for the running one, then writes what came since.
    const next = this.#flushing.catch(() => undefined).then(() => this.#write());
    this.#flushing = next;
    return next;
  }

  async #write(): Promise<void> {
    const rows = this.drain();
    if (rows.length === 0) return;
    try {
      await this.#sink.recordFlagUsage(rows);
    } catch (err) {
      this.#retry.push(...rows);
      throw err;
    }
  }

  /** Flushes every `intervalMs`; a failure goes to `onError` and its counts wait for the next flush. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.flush().catch(onError), intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval and writes what is left. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
