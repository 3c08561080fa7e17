/**
 * @module engine/match/regex-class
 * Renders character classes for the two engines: JS `v`-mode single-class tests for the
 * backtracker, and RE2 class syntax for re2js where RE2 can say it exactly.
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

const testCache = new Map<string, CharTest>();

/**
 * Compiles a class for the backtracker. The regex is one class with no quantifier: constant
 * time per test. Shared between patterns (a test holds no per-call state beyond `lastIndex`,
 * which every use sets first), so long case-insensitive patterns compile few regexes.
 */
export function compileCharTest(item: SetItem, caseless: boolean): CharTest {
  const source = jsClass(item);
  const flags = caseless ? 'vyi' : 'vy';
  const key = flags + source;
  const cached = testCache.get(key);
  if (cached !== undefined) return cached;
  const re = new RegExp(source, flags);
  const ascii = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    re.lastIndex = 0;
    ascii[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
  }
  if (testCache.size >= 4096) testCache.clear();
  const test = { ascii, re };
  testCache.set(key, test);
  return test;
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

/** Sorted, disjoint, non-adjacent code point ranges. */
type Ranges = readonly (readonly [number, number])[];

function normalize(ranges: (readonly [number, number])[]): Ranges {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(ranges: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

const union = (a: Ranges, b: Ranges): Ranges => normalize([...a, ...b]);
const intersect = (a: Ranges, b: Ranges): Ranges => complement(union(complement(a), complement(b)));

/** Ranges of a class built from literal ranges only (set operations included); null if it has properties. */
function rangesOf(item: SetItem): Ranges | null {
  switch (item.k) {
    case 'range':
      return [[item.lo, item.hi]];
    case 'any':
      return item.nl ? [[0, 0x10ffff]] : [[0, 9], [11, 0x10ffff]];
    case 'class': {
      let acc: Ranges = [];
      for (const child of item.items) {
        const r = rangesOf(child);
        if (r === null) return null;
        acc = union(acc, r);
      }
      return item.neg ? complement(acc) : acc;
    }
    case 'op': {
      const a = rangesOf(item.a);
      const b = rangesOf(item.b);
      if (a === null || b === null) return null;
      if (item.op === '&&') return intersect(a, b);
      if (item.op === '--') return intersect(a, complement(b));
      return union(intersect(a, complement(b)), intersect(b, complement(a)));
    }
    default:
      return null;
  }
}

const EMPTY = '[^\\x{0}-\\x{10FFFF}]';

/** RE2 class atoms whose union is the item, or null when RE2 cannot express it. */
function re2Alternatives(item: SetItem, foldsLater: boolean): string[] | null {
  const pieces = re2Pieces(item);
  if (pieces !== null) return [pieces === '' ? EMPTY : `[${pieces}]`];
  if (item.k === 'perl') return [`[^${PERL_RE2[item.c]}]`];
  if (item.k === 'class' && !item.neg) {
    // A union with negated members (`[\\W_]`) is an alternation of classes.
    const out: string[] = [];
    let spliced = '';
    for (const child of item.items) {
      const piece = re2Pieces(child);
      const alts = piece === null ? re2Alternatives(child, foldsLater) : [];
      if (alts === null) return null;
      if (piece !== null) spliced += piece;
      out.push(...alts);
    }
    return spliced === '' ? out : [`[${spliced}]`, ...out];
  }
  if (item.k === 'class') {
    const inner = re2Pieces({ k: 'class', neg: false, items: item.items });
    if (inner !== null) return [inner === '' ? '[\\x{0}-\\x{10FFFF}]' : `[^${inner}]`];
  }
  // Rust case-folds each operand before a set operation; computed ranges folded afterwards
  // could differ, so under (?i) such classes are left to the backtracker.
  const ranges = foldsLater ? null : rangesOf(item);
  if (ranges === null) return null;
  if (ranges.length === 0) return [EMPTY];
  return [`[${ranges.map(([lo, hi]) => re2Pieces({ k: 'range', lo, hi })).join('')}]`];
}

/**
 * The item as one RE2 atom, or null when RE2 cannot express it exactly: set operations over
 * Unicode properties or Perl classes, and properties re2js does not know (ID_Start, scx=…).
 */
export function re2Class(item: SetItem, caseless: boolean): string | null {
  const alts = re2Alternatives(item, caseless);
  if (alts === null) return null;
  const body = alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
  return caseless ? `(?i:${body})` : body;
}
