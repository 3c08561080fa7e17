/**
 * @module auth/payload-cipher
 * Encryption at rest of flag payloads, as PostHog's `encrypt_flag_payloads` does it: Fernet
 * tokens under a MultiFernet of every configured secret (the first encrypts, all decrypt, so
 * keys rotate by putting the new one first). Secrets are prepared like PostHog's EncryptionCodec
 * (posthog/temporal/common/codec.py `_prepare_key`): the secret's UTF-8 bytes left-padded with
 * NUL bytes or truncated to 32, then URL-safe base64. The same secret list therefore reads
 * payloads PostHog wrote under its FLAGS_SECRET_KEYS, and the reverse.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fernet } from 'fernet-nodejs';
import type { FlagFiltersDef } from '../engine/types.ts';
import { VexilError } from '../errors.ts';

/** Encrypts and decrypts payload strings; throws when a token matches no key. */
export interface PayloadCipher {
  encrypt(plaintext: string): string;
  decrypt(token: string): string;
}

/** PostHog's `_resize_key` + `urlsafe_b64encode`: a Fernet key from any secret string. */
export function fernetKeyOf(secret: string): string {
  const raw = Buffer.from(secret, 'utf8');
  const sized = Buffer.alloc(32);
  // Left-pad: the secret's bytes end at byte 32; a longer secret keeps its first 32 bytes.
  if (raw.length >= 32) raw.copy(sized, 0, 0, 32);
  else raw.copy(sized, 32 - raw.length);
  return sized.toString('base64url').padEnd(44, '=');
}

/**
 * A MultiFernet over `secrets` (at least one). Which key is tried in which order never shows in
 * the result: a token that no key opens is one error.
 */
export function createPayloadCipher(secrets: readonly string[]): PayloadCipher {
  if (secrets.length === 0) throw new Error('createPayloadCipher needs at least one secret');
  const keys = secrets.map(fernetKeyOf);
  return {
    encrypt: (plaintext) => Fernet.encrypt(plaintext, keys[0]!),
    decrypt: (token) => {
      for (const key of keys) {
        try {
          return Fernet.decrypt(token, key);
        } catch {
          // Wrong key or not a token: try the next one, as MultiFernet does.
        }
      }
      throw new Error('flag payload could not be decrypted with any configured key');
    },
  };
}

/** PostHog's REDACTED_PAYLOAD_VALUE: a JSON string literal, quotes included. */
export const REDACTED_PAYLOAD = '"********* (encrypted)"';

function mapPayloads(filters: FlagFiltersDef, f: (value: string) => string): FlagFiltersDef {
  const payloads = (filters as { payloads?: Record<string, unknown> | null }).payloads;
  if (!payloads || typeof payloads !== 'object') return filters;
  const out: Record<string, unknown> = {};
  // Validated payloads are JSON text; any other JSON value is encrypted as its JSON text.
  for (const [k, v] of Object.entries(payloads)) out[k] = f(typeof v === 'string' ? v : JSON.stringify(v));
  return { ...filters, payloads: out } as FlagFiltersDef;
}

/** Each payload value as plaintext; throws a 500 VexilError when a token matches no key. */
export function decryptPayloads(filters: FlagFiltersDef, cipher: PayloadCipher | null): FlagFiltersDef {
  try {
    if (!cipher) throw new Error('no key configured for encrypted flag payloads');
    return mapPayloads(filters, (v) => cipher.decrypt(v));
  } catch (err) {
    throw new VexilError('VXL_INTERNAL', { cause: err });
  }
}

/** Each payload value as a Fernet token under the cipher's first key. */
export function encryptPayloads(filters: FlagFiltersDef, cipher: PayloadCipher): FlagFiltersDef {
  return mapPayloads(filters, (v) => cipher.encrypt(v));
}

/** Name of the generated secret inside the embedded database's data directory. */
export const GENERATED_KEY_FILE = 'flags-secret-key';

/**
 * A cipher whose single secret lives in `dir`/flags-secret-key, created (mode 0600) the first
 * time a payload is encrypted or decrypted, so a data directory that never holds an encrypted
 * payload never gets a key file. For the embedded database, whose data already lives in `dir`.
 */
export function createGeneratedKeyCipher(dir: string): PayloadCipher {
  let cipher: PayloadCipher | null = null;
  const get = (): PayloadCipher => {
    if (cipher) return cipher;
    const file = join(dir, GENERATED_KEY_FILE);
    let secret: string;
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      secret = randomBytes(32).toString('base64url');
      mkdirSync(dir, { recursive: true });
      // `wx`: if another process created it meanwhile, fail rather than overwrite its key.
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    }
    cipher = createPayloadCipher([secret]);
    return cipher;
  };
  return { encrypt: (p) => get().encrypt(p), decrypt: (t) => get().decrypt(t) };
}
