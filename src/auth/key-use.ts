/**
 * @module auth/key-use
 * Personal API keys' `last_used_at`, as PostHog shows it: set when a key authenticates, at most
 * once an hour per key, off the request path.
 */
import type { PersonalApiKeyRow, Store } from '../store/store.ts';

const HOUR_MS = 3_600_000;

/** Notes that `key` was just used. Never delays or fails the request that used it. */
export function recordKeyUse(store: Store, key: PersonalApiKeyRow, now: Date = new Date()): void {
  if (key.lastUsedAt !== null && now.getTime() - key.lastUsedAt.getTime() < HOUR_MS) return;
  store.markPersonalApiKeyUsed(key.id, now).catch(() => {
    // Informational only: a failed write is retried by the key's next use.
  });
}
