/**
 * @module engine/match/regex-parse-class
 * Reads bracket classes and escapes in Rust regex syntax: nesting, `&&` `--` `~~`, POSIX
 * classes, `\p{…}`, and the escapes fancy_regex accepts.
 */
import type { SetItem } from './regex-ast.ts';
import { resolveProperty } from './regex-unicode.ts';

/** Thrown inside the parser for an invalid pattern; the public entry point turns it into null. */
export class RegexSyntaxError extends Error {}

const MAX_CLASS_DEPTH = 50;

const r = (lo: number, hi: number = lo): SetItem => ({ k: 'range', lo, hi });
const cc = (s: string): number => s.charCodeAt(0);

/** ASCII POSIX classes as the regex crate defines them. */
const POSIX: Readonly<Record<string, readonly SetItem[]>> = {
  alnum: [r(cc('0'), cc('9')), r(cc('A'), cc('Z')), r(cc('a'), cc('z'))],
  alpha: [r(cc('A'), cc('Z')), r(cc('a'), cc('z'))],
  ascii: [r(0, 0x7f)],
  blank: [r(9), r(32)],
  cntrl: [r(0, 0x1f), r(0x7f)],
  digit: [r(cc('0'), cc('9'))],
  graph: [r(0x21, 0x7e)],
  lower: [r(cc('a'), cc('z'))],
  print: [r(0x20, 0x7e)],
  punct: [r(0x21, 0x2f), r(0x3a, 0x40), r(0x5b, 0x60), r(0x7b, 0x7e)],
  space: [r(9, 13), r(32)],
  upper: [r(cc('A'), cc('Z'))],
  word: [r(cc('0'), cc('9')), r(cc('A'), cc('Z')), r(cc('a'), cc('z')), r(cc('_'))],
  xdigit: [r(cc('0'), cc('9')), r(cc('A'), cc('F')), r(cc('a'), cc('f'))],
};

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { a: 7, e: 0x1b, f: 0xc, n: 0xa, r: 0xd, t: 9, v: 0xb };

/** Cursor over the pattern with the class, escape and small token readers; the parser extends it. */
export class ClassReader {
  pos = 0;
  private classDepth = 0;

  constructor(readonly src: string) {}

  /** Reads a run of decimal digits at `pos`, or null when there is none. */
  protected readDecimal(): number | null {
    const m = /^[0-9]+/.exec(this.src.slice(this.pos, this.pos + 12));
    if (m === null) return null;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** Reads text from `pos + skip` up to `close`; leaves `pos` past `close`. */
  protected readUntil(close: string, skip: number): string {
    const end = this.src.indexOf(close, this.pos + skip);
    if (end < 0) throw new RegexSyntaxError('unclosed');
    const text = this.src.slice(this.pos + skip, end);
    this.pos = end + 1;
    return text;
  }

  /** Reads `[…]` at `pos`. Whitespace inside is literal even in `(?x)` mode, as in fancy_regex. */
  readClass(): SetItem {
    if (++this.classDepth > MAX_CLASS_DEPTH) throw new RegexSyntaxError('class nested too deeply');
    this.pos++;
    const neg = this.src[this.pos] === '^';
    if (neg) this.pos++;
    let union: SetItem[] = [];
    let left: SetItem | null = null;
    let op: '&&' | '--' | '~~' | null = null;
    // A `]` right after `[` or `[^` is a literal.
    if (this.src[this.pos] === ']') {
      union.push(r(cc(']')));
      this.pos++;
    }
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) throw new RegexSyntaxError('unclosed class');
      if (c === ']') {
        this.pos++;
        break;
      }
      const two = this.src.slice(this.pos, this.pos + 2);
      if ((two === '&&' || two === '--' || two === '~~') && union.length > 0) {
        const operand: SetItem = { k: 'class', neg: false, items: union };
        left = left === null || op === null ? operand : { k: 'op', op, a: left, b: operand };
        op = two;
        union = [];
        this.pos += 2;
        continue;
      }
      union.push(this.readClassItem());
    }
    this.classDepth--;
    const last: SetItem = { k: 'class', neg: false, items: union };
    const body: SetItem = left === null || op === null ? last : { k: 'op', op, a: left, b: last };
    return neg ? { k: 'class', neg: true, items: [body] } : body;
  }

  private readClassItem(): SetItem {
    const c = this.src[this.pos]!;
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 12));
      if (posix !== null) {
        const ranges = POSIX[posix[2]!];
        if (ranges === undefined) throw new RegexSyntaxError('unknown POSIX class');
        this.pos += posix[0].length;
        return { k: 'class', neg: posix[1] === '^', items: ranges };
      }
      return this.readClass();
    }
    const lo = c === '\\' ? this.readEscapeItem() : this.readLiteral();
    if (lo.k !== 'range') return lo;
    // `a-z` is a range unless `-` is last (`[a-]`) or starts a `--` difference.
    if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== '-') {
      this.pos++;
      if (this.src[this.pos] === '[') throw new RegexSyntaxError('bad range');
      const hi = this.src[this.pos] === '\\' ? this.readEscapeItem() : this.readLiteral();
      if (hi.k !== 'range' || hi.lo < lo.lo) throw new RegexSyntaxError('bad range');
      return r(lo.lo, hi.lo);
    }
    return lo;
  }

  private readLiteral(): SetItem {
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return r(cp);
  }

  /**
   * Reads an escape that denotes characters (not an assertion or backreference) at `pos`:
   * a single code point as a one-element range, a Perl class or a Unicode property.
   */
  readEscapeItem(): SetItem {
    const c = this.src[this.pos + 1];
    if (c === undefined) throw new RegexSyntaxError('trailing backslash');
    this.pos += 2;
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return r(control);
    const lower = c.toLowerCase();
    if (lower === 'd' || lower === 'w' || lower === 's' || lower === 'h') {
      return { k: 'perl', c: lower, neg: c !== lower };
    }
    if (c === 'p' || c === 'P') return this.readProperty(c === 'P');
    if (c === 'x') return r(this.readHex(2));
    if (c === 'u') return r(this.readHex(4));
    if (c === 'U') return r(this.readHex(8));
    const code = c.charCodeAt(0);
    // Any escaped ASCII punctuation or space is itself; escaped letters and digits must be known.
    if (code >= 0x20 && code <= 0x7e && !/[0-9A-Za-z]/.test(c)) return r(code);
    throw new RegexSyntaxError('unknown escape');
  }

  /** `\x41`, `\u0041`, `\U00000041` (exactly `digits` hex digits) or the braced `\x{41}` forms. */
  private readHex(digits: number): number {
    let text: string;
    if (this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) throw new RegexSyntaxError('unclosed hex');
      text = this.src.slice(this.pos + 1, end);
      if (text.length === 0 || text.length > 8) throw new RegexSyntaxError('bad hex');
      this.pos = end + 1;
    } else {
      text = this.src.slice(this.pos, this.pos + digits);
      if (text.length !== digits) throw new RegexSyntaxError('bad hex');
      this.pos += digits;
    }
    if (!/^[0-9A-Fa-f]+$/.test(text)) throw new RegexSyntaxError('bad hex');
    const cp = parseInt(text, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new RegexSyntaxError('bad code point');
    return cp;
  }

  private readProperty(negated: boolean): SetItem {
    let text: string;
    if (this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) throw new RegexSyntaxError('unclosed property');
      text = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      text = this.src[this.pos] ?? '';
      this.pos++;
    }
    const prop = resolveProperty(text);
    if (prop === null || text.length === 0) throw new RegexSyntaxError('unknown property');
    return { k: 'prop', js: prop.js, re2: prop.re2, neg: negated !== prop.neg };
  }
}
