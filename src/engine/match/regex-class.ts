/**
 * @module engine/match/regex-class
 * Renders character classes for the two engines: JS `v`-mode single-class tests for the
 * backtracker, and RE2 class syntax for re2js (enumerating code points when RE2 cannot say it).
 */
import type { SetItem } from './regex-ast.ts';
import { PERL_JS, PERL_RE2 } from './regex-unicode.ts';

const hex = (cp: number): string => cp.toString(16).toUpperCase();

/**
 * The item as one JS `v`-mode class operand. Only code points (as `\u{…}`) and property names
 * that `resolveProperty` validated reach the source, so user text cannot inject syntax.
 */
export function jsClass(item: SetItem): string {
  switch (item.k) {
    case 'range':
      return item.lo === item.hi ? `[\\u{${hex(item.lo)}}]` : `[\\u{${hex(item.lo)}}-\\u{${hex(item.hi)}}]`;
    case 'prop':
      return `\\${item.neg ? 'P' : 'p'}{${item.js}}`;
    case 'perl':
      return item.neg ? `[^${PERL_JS[item.c]}]` : PERL_JS[item.c];
    case 'class':
      return `[${item.neg ? '^' : ''}${item.items.map(jsClass).join('')}]`;
    case 'op': {
      const a = jsClass(item.a);
      const b = jsClass(item.b);
      // v-mode has no symmetric difference: (A − B) ∪ (B − A).
      return item.op === '~~' ? `[[${a}--${b}][${b}--${a}]]` : `[${a}${item.op}${b}]`;
    }
    case 'any':
      return item.nl ? '\\p{Any}' : '[^\\n]';
  }
}

/** A compiled single-code-point test: an ASCII lookup table plus a sticky class regex for the rest. */
export interface CharTest {
  readonly ascii: Uint8Array;
  readonly re: RegExp;
}

/** Compiles a class for the backtracker. The regex is one class with no quantifier: constant time. */
export function compileCharTest(item: SetItem, caseless: boolean): CharTest {
  const re = new RegExp(jsClass(item), caseless ? 'vyi' : 'vy');
  const ascii = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    re.lastIndex = 0;
    ascii[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
  }
  return { ascii, re };
}

/** Whether the code point starting at UTF-16 index `i` of `s` is in the class. */
export function testCharAt(t: CharTest, s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return t.ascii[c] === 1;
  t.re.lastIndex = i;
  return t.re.test(s);
}

/** RE2 text that can be spliced into a positive `[…]`, or null when the item is not a plain union. */
function re2Pieces(item: SetItem): string | null {
  switch (item.k) {
    case 'range':
      return item.lo === item.hi ? `\\x{${hex(item.lo)}}` : `\\x{${hex(item.lo)}}-\\x{${hex(item.hi)}}`;
    case 'prop':
      return item.re2 === null ? null : `\\${item.neg ? 'P' : 'p'}{${item.re2}}`;
    case 'perl':
      if (!item.neg) return PERL_RE2[item.c];
      return item.c === 'd' ? '\\P{Nd}' : item.c === 's' ? '\\P{White_Space}' : null;
    case 'class': {
      if (item.neg) return null;
      let out = '';
      for (const child of item.items) {
        const piece = re2Pieces(child);
        if (piece === null) return null;
        out += piece;
      }
      return out;
    }
    case 'op':
      return null;
    case 'any':
      return item.nl ? '\\x{0}-\\x{10FFFF}' : '\\x{0}-\\x{9}\\x{B}-\\x{10FFFF}';
  }
}

/**
 * The item as one RE2 atom. Set operations, negated Unicode `\w` inside a union and properties
 * RE2 lacks have no RE2 spelling, so those classes are expanded to explicit ranges once.
 */
export function re2Class(item: SetItem, caseless: boolean): string {
  let body: string | null;
  if (item.k === 'class' && item.neg) {
    const inner = re2Pieces({ k: 'class', neg: false, items: item.items });
    body = inner === null ? null : `[^${inner}]`;
  } else {
    const pieces = re2Pieces(item);
    body = pieces === null ? null : `[${pieces}]`;
  }
  if (body === null) return enumerateToRe2(item, caseless);
  if (body === '[]') return '[^\\x{0}-\\x{10FFFF}]';
  return caseless ? `(?i:${body})` : body;
}

let allCodePoints: string | null = null;
/** Every non-surrogate code point once, in order (built on first need, about 2 M UTF-16 units). */
function everyCodePoint(): string {
  if (allCodePoints === null) {
    const chunks: string[] = [];
    const buf: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      buf.push(cp);
      if (buf.length === 4096) {
        chunks.push(String.fromCodePoint(...buf));
        buf.length = 0;
      }
    }
    chunks.push(String.fromCodePoint(...buf));
    allCodePoints = chunks.join('');
  }
  return allCodePoints;
}

const enumCache = new Map<string, string>();
/** Expands a class to RE2 ranges by running its JS form over every code point (linear, trusted regex). */
function enumerateToRe2(item: SetItem, caseless: boolean): string {
  const source = jsClass(item);
  const key = `${caseless ? 'i' : '-'}${source}`;
  const cached = enumCache.get(key);
  if (cached !== undefined) return cached;
  const all = everyCodePoint();
  let pieces = '';
  for (const m of all.matchAll(new RegExp(`${source}+`, caseless ? 'gvi' : 'gv'))) {
    const run = m[0];
    const lo = run.codePointAt(0)!;
    const lastUnit = run.charCodeAt(run.length - 1);
    const hi = lastUnit >= 0xdc00 && lastUnit <= 0xdfff ? run.codePointAt(run.length - 2)! : lastUnit;
    pieces += lo === hi ? `\\x{${hex(lo)}}` : `\\x{${hex(lo)}}-\\x{${hex(hi)}}`;
  }
  const out = pieces === '' ? '[^\\x{0}-\\x{10FFFF}]' : `[${pieces}]`;
  enumCache.set(key, out);
  return out;
}
