/**
 * @module admin/flag-payloads
 * Remote-configuration flags and encrypted payloads on the admin API, as PostHog's
 * FeatureFlagSerializer handles them (posthog/helpers/encrypted_flag_payloads.py): a write with
 * `has_encrypted_payloads` stores each `filters.payloads` value as a Fernet token; a read with a
 * personal API key (the admin API's only credential) gets the plaintext back.
 */
import { decryptPayloads, encryptPayloads, type PayloadCipher } from '../auth/payload-cipher.ts';
import { VexilError } from '../errors.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow } from '../store/store.ts';

/** The flag as the admin API shows it: encrypted payloads decrypted. */
export function plainFlag(flag: FlagRow, cipher: PayloadCipher | null): FlagRow {
  return flag.hasEncryptedPayloads ? { ...flag, filters: decryptPayloads(flag.filters, cipher) } : flag;
}

/** What a create or update asks for, and what the flag has now (null on create). */
export interface PayloadWrite {
  isRemoteConfiguration: boolean | undefined;
  hasEncryptedPayloads: boolean | undefined;
  /** Validated plaintext filters of the request; undefined when the write keeps the stored ones. */
  filters: FlagFiltersDef | undefined;
}

/**
 * The filters to store: the request's payloads encrypted when the flag is (or becomes)
 * encrypted, or the stored payloads re-encoded when only the encryption switch changes.
 * undefined leaves the stored filters as they are.
 * @throws VexilError 400 when encryption is asked for a flag that is not remote configuration,
 * or when no key is configured (PostgreSQL without VEXIL_FLAGS_SECRET_KEYS).
 */
export function filtersToStore(write: PayloadWrite, stored: FlagRow | null, cipher: PayloadCipher | null): FlagFiltersDef | undefined {
  const remote = write.isRemoteConfiguration ?? stored?.isRemoteConfiguration ?? false;
  const encrypted = write.hasEncryptedPayloads ?? stored?.hasEncryptedPayloads ?? false;
  const wasEncrypted = stored?.hasEncryptedPayloads ?? false;
  if (encrypted && !remote) {
    // PostHog offers encryption only on remote-configuration flags, the ones /flags never serves.
    throw new VexilError('VXL_VALIDATION', {
      message: 'Encrypted payloads are only supported on remote configuration flags (is_remote_configuration).',
      attr: 'has_encrypted_payloads',
    });
  }
  let plain = write.filters;
  if (plain === undefined) {
    if (stored === null || encrypted === wasEncrypted) return undefined;
    plain = wasEncrypted ? decryptPayloads(stored.filters, cipher) : stored.filters;
  }
  if (!encrypted) return plain;
  if (!cipher) {
    throw new VexilError('VXL_VALIDATION', {
      message: 'Encrypted payloads need VEXIL_FLAGS_SECRET_KEYS to be set on this server.',
      attr: 'has_encrypted_payloads',
    });
  }
  return encryptPayloads(plain, cipher);
}
