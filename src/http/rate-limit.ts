/**
 * @module http/rate-limit
 * Per-project token buckets for the flag-serving endpoints (spec §1.9: PostHog limits per token).
 * Keyed by project id after the token is resolved, so junk tokens cannot grow the table.
 */

/** A token-bucket limiter: `ratePerSecond` sustained, bursts up to one second's worth. */
export class RateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<number, { tokens: number; at: number }>();

  /** @param ratePerSecond > 0. @param now clock in ms (tests pass their own). */
  constructor(ratePerSecond: number, now: () => number = Date.now) {
    this.#rate = ratePerSecond;
    this.#now = now;
  }

  /** Takes one token for `key`; false when the bucket is empty (⇒ 429). */
  take(key: number): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.#rate, at: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
