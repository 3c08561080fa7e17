/**
 * @module engine/hash
 * PostHog's bucketing hash, bit-exact (spec §3): the first 15 hex digits of
 * SHA-1(prefix + identifier + salt) as an integer, divided by 0xFFFFFFFFFFFFFFF.
 *
 * Why a hand-written SHA-1: the hash runs up to twice per flag per request, and Node's
 * `createHash` costs 0.3–0.9 µs a call (object, hex string, parseInt). Here a flag's prefix
 * bytes are encoded once at compile time, the identifier once per request, and the digest is
 * computed into preallocated scratch memory, reading only the 60 bits PostHog uses.
 * `hash.test.ts` checks it against `node:crypto` and the spec's worked examples.
 */

const LONG_SCALE = 0xfffffffffffffff;

// Scratch memory, reused by every call: the engine is synchronous, so there is no reentrancy.
let buffer = new Uint8Array(256);
const words = new Int32Array(80);

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as Node's crypto and Rust strings do). */
export function utf8Bytes(s: string): Uint8Array {
  return textEncoder.encode(s);
}
const textEncoder = new TextEncoder();

function ensureCapacity(n: number): void {
  if (buffer.length >= n) return;
  let size = buffer.length;
  while (size < n) size *= 2;
  buffer = new Uint8Array(size);
}

/**
 * Bucket value in [0, 1] for SHA-1 over `prefix ‖ identifier ‖ salt` (all UTF-8 bytes).
 * The caller decides the empty-identifier rule (PostHog returns 0 without hashing).
 */
export function hashBytes(prefix: Uint8Array, identifier: Uint8Array, salt: Uint8Array): number {
  const len = prefix.length + identifier.length + salt.length;
  // Message + 0x80 + zero pad + 8-byte length, rounded up to whole 64-byte blocks.
  const total = (((len + 8) >>> 6) + 1) << 6;
  ensureCapacity(total);
  const b = buffer;
  b.set(prefix, 0);
  b.set(identifier, prefix.length);
  b.set(salt, prefix.length + identifier.length);
  b[len] = 0x80;
  b.fill(0, len + 1, total);
  const bitLen = len * 8;
  // Messages here are far below 2^32 bits, so the high length word stays zero.
  b[total - 4] = bitLen >>> 24;
  b[total - 3] = (bitLen >>> 16) & 0xff;
  b[total - 2] = (bitLen >>> 8) & 0xff;
  b[total - 1] = bitLen & 0xff;

  let h0 = 0x67452301 | 0;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476 | 0;
  let h4 = 0xc3d2e1f0 | 0;
  const w = words;
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) {
      const j = off + (i << 2);
      w[i] = (b[j]! << 24) | (b[j + 1]! << 16) | (b[j + 2]! << 8) | b[j + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let bb = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = t;
    }
    for (let i = 20; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = t;
    }
    for (let i = 40; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e + 0x8f1bbcdc + w[i]!) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = t;
    }
    for (let i = 60; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0xca62c1d6 + w[i]!) | 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + bb) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  // 15 hex digits = the 32 bits of h0 and the top 28 of h1. Both the product and the sum are
  // correctly rounded doubles, exactly as parseInt(hex15, 16) rounds the same integer.
  return ((h0 >>> 0) * 268435456 + ((h1 >>> 0) >>> 4)) / LONG_SCALE;
}

const EMPTY = new Uint8Array(0);
const VARIANT_SALT = utf8Bytes('variant');

/**
 * PostHog's `_hash(key, identifier, salt)`: SHA-1 of `key + "." + identifier + salt`.
 * Convenience form for tests and callers outside the hot path.
 */
export function hashBucket(flagKey: string, identifier: string, salt = ''): number {
  return hashBytes(utf8Bytes(`${flagKey}.`), utf8Bytes(identifier), salt === 'variant' ? VARIANT_SALT : utf8Bytes(salt));
}

export const SALT_NONE = EMPTY;
export const SALT_VARIANT = VARIANT_SALT;
