/**
 * @module engine/bucket-batch
 * Computes many PostHog buckets (spec §3) together: messages are packed four to a batch and
 * hashed by the SIMD kernel (`sha1x4`), so four hashes cost about what one scalar hash does.
 *
 * Messages are grouped by their padded length in blocks (every lane of a batch must have the
 * same block count); a batch runs as soon as it has four lanes, and `finishBuckets` runs the
 * partial ones. Messages longer than the kernel's slot, or a runtime without WebAssembly SIMD,
 * fall back to the scalar `hashBytes`: the value is identical either way.
 */
import { hashBytes } from './hash.ts';
import { createSha1x4, LANE_BYTES, LANES, LANES_OFFSET, LENGTHS_OFFSET, MAX_BLOCKS, RESULT_OFFSET, SLOT_BYTES, STARTS_OFFSET } from './sha1x4.ts';

const LONG_SCALE = 0xfffffffffffffff;
/**
 * Where a lane's identifier starts: the identifier and salt stay written there for as long as
 * the lane keeps hashing the same identifier (a request's flags mostly share one), and each
 * message only writes its prefix (`flag key + "."`, up to this long) right before it.
 */
const TAIL_AT = 192;

// One slot per block count (1…MAX_BLOCKS). Module state is safe: evaluation is synchronous.
const kernel = createSha1x4(MAX_BLOCKS);
const lanesFilled = new Int32Array(MAX_BLOCKS + 1);
const laneTarget = new Int32Array((MAX_BLOCKS + 1) * LANES);
// Per lane (slot · 4 + lane): the identifier and the salt written at TAIL_AT (salt after it).
const laneIds: (Uint8Array | null)[] = new Array<Uint8Array | null>(MAX_BLOCKS * LANES).fill(null);
const laneSalts: (Uint8Array | null)[] = new Array<Uint8Array | null>(MAX_BLOCKS * LANES).fill(null);
let target: Float64Array = new Float64Array(0);

/**
 * Starts a batch whose buckets are written into `out` at the indexes given to `addBucket`.
 * Lanes queued and never finished (an abandoned batch) are dropped.
 */
export function beginBuckets(out: Float64Array): void {
  for (let b = 0; b <= MAX_BLOCKS; b++) lanesFilled[b] = 0;
  target = out;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * A prefix as the kernel's memory wants it before a lane's tail: right-aligned to a 32-bit
 * boundary (zeros first), as little-endian words, so queueing a message stores a few words
 * instead of copying bytes. Computed once per flag, at compile time.
 */
export function alignedPrefix(prefix: Uint8Array): Int32Array {
  const bytes = new Uint8Array(((prefix.length + 3) >> 2) << 2);
  bytes.set(prefix, bytes.length - prefix.length);
  return leWords(bytes);
}

/** Bytes as little-endian 32-bit words, the last one zero-filled. */
function leWords(bytes: Uint8Array): Int32Array {
  const n = bytes.length;
  const words = new Int32Array((n + 3) >> 2);
  const whole = n >> 2;
  for (let w = 0; w < whole; w++) {
    const i = w << 2;
    words[w] = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
  }
  for (let i = whole << 2; i < n; i++) words[whole]! |= bytes[i]! << ((i & 3) << 3);
  return words;
}

// The identifier whose words were computed last: a request's flags mostly share one.
let lastId: Uint8Array | null = null;
let lastIdWords: Int32Array = new Int32Array(0);

/**
 * Queues the bucket of `prefix ‖ id ‖ salt` (id non-empty) to be written at `out[index]`;
 * `words` is `alignedPrefix(prefix)`, or null. Lanes keep an identifier's bytes by identity,
 * so `id` and `salt` must never be mutated.
 */
export function addBucket(prefix: Uint8Array, words: Int32Array | null, id: Uint8Array, salt: Uint8Array, index: number): void {
  const pl = prefix.length, il = id.length, sl = salt.length;
  const len = pl + il + sl;
  const blocks = ((len + 8) >>> 6) + 1;
  if (kernel === null || blocks > MAX_BLOCKS || pl > TAIL_AT) {
    target[index] = hashBytes(prefix, id, salt);
    return;
  }
  const lane = lanesFilled[blocks]!;
  const slot = (blocks - 1) * SLOT_BYTES;
  const tail = slot + LANES_OFFSET + lane * LANE_BYTES + TAIL_AT;
  const mem = kernel.bytes;
  const l = (blocks - 1) * LANES + lane;
  const memWords = kernel.words;
  if (laneIds[l] !== id) {
    if (LITTLE_ENDIAN) {
      // Whole words (TAIL_AT is aligned); the bytes past the identifier are the salt's or masked.
      if (id !== lastId) {
        lastId = id;
        lastIdWords = leWords(id);
      }
      const at = tail >> 2;
      const w = lastIdWords;
      for (let i = 0; i < w.length; i++) memWords[at + i] = w[i]!;
    } else {
      copy(id, mem, tail);
    }
    laneIds[l] = id;
    laneSalts[l] = null;
  }
  if (sl > 0 && laneSalts[l] !== salt) {
    copy(salt, mem, tail + il);
    laneSalts[l] = salt;
  }
  if (words !== null && LITTLE_ENDIAN) {
    // TAIL_AT and every slot and lane offset are multiples of 4.
    const at = (tail >> 2) - words.length;
    for (let i = 0; i < words.length; i++) memWords[at + i] = words[i]!;
  } else {
    copy(prefix, mem, tail - pl);
  }
  memWords[((slot + STARTS_OFFSET) >> 2) + lane] = TAIL_AT - pl;
  memWords[((slot + LENGTHS_OFFSET) >> 2) + lane] = len;
  laneTarget[blocks * LANES + lane] = index;
  if (lane === LANES - 1) run(blocks, LANES);
  else lanesFilled[blocks] = lane + 1;
}

/**
 * Byte copy: `set` into the WebAssembly memory's view costs ~30 ns a call (measured), several
 * times a loop over the dozen-odd bytes of a flag key.
 */
function copy(from: Uint8Array, to: Uint8Array, at: number): void {
  const n = from.length;
  if (n > 64) {
    to.set(from, at);
    return;
  }
  for (let i = 0; i < n; i++) to[at + i] = from[i]!;
}

/** Hashes the partly filled batches: every queued bucket is in `out` afterwards; more may follow. */
export function finishBuckets(): void {
  for (let blocks = 1; blocks <= MAX_BLOCKS; blocks++) {
    const n = lanesFilled[blocks]!;
    if (n > 0) run(blocks, n);
  }
}

function run(blocks: number, lanes: number): void {
  const k = kernel!;
  const slot = (blocks - 1) * SLOT_BYTES;
  k.run(slot, blocks);
  const words = k.words;
  const r = (slot + RESULT_OFFSET) >> 2;
  for (let j = 0; j < lanes; j++) {
    // Lane j's h0 and h1 sit in its group's pair of vectors. Same 60 bits and the same rounding
    // as `hashBytes`.
    const w = r + ((j >> 2) << 3) + (j & 3);
    target[laneTarget[blocks * LANES + j]!] = ((words[w]! >>> 0) * 268435456 + ((words[w + 4]! >>> 0) >>> 4)) / LONG_SCALE;
  }
  lanesFilled[blocks] = 0;
}

/** Whether buckets are hashed by the SIMD kernel (false: scalar fallback). */
export const simdBuckets = kernel !== null;
