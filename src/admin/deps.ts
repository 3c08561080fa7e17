/**
 * @module admin/deps
 * What the admin API is given by the composition root, and the change notice it sends after
 * every successful write.
 */
import type { FastifyRequest } from 'fastify';
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import type { Store } from '../store/store.ts';
import type { RateLimiter } from '../http/rate-limit.ts';

/** Dependencies of the admin API plugin. */
export interface AdminDeps {
  store: Store;
  /**
   * Called after every successful change to a project's flags or cohorts (and after a project is
   * created or its secret rotated), so snapshots can be rebuilt. A failure here is logged, never
   * turned into an error response: the write itself has succeeded.
   */
  onDefinitionsChanged(projectId: number): void | Promise<void>;
  /**
   * Called after static cohort members are added or removed: membership is stored person data,
   * not part of the definitions, so cached person lookups of the project go stale.
   */
  onMembershipChanged?(projectId: number): void | Promise<void>;
  /** Called after a personal API key is deleted, so every node drops authorizations it remembers. */
  onKeyRevoked?(): void | Promise<void>;
  /** Encrypts flag payloads at rest; null/absent ⇒ `has_encrypted_payloads: true` is a 400. */
  payloadCipher?: PayloadCipher | null;
  /** Largest accepted request body in bytes; default 1 MiB. */
  bodyLimitBytes?: number;
  /** Per-key limiter (admin/key-rate-limit.ts); absent or null = unlimited. */
  rateLimiter?: RateLimiter<string> | null;
  /** Clock for flag status, staleness and scheduled changes' validation (tests pin it). Default Date.now. */
  now?: () => number;
  /** Days without evaluations, or with one value for everyone, after which a flag is stale by usage. Default 30. */
  staleDays?: number;
}

/** Sends the membership notice; logs and swallows a failing listener, like notifyChanged. */
export async function notifyMembershipChanged(deps: AdminDeps, projectId: number, req: FastifyRequest): Promise<void> {
  try {
    await deps.onMembershipChanged?.(projectId);
  } catch (err) {
    req.log.error({ err, projectId }, 'membership change notice failed');
  }
}

/** Sends the change notice; logs (at `error`) and swallows a failing listener. */
export async function notifyChanged(deps: AdminDeps, projectId: number, req: FastifyRequest): Promise<void> {
  try {
    await deps.onDefinitionsChanged(projectId);
  } catch (err) {
    req.log.error({ err, projectId }, 'definitions change notice failed');
  }
}
