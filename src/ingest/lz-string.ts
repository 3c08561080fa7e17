/**
 * @module ingest/lz-string
 * LZ-String `decompressFromBase64`, the `compression=lz64` encoding of older posthog-js and
 * posthog-react-native "form" capture mode (spec §9). Only decompression: Vexil never sends it.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** Bit reader over 6-bit base64 symbols, most significant bit first (LZ-String's `getNextValue`). */
class Bits {
  private value: number;
  private position = 32;
  private index = 1;

  constructor(private readonly input: string) {
    this.value = this.symbol(0);
  }

  private symbol(i: number): number {
    const v = VALUE.get(this.input.charAt(i));
    // A character outside the alphabet reads as 0 in the reference implementation; we refuse it.
    if (v === undefined) throw new LzError();
    return v;
  }

  /** True once every input symbol has been consumed (the reference's `index > length`). */
  exhausted(): boolean {
    return this.index > this.input.length;
  }

  read(count: number): number {
    let bits = 0;
    for (let power = 0; power < count; power++) {
      const bit = this.value & this.position;
      this.position >>= 1;
      if (this.position === 0) {
        this.position = 32;
        this.value = this.index < this.input.length ? this.symbol(this.index) : 0;
        this.index++;
      }
      if (bit > 0) bits |= 1 << power;
    }
    return bits;
  }
}

class LzError extends Error {}

/** Longest output accepted, in UTF-16 code units, so a crafted input cannot grow without bound. */
export interface LzLimits {
  maxChars: number;
}

/**
 * Decompresses an LZ-String base64 payload. Returns null when the input is not valid LZ-String
 * (bad alphabet, dangling reference, truncated stream) or the output would exceed `maxChars`.
 * Never throws.
 */
export function decompressFromBase64(input: string, limits: LzLimits): string | null {
  if (input === '') return null;
  try {
    return decompress(input, limits.maxChars);
  } catch (err) {
    if (err instanceof LzError) return null;
    throw err;
  }
}

function decompress(input: string, maxChars: number): string | null {
  const bits = new Bits(input);
  const dictionary: string[] = ['', '', ''];
  let enlargeIn = 4;
  let dictSize = 4;
  let numBits = 3;
  let length = 0;

  let c: string;
  switch (bits.read(2)) {
    case 0:
      c = String.fromCharCode(bits.read(8));
      break;
    case 1:
      c = String.fromCharCode(bits.read(16));
      break;
    default:
      return null;
  }
  dictionary[3] = c;
  let w = c;
  const out: string[] = [c];
  length += c.length;

  for (;;) {
    if (bits.exhausted()) return null;
    let code = bits.read(numBits);
    if (code === 0 || code === 1) {
      dictionary[dictSize++] = String.fromCharCode(bits.read(code === 0 ? 8 : 16));
      code = dictSize - 1;
      enlargeIn--;
    } else if (code === 2) {
      return out.join('');
    }
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
    let entry: string;
    const known = dictionary[code];
    if (known !== undefined && code >= 3) entry = known;
    else if (code === dictSize) entry = w + w.charAt(0);
    else return null;
    out.push(entry);
    length += entry.length;
    if (length > maxChars) return null;
    dictionary[dictSize++] = w + entry.charAt(0);
    enlargeIn--;
    w = entry;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
}
