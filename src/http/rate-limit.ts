/**
 * @module http/rate-limit
 * Token buckets: per project for the flag-serving endpoints (spec §1.9: PostHog limits per
 * token; keyed by project id after the token is resolved, so junk tokens cannot grow the table),
 * and per personal API key for the admin API (keyed by the key's hash, see admin/key-rate-limit.ts).
 */

/** Tuning beyond the sustained rate. */
export interface RateLimiterOptions {
  /** Bucket size: the burst allowed after a quiet spell. Default one second's worth of the rate. */
  burst?: number;
  /**
   * Most buckets kept. When full, buckets that have refilled (equivalent to no bucket) are
   * dropped; if none has, a new key is let through untracked rather than failing the request.
   * Default unbounded (keys come from a bounded set).
   */
  maxEntries?: number;
}

/** A token-bucket limiter: `ratePerSecond` sustained, bursts up to `burst` (default one second's worth). */
export class RateLimiter<K = number> {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #buckets = new Map<K, { tokens: number; at: number }>();

  /** @param ratePerSecond > 0. @param now clock in ms (tests pass their own). */
  constructor(ratePerSecond: number, now: () => number = Date.now, options: RateLimiterOptions = {}) {
    this.#rate = ratePerSecond;
    this.#burst = options.burst ?? ratePerSecond;
    this.#maxEntries = options.maxEntries ?? Infinity;
    this.#now = now;
  }

  #refill(bucket: { tokens: number; at: number }, now: number): void {
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
  }

  /** Takes one token for `key`; false when the bucket is empty (⇒ 429). */
  take(key: K): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxEntries && !this.#sweep(now)) return true;
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    } else {
      this.#refill(bucket, now);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Whole seconds until `key` has a token again (at least 1); for `Retry-After`. */
  retryAfterSeconds(key: K): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 1;
    this.#refill(bucket, this.#now());
    // The epsilon keeps float noise (1.9999…/2.0000…1) from adding a whole second.
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate - 1e-9));
  }

  /** Drops refilled buckets; true when room was made. */
  #sweep(now: number): boolean {
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.#burst) this.#buckets.delete(key);
    }
    return this.#buckets.size < this.#maxEntries;
  }
}
