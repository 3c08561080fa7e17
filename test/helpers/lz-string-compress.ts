/**
 * @module test/helpers/lz-string-compress
 * LZ-String `compressToBase64`, as old posthog-js and posthog-react-native call it to build
 * `data=…&compression=lz64` bodies. Tests only: Vexil itself only decompresses.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

/** The base64 form of LZ-String compression (6 bits per output character, `=` padded). */
export function compressToBase64(input: string): string {
  const out = compress(input, 6, (a) => ALPHABET.charAt(a));
  return out + '='.repeat((4 - (out.length % 4)) % 4);
}

function compress(input: string, bitsPerChar: number, charOf: (n: number) => string): string {
  const dictionary = new Map<string, number>();
  const toCreate = new Set<string>();
  let w = '';
  let enlargeIn = 2;
  let dictSize = 3;
  let numBits = 2;
  const data: string[] = [];
  let val = 0;
  let position = 0;

  const writeBit = (bit: number): void => {
    val = (val << 1) | bit;
    if (position === bitsPerChar - 1) {
      position = 0;
      data.push(charOf(val));
      val = 0;
    } else position++;
  };
  const writeBits = (value: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      writeBit(value & 1);
      value >>= 1;
    }
  };
  const decrement = (): void => {
    enlargeIn--;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  };
  const emit = (token: string): void => {
    if (toCreate.has(token)) {
      const code = token.charCodeAt(0);
      if (code < 256) {
        writeBits(0, numBits);
        writeBits(code, 8);
      } else {
        writeBits(1, numBits);
        writeBits(code, 16);
      }
      decrement();
      toCreate.delete(token);
    } else {
      writeBits(dictionary.get(token)!, numBits);
    }
    decrement();
  };

  for (const c of input.split('')) {
    if (!dictionary.has(c)) {
      dictionary.set(c, dictSize++);
      toCreate.add(c);
    }
    const wc = w + c;
    if (dictionary.has(wc)) {
      w = wc;
    } else {
      emit(w);
      dictionary.set(wc, dictSize++);
      w = c;
    }
  }
  if (w !== '') emit(w);
  writeBits(2, numBits);
  for (;;) {
    val <<= 1;
    if (position === bitsPerChar - 1) {
      data.push(charOf(val));
      break;
    }
    position++;
  }
  return data.join('');
}
