/**
 * @module engine/match/regex-unicode
 * Unicode facts for user regexes: property names resolved the way Rust's regex crate resolves
 * them, Rust's Unicode `\d \w \s`, word characters and simple case folding.
 */
import { RE2JS } from 're2js';

/** General categories: canonical short name first, then the other accepted names. */
const GENERAL_CATEGORIES: readonly (readonly string[])[] = [
  ['L', 'Letter'], ['LC', 'Cased_Letter'], ['Lu', 'Uppercase_Letter'], ['Ll', 'Lowercase_Letter'],
  ['Lt', 'Titlecase_Letter'], ['Lm', 'Modifier_Letter'], ['Lo', 'Other_Letter'],
  ['M', 'Mark', 'Combining_Mark'], ['Mn', 'Nonspacing_Mark'], ['Mc', 'Spacing_Mark'], ['Me', 'Enclosing_Mark'],
  ['N', 'Number'], ['Nd', 'Decimal_Number', 'digit'], ['Nl', 'Letter_Number'], ['No', 'Other_Number'],
  ['P', 'Punctuation', 'punct'], ['Pc', 'Connector_Punctuation'], ['Pd', 'Dash_Punctuation'],
  ['Ps', 'Open_Punctuation'], ['Pe', 'Close_Punctuation'], ['Pi', 'Initial_Punctuation'],
  ['Pf', 'Final_Punctuation'], ['Po', 'Other_Punctuation'],
  ['S', 'Symbol'], ['Sm', 'Math_Symbol'], ['Sc', 'Currency_Symbol'], ['Sk', 'Modifier_Symbol'], ['So', 'Other_Symbol'],
  ['Z', 'Separator'], ['Zs', 'Space_Separator'], ['Zl', 'Line_Separator'], ['Zp', 'Paragraph_Separator'],
  ['C', 'Other'], ['Cc', 'Control', 'cntrl'], ['Cf', 'Format'], ['Cs', 'Surrogate'], ['Co', 'Private_Use'],
  ['Cn', 'Unassigned'],
];

/** Binary properties both Rust and JS know; short aliases map to the long name. */
const BINARY_PROPERTIES: readonly string[] = [
  'ASCII', 'ASCII_Hex_Digit', 'Alphabetic', 'Any', 'Assigned', 'Bidi_Control', 'Bidi_Mirrored', 'Case_Ignorable',
  'Cased', 'Changes_When_Casefolded', 'Changes_When_Casemapped', 'Changes_When_Lowercased',
  'Changes_When_NFKC_Casefolded', 'Changes_When_Titlecased', 'Changes_When_Uppercased', 'Dash',
  'Default_Ignorable_Code_Point', 'Deprecated', 'Diacritic', 'Emoji', 'Emoji_Component', 'Emoji_Modifier',
  'Emoji_Modifier_Base', 'Emoji_Presentation', 'Extended_Pictographic', 'Extender', 'Grapheme_Base',
  'Grapheme_Extend', 'Hex_Digit', 'IDS_Binary_Operator', 'IDS_Trinary_Operator', 'ID_Continue', 'ID_Start',
  'Ideographic', 'Join_Control', 'Logical_Order_Exception', 'Lowercase', 'Math', 'Noncharacter_Code_Point',
  'Pattern_Syntax', 'Pattern_White_Space', 'Quotation_Mark', 'Radical', 'Regional_Indicator',
  'Sentence_Terminal', 'Soft_Dotted', 'Terminal_Punctuation', 'Unified_Ideograph', 'Uppercase',
  'Variation_Selector', 'White_Space', 'XID_Continue', 'XID_Start',
];
const BINARY_ALIASES: Readonly<Record<string, string>> = {
  alpha: 'Alphabetic', wspace: 'White_Space', space: 'White_Space', upper: 'Uppercase', lower: 'Lowercase',
  ahex: 'ASCII_Hex_Digit', hex: 'Hex_Digit', xdigit: 'Hex_Digit', ids: 'ID_Start', idc: 'ID_Continue',
  xids: 'XID_Start', xidc: 'XID_Continue', ideo: 'Ideographic', epres: 'Emoji_Presentation',
  emod: 'Emoji_Modifier', ebase: 'Emoji_Modifier_Base', ecomp: 'Emoji_Component', extpict: 'Extended_Pictographic',
  ri: 'Regional_Indicator', joinc: 'Join_Control', di: 'Default_Ignorable_Code_Point', dep: 'Deprecated',
};

/** Rust matches property names loosely: case, spaces, `_` and `-` are ignored (UAX #44 LM3). */
function loose(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

const gcByLoose = new Map<string, string>();
for (const names of GENERAL_CATEGORIES) for (const n of names) gcByLoose.set(loose(n), names[0]!);
const binaryByLoose = new Map<string, string>();
for (const n of BINARY_PROPERTIES) binaryByLoose.set(loose(n), n);
for (const [alias, n] of Object.entries(BINARY_ALIASES)) binaryByLoose.set(alias, n);

/** Whether JS (and so our backtracker) knows the `\p{…}` body; only ever called with `[A-Za-z0-9_=]` text. */
function jsKnows(body: string): boolean {
  try {
    new RegExp(`\\p{${body}}`, 'u');
    return true;
  } catch {
    return false;
  }
}

const re2Cache = new Map<string, boolean>();
/** Whether re2js accepts `\p{body}`; cached because it compiles a pattern. */
function re2Knows(body: string): boolean {
  let known = re2Cache.get(body);
  if (known === undefined) {
    try {
      RE2JS.compile(`\\p{${body}}`);
      known = true;
    } catch {
      known = false;
    }
    re2Cache.set(body, known);
  }
  return known;
}

/** Script names are written `Old_Italic`; users may write `old italic`, `old-italic` or `Grek`. */
function scriptCandidates(value: string): string[] {
  const words = value.split(/[\s_-]+/).filter((w) => w.length > 0);
  const title = words.map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()).join('_');
  return [value, title].filter((c) => /^[A-Za-z0-9_]+$/.test(c));
}

/** A resolved property: its `\p{…}` body for JS and for RE2 (null when RE2 cannot name it). */
export interface ResolvedProperty {
  readonly js: string;
  readonly re2: string | null;
  readonly neg: boolean;
}

function resolveScript(value: string, extensions: boolean): ResolvedProperty | null {
  for (const cand of scriptCandidates(value)) {
    const js = `${extensions ? 'Script_Extensions' : 'Script'}=${cand}`;
    if (jsKnows(js)) return { js, re2: !extensions && re2Knows(cand) ? cand : null, neg: false };
  }
  return null;
}

/**
 * Resolves the text inside `\p{…}` (or the single letter of `\pL`) like Rust's regex crate:
 * general categories, scripts, `sc=`/`scx=`/`gc=` forms, `!=` negation and common binary
 * properties. Returns null for names neither Rust nor JS would accept as we map them.
 */
export function resolveProperty(text: string): ResolvedProperty | null {
  // Split `name=value`, `name:value` or `name!=value` by hand: this text is user input.
  const sep = text.search(/[=:]/);
  if (sep >= 0) {
    const neg = sep > 0 && text[sep - 1] === '!';
    const key = loose(text.slice(0, neg ? sep - 1 : sep));
    const value = text.slice(sep + 1).trim();
    let res: ResolvedProperty | null = null;
    if (key === 'gc' || key === 'generalcategory') {
      const gc = gcByLoose.get(loose(value));
      res = gc === undefined ? null : { js: gc, re2: re2Knows(gc) ? gc : null, neg: false };
    } else if (key === 'sc' || key === 'script') res = resolveScript(value, false);
    else if (key === 'scx' || key === 'scriptextensions') res = resolveScript(value, true);
    return res === null ? null : { ...res, neg: res.neg !== neg };
  }
  const key = loose(text);
  const gc = gcByLoose.get(key);
  if (gc !== undefined) return { js: gc, re2: re2Knows(gc) ? gc : null, neg: false };
  const bin = binaryByLoose.get(key);
  if (bin !== undefined && jsKnows(bin)) return { js: bin, re2: re2Knows(bin) ? bin : null, neg: false };
  return resolveScript(text.trim(), false);
}

/** Rust's Unicode Perl classes (UTS #18 Annex C), as JS `v`-mode class operands. */
export const PERL_JS: Readonly<Record<'d' | 'w' | 's' | 'h', string>> = {
  d: '\\p{Nd}',
  w: '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]',
  s: '\\p{White_Space}',
  h: '[0-9A-Fa-f]',
};

/** The same classes as RE2 class contents (to splice inside `[…]`); Join_Control is U+200C–U+200D. */
export const PERL_RE2: Readonly<Record<'d' | 'w' | 's' | 'h', string>> = {
  d: '\\p{Nd}',
  w: '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}-\\x{200D}',
  s: '\\p{White_Space}',
  h: '0-9A-Fa-f',
};

const WORD_STICKY = new RegExp(PERL_JS.w, 'vy');
const ASCII_WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_WORD[c] = /\w/.test(String.fromCharCode(c)) ? 1 : 0;

/** Whether the code point starting at UTF-16 index `i` is a Unicode word character (Rust `\w`). */
export function isWordAt(s: string, i: number): boolean {
  if (i < 0 || i >= s.length) return false;
  const c = s.charCodeAt(i);
  if (c < 128) return ASCII_WORD[c] === 1;
  WORD_STICKY.lastIndex = i;
  return WORD_STICKY.test(s);
}

/** UTF-16 index where the code point ending just before index `i` (> 0) starts. */
export function previousCodePoint(s: string, i: number): number {
  const low = s.charCodeAt(i - 1);
  return low >= 0xdc00 && low <= 0xdfff && i >= 2 && (s.charCodeAt(i - 2) & 0xfc00) === 0xd800 ? i - 2 : i - 1;
}

/** Whether the code point ending just before UTF-16 index `i` is a word character. */
export function isWordBefore(s: string, i: number): boolean {
  return i > 0 && isWordAt(s, previousCodePoint(s, i));
}

/**
 * Subjects containing a non-ASCII word character, where RE2's ASCII-only `\b` would disagree with
 * Rust's Unicode `\b`. A fixed, trusted pattern: it has no backtracking.
 */
export const NON_ASCII_WORD = new RegExp(`[${PERL_JS.w}--[\\0-\\x7F]]`, 'v');

const foldCache = new Map<number, RegExp>();
/** Equality under Unicode simple case folding (what Rust's `(?i)` uses), via JS's `iu` canonicalisation. */
export function foldEquals(a: number, b: number): boolean {
  if (a === b) return true;
  let re = foldCache.get(a);
  if (re === undefined) {
    // Bounded: only code points that appear in case-insensitive backreferences land here.
    if (foldCache.size > 4096) foldCache.clear();
    re = new RegExp(`^\\u{${a.toString(16)}}$`, 'iu');
    foldCache.set(a, re);
  }
  return re.test(String.fromCodePoint(b));
}

/**
 * Matches `s[from, to)` again at `pos` (a backreference), code point by code point, optionally
 * under simple case folding. Returns the end position, or -1.
 */
export function matchRepeat(s: string, from: number, to: number, pos: number, caseless: boolean): number {
  let i = from;
  let j = pos;
  while (i < to) {
    if (j >= s.length) return -1;
    const a = s.codePointAt(i)!;
    const b = s.codePointAt(j)!;
    if (a !== b && !(caseless && foldEquals(a, b))) return -1;
    i += a > 0xffff ? 2 : 1;
    j += b > 0xffff ? 2 : 1;
  }
  return j;
}
