/**
 * @module engine/match/regex-parse
 * Parses PostHog regex filters in Rust `fancy_regex` syntax into a {@link Node} tree.
 */
import type { AssertKind, Node, ParsedRegex, SetItem } from './regex-ast.ts';
import { ClassReader, RegexSyntaxError } from './regex-parse-class.ts';

/** Deepest group nesting accepted; deeper patterns are rejected rather than risk the call stack. */
const MAX_DEPTH = 200;
/** Largest repetition count; fancy_regex would hit its compiled-size limit long before this. */
const MAX_REPEAT = 10_000;

interface Flags {
  i: boolean; // case-insensitive
  m: boolean; // multi-line ^ $
  s: boolean; // . matches \n
  x: boolean; // ignore whitespace, # comments
  U: boolean; // swap greed
}

const SIMPLE_ASSERTS: Readonly<Record<string, AssertKind>> = {
  A: 'textStart', z: 'textEnd', Z: 'textEndNl', G: 'textStart', b: 'wordB', B: 'notWordB', '<': 'wordStart', '>': 'wordEnd',
};

class Parser extends ClassReader {
  private flags: Flags = { i: false, m: false, s: false, x: false, U: false };
  private depth = 0;
  groupCount = 0;
  private readonly names = new Map<string, number>();
  readonly referenced = new Set<number>();

  parse(): Node {
    const root = this.parseAlt();
    if (this.pos < this.src.length) throw new RegexSyntaxError('unmatched )');
    for (const index of this.referenced) if (index > this.groupCount) throw new RegexSyntaxError('unknown group');
    return root;
  }

  /** In `(?x)` mode whitespace and `#` comments between atoms are not part of the pattern. */
  private skipSpace(): void {
    if (!this.flags.x) return;
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.pos++;
      else if (c === '#') {
        const nl = this.src.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.src.length : nl + 1;
      } else return;
    }
  }

  private parseAlt(): Node {
    const branches = [this.parseConcat()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      branches.push(this.parseConcat());
    }
    return branches.length === 1 ? branches[0]! : { type: 'alt', items: branches };
  }

  private parseConcat(): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.parseAtom();
      if (atom !== null) items.push(this.parseQuantifier(atom));
    }
    return items.length === 1 ? items[0]! : items.length === 0 ? { type: 'empty' } : { type: 'concat', items };
  }

  private parseQuantifier(atom: Node): Node {
    this.skipSpace();
    const c = this.src[this.pos];
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '{') {
      const counted = this.readCounted();
      // fancy_regex quirk: a `{` that does not start a valid repetition is a literal `{`.
      if (counted === null) return atom;
      [min, max] = counted;
      this.pos--;
    } else return atom;
    this.pos++;
    this.skipSpace();
    let greedy = true;
    if (this.src[this.pos] === '?') {
      greedy = false;
      this.pos++;
    }
    if (this.flags.U) greedy = !greedy;
    const node: Node = { type: 'repeat', body: atom, min, max, greedy };
    if (this.src[this.pos] === '+') {
      // Possessive `x*+` is the atomic group `(?>x*)`, as in fancy_regex.
      this.pos++;
      return { type: 'atomic', body: node };
    }
    return node;
  }

  /** Reads `{n}`, `{n,}`, `{n,m}` or `{,m}`; leaves `pos` just past `}`. Null (pos unchanged) if not one. */
  private readCounted(): [number, number] | null {
    const start = this.pos;
    const fail = (): null => {
      this.pos = start;
      return null;
    };
    this.pos++;
    this.skipSpace();
    const lo = this.src[this.pos] === ',' ? 0 : this.readDecimal();
    if (lo === null) return fail();
    this.skipSpace();
    let hi: number | null = lo;
    if (this.src[this.pos] === ',') {
      this.pos++;
      this.skipSpace();
      hi = this.readDecimal() ?? Infinity;
      this.skipSpace();
    }
    if (this.src[this.pos] !== '}') return fail();
    this.pos++;
    if (lo > hi || lo > MAX_REPEAT || (hi !== Infinity && hi > MAX_REPEAT)) throw new RegexSyntaxError('bad repeat');
    return [lo, hi];
  }

  /** One atom, or null for constructs that match nothing themselves (`(?i)`, `(?#…)`). */
  private parseAtom(): Node | null {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.parseGroup();
      case '[':
        return this.setNode(this.readClass());
      case '\\':
        return this.parseEscape();
      case '.':
        this.pos++;
        return this.setNode({ k: 'any', nl: this.flags.s });
      case '^':
        this.pos++;
        return { type: 'assert', kind: this.flags.m ? 'lineStart' : 'textStart' };
      case '$':
        this.pos++;
        return { type: 'assert', kind: this.flags.m ? 'lineEnd' : 'textEnd' };
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError('nothing to repeat');
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return { type: 'char', cp, caseless: this.flags.i };
      }
    }
  }

  private setNode(item: SetItem): Node {
    return { type: 'set', item, caseless: this.flags.i };
  }

  private parseEscape(): Node {
    const c = this.src[this.pos + 1];
    if (c === undefined) throw new RegexSyntaxError('trailing backslash');
    if (c >= '1' && c <= '9') {
      this.pos++;
      return this.backref(this.readDecimal()!);
    }
    if (c === 'k') {
      this.pos += 2;
      const close = { '<': '>', '{': '}', "'": "'" }[this.src[this.pos] ?? ''];
      if (close === undefined) throw new RegexSyntaxError('bad \\k');
      return this.namedBackref(this.readUntil(close, 1));
    }
    if (c === 'b' && this.src.startsWith('{', this.pos + 2)) {
      const m = /^\\b\{(start|end)\}/.exec(this.src.slice(this.pos, this.pos + 9));
      if (m === null) throw new RegexSyntaxError('bad \\b{…}');
      this.pos += m[0].length;
      return { type: 'assert', kind: m[1] === 'start' ? 'wordStart' : 'wordEnd' };
    }
    const kind = SIMPLE_ASSERTS[c];
    if (kind !== undefined) {
      this.pos += 2;
      return { type: 'assert', kind };
    }
    if (c === 'K') {
      // \K only moves the reported match start; a yes/no search does not see it.
      this.pos += 2;
      return { type: 'empty' };
    }
    const item = this.readEscapeItem();
    return item.k === 'range' && item.lo === item.hi
      ? { type: 'char', cp: item.lo, caseless: this.flags.i }
      : this.setNode(item);
  }

  private backref(index: number): Node {
    if (index === 0) throw new RegexSyntaxError('\\0');
    this.referenced.add(index);
    return { type: 'backref', index, caseless: this.flags.i };
  }

  private namedBackref(name: string): Node {
    if (/^[0-9]+$/.test(name)) return this.backref(Number(name));
    const index = this.names.get(name);
    if (index === undefined) throw new RegexSyntaxError('unknown group name');
    return this.backref(index);
  }

  private parseGroup(): Node | null {
    if (++this.depth > MAX_DEPTH) throw new RegexSyntaxError('nested too deeply');
    this.pos++;
    let node: Node | null;
    const rest = this.src.slice(this.pos, this.pos + 4);
    if (rest.startsWith('?#')) {
      // fancy_regex comment group; it may not contain `)`.
      this.readUntil(')', 2);
      node = null;
    } else if (rest.startsWith('?P=')) {
      node = this.namedBackref(this.readUntil(')', 3));
    } else if (/^\?(=|!|<=|<!)/.test(rest)) {
      const ahead = rest[1] !== '<';
      const negate = rest[ahead ? 1 : 2] === '!';
      this.pos += ahead ? 2 : 3;
      node = { type: 'look', ahead, negate, body: this.parseBody() };
    } else if (rest.startsWith('?>')) {
      this.pos += 2;
      node = { type: 'atomic', body: this.parseBody() };
    } else if (rest.startsWith('?P<') || rest.startsWith('?<')) {
      const name = this.readUntil('>', rest[1] === 'P' ? 3 : 2);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || this.names.has(name)) throw new RegexSyntaxError('bad group name');
      const index = ++this.groupCount;
      this.names.set(name, index);
      node = { type: 'group', index, body: this.parseBody() };
    } else if (rest.startsWith('?')) {
      node = this.parseFlags();
    } else {
      const index = ++this.groupCount;
      node = { type: 'group', index, body: this.parseBody() };
    }
    this.depth--;
    return node;
  }

  /** A group body up to and past its `)`; flags changed inside do not leak out (Rust semantics). */
  private parseBody(): Node {
    const saved = { ...this.flags };
    const body = this.parseAlt();
    this.flags = saved;
    if (this.src[this.pos] !== ')') throw new RegexSyntaxError('unclosed group');
    this.pos++;
    return body;
  }

  /** `(?imsxU-imsxU)` changes flags for the rest of the enclosing group; `(?flags:…)` only inside. */
  private parseFlags(): Node | null {
    const saved = { ...this.flags };
    let negate = false;
    let count = 0;
    for (this.pos++; ; this.pos++) {
      const c = this.src[this.pos];
      if (c === 'i' || c === 'm' || c === 's' || c === 'x' || c === 'U') {
        this.flags[c] = !negate;
        count++;
      } else if (c === 'u' && !negate) count++;
      else if (c === '-' && !negate) {
        negate = true;
        count = 0;
      } else if ((c === ')' || c === ':') && count > 0) break;
      else if (c === ':' && !negate && this.src[this.pos - 1] === '?') break; // plain `(?:…)`
      else throw new RegexSyntaxError('unknown flag');
    }
    if (this.src[this.pos++] === ')') return null;
    const body = this.parseBody();
    this.flags = saved;
    return { type: 'group', index: null, body };
  }
}

/**
 * Parses a pattern in fancy_regex syntax (regex-crate syntax plus look-around, backreferences,
 * atomic groups and possessive quantifiers). Returns null when the pattern is invalid.
 */
export function parseRegex(pattern: string): ParsedRegex | null {
  const parser = new Parser(pattern);
  try {
    const root = parser.parse();
    return { root, groupCount: parser.groupCount, referenced: parser.referenced };
  } catch (err) {
    if (err instanceof RegexSyntaxError) return null;
    throw err;
  }
}
