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

/** One flag's counters for the current day: value → count, plus the latest evaluation time. */
interface FlagCounter {
  readonly projectId: number;
  readonly key: string;
  on: number;
  off: number;
  /** Variant key → count (multivariate flags only). */
  variants: Map<string, number> | null;
  last: number;
}

/** Counters of one source and day. */
class DayCounts {
  /** Nested by project id: a `${projectId}:${flagKey}` key would allocate a string per lookup. */
  readonly byProject = new Map<number, Map<string, FlagCounter>>();
  size = 0;

  constructor(
    readonly day: number,
    readonly source: UsageSource,
  ) {}

  counter(projectId: number, key: string, at: number): FlagCounter {
    let flags = this.byProject.get(projectId);
    if (flags === undefined) this.byProject.set(projectId, (flags = new Map()));
    let c = flags.get(key);
    if (c === undefined) {
      c = { projectId, key, on: 0, off: 0, variants: null, last: at };
      flags.set(key, c);
      this.size++;
    }
    if (at > c.last) c.last = at;
    return c;
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
      if (f.failed) continue;
      const c = counts.counter(projectId, f.key, at);
      if (f.variant !== null && f.enabled) {
        const variants = (c.variants ??= new Map());
        variants.set(f.variant, (variants.get(f.variant) ?? 0) + 1);
      } else if (f.enabled) c.on++;
      else c.off++;
    }
  }

  /**
   * Counts one `$feature_flag_called` event: `response` is `$feature_flag_response` (a boolean or
   * a variant key); anything else counts as "true" when truthy.
   */
  recordCalledEvent(projectId: number, flagKey: string, response: unknown, at: number): void {
    const c = this.#day('event', at).counter(projectId, flagKey, at);
    if (typeof response === 'string' && response !== '' && response !== 'true' && response !== 'false') {
      const variants = (c.variants ??= new Map());
      variants.set(response, (variants.get(response) ?? 0) + 1);
    } else if (response === true || response === 'true') c.on++;
    else c.off++;
  }

  /** Takes every counter recorded so far as store rows, leaving the recorder empty. */
  drain(): FlagUsageIncrement[] {
    const out = this.#retry;
    this.#retry = [];
    const all = [...this.#pending, this.#current.flags, this.#current.event];
    this.#pending = [];
    this.#current = { flags: null, event: null };
    for (const counts of all) {
      if (counts === null) continue;
      const { source } = counts;
      const day = new Date(counts.day * DAY_MS).toISOString().slice(0, 10);
      for (const flags of counts.byProject.values()) {
        for (const c of flags.values()) {
          const base = { projectId: c.projectId, flagKey: c.key, day, source, lastCalledAt: new Date(c.last) };
          if (c.on > 0) out.push({ ...base, value: 'true', count: c.on });
          if (c.off > 0) out.push({ ...base, value: 'false', count: c.off });
          for (const [variant, count] of c.variants ?? []) out.push({ ...base, value: variant, count });
        }
      }
    }
    return out;
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
