/**
 * @module admin/key-rate-limit
 * Per personal-API-key rate limit of the admin API (VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE): an
 * onRequest hook that answers 429 with `Retry-After` in DRF's words ("Request was throttled.
 * Expected available in N seconds."). Keyed by the key's SHA-256 before authentication, so a
 * limited client costs no database lookup; the bucket table is bounded (see RateLimiter).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, hashSecret } from '../auth/keys.ts';
import { VexilError } from '../errors.ts';
import { RateLimiter } from '../http/rate-limit.ts';

/** Buckets kept at most (~100 bytes each); refilled ones are dropped first. */
const MAX_KEYS = 100_000;

/** A limiter for `perMinute` requests per key, bursting to one minute's worth; null when 0 (off). */
export function adminKeyLimiter(perMinute: number, now: () => number = Date.now): RateLimiter<string> | null {
  return perMinute > 0 ? new RateLimiter<string>(perMinute / 60, now, { burst: perMinute, maxEntries: MAX_KEYS }) : null;
}

/** The onRequest hook; requests without a bearer token pass (they fail authentication or need none). */
export function adminRateLimitHook(limiter: RateLimiter<string>) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(req.headers.authorization);
    if (token === null) return;
    const id = hashSecret(token);
    if (limiter.take(id)) return;
    const seconds = limiter.retryAfterSeconds(id);
    reply.header('retry-after', String(seconds));
    throw new VexilError('VXL_RATE_LIMITED', { message: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.` });
  };
}
