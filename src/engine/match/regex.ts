/**
 * @module engine/match/regex
 * User-supplied regular expressions with bounded cost (spec §5.3): linear-time re2js for every
 * pattern RE2 can express, a step-capped backtracker for the rest.
 *
 * PostHog matches `regex`/`not_regex` with Rust's fancy_regex (unanchored search, backtrack limit
 * 10 000). fancy_regex itself runs backtracking-free patterns on the linear regex crate and only
 * backtracks for look-around, backreferences and atomic groups; Vexil splits the work the same way.
 *
 * Known differences from fancy_regex (all rare in flag filters):
 * - The backtracker also stops at a work cap (`MAX_WORK` plus a little per character), so a few
 *   heavy searches answer null where fancy_regex would still answer; and its backtrack count
 *   only approximates fancy_regex's (same unit and limit, slightly different programs).
 * - Capture-free look-behinds run in re2js, linearly and without the backtrack limit.
 * - `\b` on a subject with non-ASCII word characters, and classes RE2 cannot spell (set
 *   operations on properties, ID_Start, `scx=`…), run on the backtracker with the work cap only.
 * - Unicode data comes from V8 and re2js, not from Rust's tables; property names are matched
 *   loosely for categories, scripts and common binary properties only.
 * - Rejected as invalid: `(?-u)`, `(?R)`, conditionals, subroutine calls, `\N \O \R`, repetition
 *   counts above 10 000. Accepted as in newer regex crates: `\<`, `\>`, `\b{start}`, `\b{end}`.
 * - Lone surrogates (possible in JS strings, not in Rust `&str`) count as one code point each.
 */
import { RE2JS } from 're2js';
import { someNode, type Node, type ParsedRegex } from './regex-ast.ts';
import { Backtracker } from './regex-backtrack.ts';
import { parseRegex } from './regex-parse.ts';
import { compileProgram } from './regex-program.ts';
import { translateToRe2 } from './regex-re2.ts';
import { NON_ASCII_WORD } from './regex-unicode.ts';
import { SCAN_WEIGHT } from './match-budget.ts';

/** A compiled pattern. `test` never throws: `null` means the step budget was exceeded. */
export interface CompiledRegex {
  test(subject: string): boolean | null;
  /** Matching-budget units per subject character (engine/match/match-budget): 1 for V8's RegExp, more for re2js and the backtracker. */
  readonly weight: number;
}

/** Features that make fancy_regex backtrack, and so subject it to the backtrack limit. */
const isFancy = (n: Node): boolean =>
  n.type === 'look' || n.type === 'atomic' || n.type === 'backref' || (n.type === 'assert' && n.kind === 'textEndNl');

function compileRe2(source: string, flags: number): RE2JS | null {
  try {
    return RE2JS.compile(source, flags);
  } catch {
    // RE2 limits fancy_regex does not have (program size, nesting): the backtracker takes over.
    return null;
  }
}

/** Wraps a matcher so that an unexpected internal error reads as "could not decide", never a throw. */
function guarded(test: Test, weight = SCAN_WEIGHT): CompiledRegex {
  return {
    weight,
    test(subject) {
      try {
        return test(subject);
      } catch {
        return null;
      }
    },
  };
}

type Test = (subject: string) => boolean | null;

/** `node` searched by re2js, or null when RE2 cannot express it (backreferences, look-ahead…). */
function viaRe2(parsed: ParsedRegex, node: Node): Test | null {
  const translation = translateToRe2(node);
  if (translation === null) return null;
  const re2 = compileRe2(translation.source, translation.lookbehind ? RE2JS.LOOKBEHINDS : 0);
  if (re2 === null) return null;
  if (!translation.wordBoundary) return (s) => re2.test(s);
  // RE2's \b only knows ASCII word characters; Rust's is Unicode. They agree unless the subject
  // has a non-ASCII word character, and only then is the (Unicode-aware) backtracker needed.
  const program = compileProgram({ ...parsed, root: node });
  if (program === null) return (s) => re2.test(s);
  const unicode = new Backtracker(program, false);
  return (s) => (NON_ASCII_WORD.test(s) ? unicode.test(s) : re2.test(s));
}

function viaBacktracker(parsed: ParsedRegex, node: Node): Test | null {
  const program = compileProgram({ ...parsed, root: node });
  if (program === null) return null;
  const backtracker = new Backtracker(program, someNode(node, isFancy));
  return (s) => backtracker.test(s);
}

/** Strips groups whose capture nobody reads, to see a top-level alternation inside them. */
function unwrap(parsed: ParsedRegex, node: Node): Node {
  while (node.type === 'group' && (node.index === null || !parsed.referenced.has(node.index))) node = node.body;
  return node;
}

/**
 * True for patterns made only of literal characters, escaped ASCII punctuation, groups `(…)` /
 * `(?:…)`, `|`, `^` and `$` — e.g. `\.(io|com)$`. With no quantifier, no class and no `.`,
 * a backtracking engine does at most pattern × subject steps, and JS and Rust agree on every
 * construct left, so the native engine is safe and several times faster than re2js here.
 */
function isQuantifierFreeLiteral(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      const next = pattern.charCodeAt(i + 1);
      const punctuation = (next >= 0x21 && next <= 0x2f) || (next >= 0x3a && next <= 0x40) || (next >= 0x5b && next <= 0x60) || (next >= 0x7b && next <= 0x7e);
      if (!punctuation) return false;
      i++;
    } else if (c === 0x28 /* ( */) {
      if (pattern.charCodeAt(i + 1) === 0x3f /* ? */) {
        if (pattern.charCodeAt(i + 2) !== 0x3a /* : */) return false;
        i += 2;
      }
    } else if (c === 0x2a || c === 0x2b || c === 0x3f || c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x2e) {
      // * + ? { } [ ] .
      return false;
    }
  }
  return true;
}

function build(pattern: string): CompiledRegex | null {
  const parsed = parseRegex(pattern);
  if (parsed === null) return null;
  if (isQuantifierFreeLiteral(pattern)) {
    const native = new RegExp(pattern);
    return guarded((s) => native.test(s), 1);
  }
  const whole = viaRe2(parsed, parsed.root);
  if (whole !== null) return guarded(whole);
  // In a top-level alternation, search the branches RE2 can express once, linearly, and leave
  // only the others to the backtracker (fancy_regex also runs such branches on the regex crate).
  const root = unwrap(parsed, parsed.root);
  if (root.type === 'alt') {
    const easy = root.items.filter((b) => translateToRe2(b) !== null);
    const hard = root.items.filter((b) => translateToRe2(b) === null);
    const linear = easy.length > 0 && hard.length > 0 ? viaRe2(parsed, { type: 'alt', items: easy }) : null;
    const rest = linear === null ? null : viaBacktracker(parsed, { type: 'alt', items: hard });
    if (linear !== null && rest !== null) {
      return guarded((s) => {
        const first = linear(s);
        if (first === true) return true;
        const second = rest(s);
        return second === true ? true : first === null || second === null ? null : false;
      });
    }
  }
  const test = viaBacktracker(parsed, parsed.root);
  return test === null ? null : guarded(test);
}

/**
 * Compiles a PostHog regex filter (Rust fancy_regex syntax) once, for many `test` calls.
 * `test` is an unanchored search ("find anywhere"). Returns null when the pattern is invalid;
 * never throws.
 */
export function compileRegex(pattern: string): CompiledRegex | null {
  try {
    return build(pattern);
  } catch {
    // Anything unforeseen while compiling user input is treated as an invalid pattern.
    return null;
  }
}
