/**
 * @module engine/wasm-binary
 * A minimal WebAssembly binary writer: LEB128 numbers, the opcodes the SHA-1 kernel uses, and a
 * module of one exported function and one exported memory. Enough for `sha1x4`, no more.
 */

export function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

export function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

export const V128 = 0x7b;
export const I32 = 0x7f;
/** Prefix of SIMD instructions; the opcode follows as an unsigned LEB128. */
export const SIMD = 0xfd;
/** SIMD opcodes (after the 0xfd prefix). */
export const OP = {
  load: 0x00, store: 0x0b, const: 0x0c, shuffle: 0x0d, splat8: 0x0f, splat: 0x11,
  eq8: 0x23, ltU8: 0x26, add8: 0x6e,
  not: 0x4d, and: 0x4e, or: 0x50, xor: 0x51, bitselect: 0x52,
  shl: 171, shrU: 173, add: 174,
} as const;

/**
 * A module exporting one function `name` (params of the given value types, no results) and its
 * memory as `memory`. `body` is the function's code entry: locals declaration and instructions,
 * ending with `end`, without the size prefix.
 */
export function wasmModule(spec: { name: string; params: number[]; memoryPages: number; body: number[] }): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, spec.params.length, ...spec.params, 0], out); // one type: params -> ()
  section(3, [1, 0], out); // function 0 has type 0
  const mem: number[] = [1, 0];
  uleb(spec.memoryPages, mem);
  section(5, mem, out);
  const exp: number[] = [2];
  const name = (s: string) => {
    uleb(s.length, exp);
    for (const ch of s) exp.push(ch.charCodeAt(0));
  };
  name(spec.name);
  exp.push(0x00, 0);
  name('memory');
  exp.push(0x02, 0);
  section(7, exp, out);
  const entry: number[] = [];
  uleb(spec.body.length, entry);
  section(10, [1, ...entry, ...spec.body], out);
  return Uint8Array.from(out);
}
