/**
 * @module engine/sha1x4
 * Four SHA-1 digests at once: a WebAssembly SIMD kernel (one 32-bit lane per message) that the
 * engine uses to bucket a request's flags in batches.
 *
 * Why: bucketing is PostHog's SHA-1, run once or twice per flag, and a scalar JavaScript SHA-1
 * block costs ~600 cycles. WebAssembly's 128-bit SIMD runs the same rounds on four messages
 * with the same instruction count, so a batch of four costs about what one scalar hash does.
 *
 * The module is generated here, from code, rather than shipped as a binary: the 80 rounds are
 * unrolled by the generator (renaming a–e instead of moving them), and nothing is read from
 * disk. Compiling it is synchronous and takes well under a millisecond.
 *
 * Memory layout of one batch slot (`SLOT_BYTES`, starting at a slot base):
 * - the result at `base + RESULT_OFFSET`: per group of four lanes, h0 of its four lanes, then
 *   h1 (little-endian i32), which is all PostHog's 60-bit bucket needs;
 * - the message lengths in bytes at `base + LENGTHS_OFFSET`, and the messages' start offsets
 *   within their lanes at `base + STARTS_OFFSET` (little-endian i32, one per lane);
 * - lane j at `base + LANES_OFFSET + j * LANE_BYTES`, its message at the lane's start offset,
 *   unpadded: the kernel masks whatever follows a message and adds SHA-1's padding itself, so
 *   the caller writes only the message. Messages may start anywhere, so a caller can keep a
 *   shared tail (identifier, salt) in place and write each prefix just before it. Every lane of
 *   a batch must pad to the same number of blocks, at most `MAX_BLOCKS`, and start + 64 · blocks
 *   must stay within the lane.
 */

/** Blocks per message; byte offsets within a message must fit in a byte (the kernel's masks). */
import { I32, OP, SIMD, sleb, uleb, V128, wasmModule } from './wasm-binary.ts';

export const MAX_BLOCKS = 4;
/**
 * Groups of four lanes per call, their rounds interleaved. Two groups (eight lanes) measured
 * ~15 % slower per message than one on x64 (register spills), so one it is.
 */
export const GROUPS = 1;
export const LANES = 4 * GROUPS;
export const LANE_BYTES = 512;
export const RESULT_OFFSET = 0;
export const LENGTHS_OFFSET = 32 * GROUPS;
export const STARTS_OFFSET = 48 * GROUPS;
export const LANES_OFFSET = 64 * GROUPS;
export const SLOT_BYTES = LANES_OFFSET + LANES * LANE_BYTES;

/** Emits the code of `sha1x4(base: i32, blocks: i32)` (locals and instructions) for `groups` × 4 lanes. */
function kernelBody(groups: number): number[] {
  const code: number[] = [];
  // Locals: 0 base, 1 blocks (params); lane pointers (i32); then v128 locals.
  let nextLocal = 2;
  const local = () => nextLocal++;
  const lanes = Array.from({ length: groups * 4 }, (_, i) => i);
  const PTR = lanes.map(local);
  const i32Locals = nextLocal - 2;
  // Per group of four lanes: state, chaining value, schedule, lengths (as bytes, and in bits).
  const G = Array.from({ length: groups }, () => ({
    abcde: [local(), local(), local(), local(), local()],
    H: [local(), local(), local(), local(), local()],
    W: Array.from({ length: 16 }, local),
    L: [local(), local(), local(), local()],
    LENBITS: local(),
  }));
  const X = [local(), local(), local(), local()];
  const T = [local(), local(), local(), local()];
  const KL = [local(), local(), local(), local()];
  const BOFF = local();
  const PAD = local();
  const IDX = local();
  const vLocals = nextLocal - 2 - i32Locals;

  const get = (l: number) => code.push(0x20, l);
  const set = (l: number) => code.push(0x21, l);
  const simd = (op: number) => {
    code.push(SIMD);
    uleb(op, code);
  };
  const i32const = (n: number) => {
    code.push(0x41);
    sleb(n, code);
  };
  const i32load = (offset: number) => {
    code.push(0x28, 2); // i32.load align 4
    uleb(offset, code);
  };
  const v128const = (words: number[]) => {
    simd(OP.const);
    for (const x of words) code.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
  };
  const splat4 = (x: number) => v128const([x, x, x, x]);
  const shuffle = (bytes: number[]) => {
    simd(OP.shuffle);
    code.push(...bytes);
  };
  const memarg = (offset: number) => {
    code.push(4); // align 2^4
    uleb(offset, code);
  };
  /** Leaves rotl(local, n) on the stack. */
  const rotl = (l: number, n: number) => {
    get(l);
    i32const(n);
    simd(OP.shl);
    get(l);
    i32const(32 - n);
    simd(OP.shrU);
    simd(OP.or);
  };

  const decl: number[] = [];
  uleb(2, decl);
  uleb(i32Locals, decl);
  decl.push(I32);
  uleb(vLocals, decl);
  decl.push(V128);

  const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const K = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6];
  K.forEach((k, i) => {
    splat4(k);
    set(KL[i]!);
  });
  G.forEach((grp, g) => {
    IV.forEach((iv, i) => {
      splat4(iv);
      set(grp.H[i]!);
    });
    for (let j = 0; j < 4; j++) {
      get(0);
      i32load(LENGTHS_OFFSET + 4 * (4 * g + j));
      simd(OP.splat8);
      set(grp.L[j]!);
    }
    get(0); simd(OP.load); memarg(LENGTHS_OFFSET + 16 * g); i32const(3); simd(OP.shl); set(grp.LENBITS);
  });
  splat4(0); set(BOFF);
  splat4(0x80808080); set(PAD);
  for (const lane of lanes) {
    // ptr = base + LANES_OFFSET + lane·LANE_BYTES + start
    get(0); i32load(STARTS_OFFSET + 4 * lane);
    get(0); code.push(0x6a); // i32.add
    i32const(LANES_OFFSET + lane * LANE_BYTES); code.push(0x6a);
    set(PTR[lane]!);
  }

  // loop over blocks
  code.push(0x03, 0x40);
  G.forEach((grp, g) => {
    // Load 16 words per lane, byte-swapped to big-endian, transposed to one vector per word.
    for (let q = 0; q < 4; q++) {
      for (let j = 0; j < 4; j++) {
        get(PTR[4 * g + j]!);
        simd(OP.load);
        memarg(q * 16);
        set(X[j]!);
      }
      // Padding: bytes before the lane's length kept, 0x80 at the length, zeros after.
      get(BOFF);
      v128const([0, 1, 2, 3].map((r) => {
        const b = q * 16 + r * 4;
        return b | ((b + 1) << 8) | ((b + 2) << 16) | ((b + 3) << 24);
      }));
      simd(OP.add8);
      set(IDX);
      for (let j = 0; j < 4; j++) {
        get(X[j]!); get(IDX); get(grp.L[j]!); simd(OP.ltU8); simd(OP.and);
        get(IDX); get(grp.L[j]!); simd(OP.eq8); get(PAD); simd(OP.and);
        simd(OP.or);
        set(X[j]!);
      }
      // T0 = words 0,1 of lanes 0,1 interleaved and byte-swapped; T1 = words 2,3; same for 2,3.
      const lo = [3, 2, 1, 0, 19, 18, 17, 16, 7, 6, 5, 4, 23, 22, 21, 20];
      const hi = lo.map((x) => x + 8);
      get(X[0]!); get(X[1]!); shuffle(lo); set(T[0]!);
      get(X[0]!); get(X[1]!); shuffle(hi); set(T[1]!);
      get(X[2]!); get(X[3]!); shuffle(lo); set(T[2]!);
      get(X[2]!); get(X[3]!); shuffle(hi); set(T[3]!);
      const low64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
      const high64 = low64.map((x) => x + 8);
      get(T[0]!); get(T[2]!); shuffle(low64); set(grp.W[4 * q]!);
      get(T[0]!); get(T[2]!); shuffle(high64); set(grp.W[4 * q + 1]!);
      get(T[1]!); get(T[3]!); shuffle(low64); set(grp.W[4 * q + 2]!);
      get(T[1]!); get(T[3]!); shuffle(high64); set(grp.W[4 * q + 3]!);
    }
    // The last block ends with the 64-bit big-endian bit length (lengths are far below 2^29).
    get(1); i32const(1); code.push(0x46); // i32.eq
    code.push(0x04, 0x40); // if
    splat4(0); set(grp.W[14]!);
    get(grp.LENBITS); set(grp.W[15]!);
    code.push(0x0b);
    for (let i = 0; i < 5; i++) {
      get(grp.H[i]!);
      set(grp.abcde[i]!);
    }
  });
  splat4(0x40404040); get(BOFF); simd(OP.add8); set(BOFF);
  // Roles rotate each round: new a is written into the local that held e. The groups' rounds
  // are interleaved: their dependency chains are independent, so the CPU overlaps them.
  const roles = G.map((grp) => [...grp.abcde]);
  for (let t = 0; t < 80; t++) {
    G.forEach((grp, g) => {
      const [a, b, c, d, e] = roles[g]! as [number, number, number, number, number];
      const W = grp.W;
      const w = W[t & 15]!;
      if (t >= 16) {
        // w[t] = rotl1(w[t-3] ^ w[t-8] ^ w[t-14] ^ w[t-16]), in place of w[t-16].
        get(W[(t - 3) & 15]!); get(W[(t - 8) & 15]!); simd(OP.xor);
        get(W[(t - 14) & 15]!); simd(OP.xor);
        get(w); simd(OP.xor);
        set(w);
        rotl(w, 1);
        set(w);
      }
      // e + w + K + f first, rotl(a, 5) last: the round's dependency on a stays short.
      get(e); get(w); simd(OP.add);
      get(KL[(t / 20) | 0]!); simd(OP.add);
      if (t < 20) {
        // Ch(b,c,d): bits of c where b is set, else d.
        get(c); get(d); get(b); simd(OP.bitselect);
      } else if (t >= 40 && t < 60) {
        // Maj(b,c,d): where b and d agree, that bit; else c's.
        get(c); get(b); get(b); get(d); simd(OP.xor); simd(OP.bitselect);
      } else {
        get(b); get(c); simd(OP.xor); get(d); simd(OP.xor);
      }
      simd(OP.add);
      rotl(a, 5);
      simd(OP.add);
      set(e);
      rotl(b, 30);
      set(b);
      roles[g] = [e, a, b, c, d];
    });
  }
  G.forEach((grp, g) => {
    for (let i = 0; i < 5; i++) {
      get(grp.H[i]!); get(roles[g]![i]!); simd(OP.add); set(grp.H[i]!);
    }
  });
  // Next block: pointers += 64; blocks -= 1; loop while blocks != 0.
  for (const lane of lanes) {
    get(PTR[lane]!); i32const(64); code.push(0x6a); set(PTR[lane]!);
  }
  get(1); i32const(1); code.push(0x6b); code.push(0x22, 1); // local.tee blocks
  code.push(0x0d, 0); // br_if 0 (loop)
  code.push(0x0b); // end loop
  G.forEach((grp, g) => {
    get(0); get(grp.H[0]!); simd(OP.store); memarg(RESULT_OFFSET + 32 * g);
    get(0); get(grp.H[1]!); simd(OP.store); memarg(RESULT_OFFSET + 32 * g + 16);
  });
  code.push(0x0b); // end function

  return [...decl, ...code];
}

/** The whole module: one memory (exported) and one function `sha1x4(base, blocks)`. */
export function sha1x4ModuleBytes(memoryPages: number): Uint8Array {
  return wasmModule({ name: 'sha1x4', params: [I32, I32], memoryPages, body: kernelBody(GROUPS) });
}

export interface Sha1x4 {
  /** Hashes the four lanes of the slot at `base` (each padded to `blocks` blocks). */
  run(base: number, blocks: number): void;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
}

// The few WebAssembly JS API members used here (the project's `lib` has no WebAssembly types).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** Instantiates the kernel, or returns null where WebAssembly SIMD is unavailable. */
export function createSha1x4(slots: number): Sha1x4 | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  const pages = Math.ceil((slots * SLOT_BYTES) / 65536);
  try {
    const instance = new wasm.Instance(new wasm.Module(sha1x4ModuleBytes(pages)), {});
    const run = instance.exports.sha1x4 as (base: number, blocks: number) => void;
    const buffer = (instance.exports.memory as { buffer: ArrayBuffer }).buffer;
    return { run, bytes: new Uint8Array(buffer), words: new Int32Array(buffer) };
  } catch {
    // No SIMD support (CompileError): the scalar hash serves every bucket.
    return null;
  }
}
