/**
 * @module auth/keys
 * Generating, hashing and comparing Vexil's secrets: project tokens (`phc_…`, public), project
 * secret keys (`phs_…`) and personal API keys (`phx_…`). Secrets are stored only as SHA-256 hex.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'phc' | 'phs' | 'phx';

/** A new random token of the given kind, e.g. `phx_3kQ…` (43 url-safe chars of entropy). */
export function generateToken(kind: TokenKind): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 hex of a secret, as stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The kind of a presented secret by its prefix, or null when it has none of ours. */
export function tokenKind(token: string): TokenKind | null {
  if (token.startsWith('phc_')) return 'phc';
  if (token.startsWith('phs_')) return 'phs';
  if (token.startsWith('phx_')) return 'phx';
  return null;
}

/** Reads `Authorization: Bearer <token>`; null when absent or not a Bearer header. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** How a stored key is shown once its value is gone: its first and last four characters (PostHog's mask_value). */
export function maskKey(value: string): string {
  return `${value.slice(0, 4)}...${value.slice(-4)}`;
}
