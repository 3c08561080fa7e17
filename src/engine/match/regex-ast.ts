/**
 * @module engine/match/regex-ast
 * The syntax tree shared by the regex parser, the RE2 translator and the backtracking matcher.
 */

/** One item of a character class, kept symbolic so each engine can render it in its own syntax. */
export type SetItem =
  | { readonly k: 'range'; readonly lo: number; readonly hi: number }
  /** A resolved Unicode property: `js` is its `\p{…}` body in JS syntax, `re2` the same for RE2 (null: RE2 lacks it). */
  | { readonly k: 'prop'; readonly js: string; readonly re2: string | null; readonly neg: boolean }
  /** Perl classes, Unicode-aware as in Rust's regex crate (`h` is fancy_regex's ASCII hex digit). */
  | { readonly k: 'perl'; readonly c: 'd' | 'w' | 's' | 'h'; readonly neg: boolean }
  | { readonly k: 'class'; readonly neg: boolean; readonly items: readonly SetItem[] }
  | { readonly k: 'op'; readonly op: '&&' | '--' | '~~'; readonly a: SetItem; readonly b: SetItem }
  /** `.`: any code point, or any but `\n`. */
  | { readonly k: 'any'; readonly nl: boolean };

/** Zero-width assertions. `textEndNl` is `\Z`; `\G` becomes `textStart` (we only ever search from 0). */
export type AssertKind =
  | 'textStart'
  | 'textEnd'
  | 'textEndNl'
  | 'lineStart'
  | 'lineEnd'
  | 'wordB'
  | 'notWordB'
  | 'wordStart'
  | 'wordEnd';

/** A parsed pattern node. Positions and lengths are counted in code points. */
export type Node =
  | { readonly type: 'empty' }
  | { readonly type: 'char'; readonly cp: number; readonly caseless: boolean }
  | { readonly type: 'set'; readonly item: SetItem; readonly caseless: boolean }
  | { readonly type: 'assert'; readonly kind: AssertKind }
  | { readonly type: 'concat'; readonly items: readonly Node[] }
  | { readonly type: 'alt'; readonly items: readonly Node[] }
  /** `index` is the capture number, or null for a non-capturing group. */
  | { readonly type: 'group'; readonly index: number | null; readonly body: Node }
  | { readonly type: 'repeat'; readonly body: Node; readonly min: number; readonly max: number; readonly greedy: boolean }
  | { readonly type: 'look'; readonly ahead: boolean; readonly negate: boolean; readonly body: Node }
  | { readonly type: 'atomic'; readonly body: Node }
  | { readonly type: 'backref'; readonly index: number; readonly caseless: boolean };

/** A parsed pattern with the facts the engines need to pick a strategy. */
export interface ParsedRegex {
  readonly root: Node;
  /** Number of capture groups. */
  readonly groupCount: number;
  /** Capture numbers that some backreference reads. */
  readonly referenced: ReadonlySet<number>;
}

/** Children of a node, for generic walks. */
export function childrenOf(node: Node): readonly Node[] {
  switch (node.type) {
    case 'concat':
    case 'alt':
      return node.items;
    case 'group':
    case 'repeat':
    case 'look':
    case 'atomic':
      return [node.body];
    default:
      return [];
  }
}

/** True when `pred` holds for `node` or any node below it. */
export function someNode(node: Node, pred: (n: Node) => boolean): boolean {
  if (pred(node)) return true;
  for (const child of childrenOf(node)) if (someNode(child, pred)) return true;
  return false;
}

/** Shortest and longest match length in code points (`Infinity` when unbounded). */
export function widthOf(node: Node): { min: number; max: number } {
  switch (node.type) {
    case 'char':
    case 'set':
      return { min: 1, max: 1 };
    case 'concat': {
      let min = 0;
      let max = 0;
      for (const item of node.items) {
        const w = widthOf(item);
        min += w.min;
        max += w.max;
      }
      return { min, max };
    }
    case 'alt': {
      let min = Infinity;
      let max = 0;
      for (const item of node.items) {
        const w = widthOf(item);
        min = Math.min(min, w.min);
        max = Math.max(max, w.max);
      }
      return { min: node.items.length === 0 ? 0 : min, max };
    }
    case 'group':
    case 'atomic':
      return widthOf(node.body);
    case 'repeat': {
      const w = widthOf(node.body);
      const max = node.max === 0 || w.max === 0 ? 0 : w.max * node.max;
      return { min: w.min * node.min, max };
    }
    case 'backref':
      // A backreference repeats an unknown amount of text.
      return { min: 0, max: Infinity };
    default:
      return { min: 0, max: 0 };
  }
}
