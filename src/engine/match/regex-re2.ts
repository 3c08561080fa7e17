/**
 * @module engine/match/regex-re2
 * Translates a parsed pattern into RE2 syntax for re2js, when RE2 can express it exactly.
 */
import type { AssertKind, Node } from './regex-ast.ts';
import { re2Class } from './regex-class.ts';

/** RE2 rejects counted repetitions above 1000 (fancy_regex accepts them). */
const RE2_MAX_REPEAT = 1000;

/** What the translation needed, so the caller can pick flags and runtime guards. */
export interface Re2Translation {
  readonly source: string;
  /** The pattern has a look-behind: compile with `RE2JS.LOOKBEHINDS`. */
  readonly lookbehind: boolean;
  /** The pattern has `\b`/`\B`, which RE2 evaluates with ASCII word characters only. */
  readonly wordBoundary: boolean;
}

const ASSERTS: Readonly<Partial<Record<AssertKind, string>>> = {
  textStart: '\\A',
  textEnd: '\\z',
  lineStart: '(?m:^)',
  lineEnd: '(?m:$)',
  wordB: '\\b',
  notWordB: '\\B',
};

/** A code point as RE2 source: ASCII letters and digits as themselves, the rest as `\x{…}`. */
function re2Char(cp: number): string {
  return /^[0-9A-Za-z]$/.test(String.fromCharCode(cp)) && cp < 128
    ? String.fromCharCode(cp)
    : `\\x{${cp.toString(16).toUpperCase()}}`;
}

class Translator {
  lookbehind = false;
  wordBoundary = false;
  /** Uses `\A` or `(?m:^)`, which look at the text before the match start. */
  leftContext = false;

  /**
   * `tail` means nothing after this node has to match, so for a yes/no search a trailing
   * `(?=x)` may simply consume `x` (the same rewrite fancy_regex does) and `(?!c)` for one
   * character may become `(?:[^c]|\z)`. Returns null when RE2 cannot express the node.
   */
  node(n: Node, tail: boolean): string | null {
    switch (n.type) {
      case 'empty':
        return '(?:)';
      case 'char':
        return n.caseless ? `(?i:${re2Char(n.cp)})` : re2Char(n.cp);
      case 'set':
        return re2Class(n.item, n.caseless);
      case 'assert': {
        if (n.kind === 'wordB' || n.kind === 'notWordB') this.wordBoundary = true;
        if (n.kind === 'textStart' || n.kind === 'lineStart') this.leftContext = true;
        return ASSERTS[n.kind] ?? null;
      }
      case 'concat': {
        let out = '';
        for (let i = 0; i < n.items.length; i++) {
          const part = this.node(n.items[i]!, tail && i === n.items.length - 1);
          if (part === null) return null;
          out += part;
        }
        return out;
      }
      case 'alt': {
        const parts: string[] = [];
        for (const item of n.items) {
          const part = this.node(item, tail);
          if (part === null) return null;
          parts.push(part);
        }
        return `(?:${parts.join('|')})`;
      }
      case 'group': {
        // Captures are irrelevant to a yes/no answer; patterns with backreferences never get here.
        const body = this.node(n.body, tail);
        return body === null ? null : `(?:${body})`;
      }
      case 'repeat':
        return this.repeat(n.body, n.min, n.max, n.greedy);
      case 'look':
        return this.look(n.body, n.ahead, n.negate, tail);
      case 'atomic':
      case 'backref':
        return null;
    }
  }

  private repeat(bodyNode: Node, min: number, max: number, greedy: boolean): string | null {
    if (min > RE2_MAX_REPEAT || (max !== Infinity && max > RE2_MAX_REPEAT)) return null;
    const body = this.node(bodyNode, false);
    if (body === null) return null;
    let q: string;
    if (min === 0 && max === Infinity) q = '*';
    else if (min === 1 && max === Infinity) q = '+';
    else if (min === 0 && max === 1) q = '?';
    else if (max === Infinity) q = `{${min},}`;
    else q = min === max ? `{${min}}` : `{${min},${max}}`;
    return `(?:${body})${q}${greedy ? '' : '?'}`;
  }

  private look(bodyNode: Node, ahead: boolean, negate: boolean, tail: boolean): string | null {
    if (ahead) {
      if (!tail) return null;
      if (!negate) return this.node(bodyNode, true);
      if (bodyNode.type === 'set' || bodyNode.type === 'char') {
        const item =
          bodyNode.type === 'set' ? bodyNode.item : ({ k: 'range', lo: bodyNode.cp, hi: bodyNode.cp } as const);
        const cls = re2Class({ k: 'class', neg: true, items: [item] }, bodyNode.caseless);
        return cls === null ? null : `(?:${cls}|\\z)`;
      }
      return null;
    }
    // re2js runs capture-free look-behinds in linear time; it cannot nest look-arounds.
    const inner = new Translator();
    const body = inner.node(bodyNode, false);
    if (body === null || inner.lookbehind) return null;
    this.lookbehind = true;
    this.wordBoundary ||= inner.wordBoundary;
    this.leftContext ||= inner.leftContext;
    return `(?<${negate ? '!' : '='}${body})`;
  }
}

/**
 * Translates `root` to RE2 syntax with identical yes/no search semantics, apart from `\b`
 * (see {@link Re2Translation.wordBoundary}). Returns null when the pattern needs backtracking
 * features RE2 lacks: backreferences, atomic groups, look-ahead other than trailing, `\Z`, `\<`.
 */
export function translateToRe2(root: Node): Re2Translation | null {
  const t = new Translator();
  const source = t.node(root, true);
  return source === null ? null : { source, lookbehind: t.lookbehind, wordBoundary: t.wordBoundary };
}

/**
 * Translates a sub-pattern the backtracker hands to re2js: `lookAhead` also allows the trailing
 * look-ahead rewrites (the end of a look-ahead body is free). Null when not expressible, or when
 * it looks left of its start (`\A`, `^`, `\b`, look-behind): re2js sees a sliced subject.
 */
export function translateDelegate(node: Node, lookAhead: boolean): string | null {
  const t = new Translator();
  const source = t.node(node, lookAhead);
  return source === null || t.lookbehind || t.wordBoundary || t.leftContext ? null : source;
}
