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
// Fixed scratch (module-level `const`: no TDZ checks on the hot path); longer messages allocate.
const SCRATCH_BYTES = 1024;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchView = new DataView(scratch.buffer);
const words = new Int32Array(80);

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as Node's crypto and Rust strings do). */
export function utf8Bytes(s: string): Uint8Array {
  // Most identifiers are ASCII: copying char codes beats a TextEncoder call by a wide margin.
  const n = s.length;
  if (n <= 64) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return textEncoder.encode(s);
      out[i] = c;
    }
    return out;
  }
  return textEncoder.encode(s);
}
const textEncoder = new TextEncoder();

/**
 * Bucket value in [0, 1] for SHA-1 over `prefix ‖ identifier ‖ salt` (all UTF-8 bytes).
 * The caller decides the empty-identifier rule (PostHog returns 0 without hashing).
 */
export function hashBytes(prefix: Uint8Array, identifier: Uint8Array, salt: Uint8Array): number {
  // Message + 0x80 + zero pad + 64-bit length, rounded up to whole 64-byte blocks.
  const pl = prefix.length, il = identifier.length, sl = salt.length;
  const len = pl + il + sl;
  const total = (((len + 8) >>> 6) + 1) << 6;
  const big = total > SCRATCH_BYTES;
  const b = big ? new Uint8Array(total) : scratch;
  const view = big ? new DataView(b.buffer) : scratchView;
  b.set(prefix, 0);
  let p = pl;
  // Typed-array copies beat byte loops here (≈ 5 % of a hash).
  b.set(identifier, p);
  p += il;
  if (sl > 0) {
    b.set(salt, p);
    p += sl;
  }
  b[p++] = 0x80;
  b.fill(0, p, total - 4);
  view.setUint32(total - 4, len * 8);
  let h0 = 0x67452301 | 0, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476 | 0, h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < total; off += 64) {
    let w: Int32Array = words;
    if (off > len) {
      // A block of nothing but zero padding and the length (a 56–63-byte message, e.g. most
      // variant hashes): its schedule depends on the length alone, so it is computed once.
      w = paddingSchedules[len] ??= scheduleOf(paddingBlock(len));
    } else {
      for (let i = 0; i < 16; i++) w[i] = view.getInt32(off + (i << 2));
      expand(w);
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4;
    // Rounds unrolled by five, rotating the roles of a–e instead of shuffling five variables.
    for (let i = 0; i < 20; i += 5) {
      e = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w[i]!) | 0; bb = (bb << 30) | (bb >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + d + 0x5a827999 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + c + 0x5a827999 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
      bb = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + bb + 0x5a827999 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
      a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
    }
    for (let i = 20; i < 40; i += 5) {
      e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0; bb = (bb << 30) | (bb >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0x6ed9eba1 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0x6ed9eba1 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
      bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0x6ed9eba1 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
      a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
    }
    for (let i = 40; i < 60; i += 5) {
      e = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e + 0x8f1bbcdc + w[i]!) | 0; bb = (bb << 30) | (bb >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + d + 0x8f1bbcdc + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + c + 0x8f1bbcdc + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
      bb = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + bb + 0x8f1bbcdc + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
      a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + a + 0x8f1bbcdc + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
    }
    for (let i = 60; i < 80; i += 5) {
      e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0xca62c1d6 + w[i]!) | 0; bb = (bb << 30) | (bb >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0xca62c1d6 + w[i + 1]!) | 0; a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0xca62c1d6 + w[i + 2]!) | 0; e = (e << 30) | (e >>> 2);
      bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0xca62c1d6 + w[i + 3]!) | 0; d = (d << 30) | (d >>> 2);
      a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0xca62c1d6 + w[i + 4]!) | 0; c = (c << 30) | (c >>> 2);
    }
    h0 = (h0 + a) | 0; h1 = (h1 + bb) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
  }
  // 15 hex digits = the 32 bits of h0 and the top 28 of h1. Both the product and the sum are
  // correctly rounded doubles, exactly as parseInt(hex15, 16) rounds the same integer.
  return ((h0 >>> 0) * 268435456 + ((h1 >>> 0) >>> 4)) / LONG_SCALE;
}
function expand(w: Int32Array): void {
  // Unrolled by four: about 7 % of a hash against the plain loop.
  for (let i = 16; i < 80; i += 4) {
    let x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
    x = w[i - 2]! ^ w[i - 7]! ^ w[i - 13]! ^ w[i - 15]!;
    w[i + 1] = (x << 1) | (x >>> 31);
    x = w[i - 1]! ^ w[i - 6]! ^ w[i - 12]! ^ w[i - 14]!;
    w[i + 2] = (x << 1) | (x >>> 31);
    x = w[i]! ^ w[i - 5]! ^ w[i - 11]! ^ w[i - 13]!;
    w[i + 3] = (x << 1) | (x >>> 31);
  }
}

const paddingSchedules: Int32Array[] = [];

function paddingBlock(len: number): Int32Array {
  const w = new Int32Array(80);
  w[15] = len * 8;
  return w;
}

function scheduleOf(w: Int32Array): Int32Array {
  expand(w);
  return w;
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
