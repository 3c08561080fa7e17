/**
 * @module engine/match/string
 * Substring, prefix, suffix and regex operators (spec §5 table, §5.3). Case-insensitivity is
 * ASCII-only here, as in PostHog's Rust server (`to_ascii_lowercase`), unlike `exact`.
 */
import { spendMatchBudget } from './match-budget.ts';
import type { PropertyTest } from './operators.ts';
import { compileRegex } from './regex.ts';
import { asciiLower, str } from './value-text.ts';

const NEVER: PropertyTest = () => false;

/**
 * The property's text, ASCII-lowercased, once its length is paid from the evaluation's matching
 * budget (1 unit per character): lowercasing and the scan that follows are both linear in it.
 * Throws FlagFailure when the budget cannot pay, before any lowercasing.
 */
function subject(a: unknown): string {
  const text = typeof a === 'string' ? a : str(a);
  spendMatchBudget(text.length);
  return asciiLower(text);
}

/** `icontains` / `not_icontains`: `asciiLower(str(P[k]))` contains `asciiLower(str(value))`. */
export function compileIcontains(value: unknown, negate: boolean): PropertyTest {
  const needle = asciiLower(str(value));
  return negate ? (a) => !subject(a).includes(needle) : (a) => subject(a).includes(needle);
}

/**
 * `icontains_multi` / `not_icontains_multi`: any element of an array value is contained; a
 * non-array value acts as a one-element list. An empty array contains nothing, so the positive
 * operator never matches and the negative one always does.
 */
export function compileIcontainsMulti(value: unknown, negate: boolean): PropertyTest {
  const needles = (Array.isArray(value) ? value : [value]).map((e) => asciiLower(str(e)));
  const any = (a: unknown): boolean => {
    const s = subject(a);
    for (const n of needles) if (s.includes(n)) return true;
    return false;
  };
  return negate ? (a) => !any(a) : any;
}

/** `starts_with` / `not_starts_with`, ASCII-case-insensitive. */
export function compileStartsWith(value: unknown, negate: boolean): PropertyTest {
  const prefix = asciiLower(str(value));
  return negate ? (a) => !subject(a).startsWith(prefix) : (a) => subject(a).startsWith(prefix);
}

/** `ends_with` / `not_ends_with`, ASCII-case-insensitive. */
export function compileEndsWith(value: unknown, negate: boolean): PropertyTest {
  const suffix = asciiLower(str(value));
  return negate ? (a) => !subject(a).endsWith(suffix) : (a) => subject(a).endsWith(suffix);
}

/**
 * `regex` / `not_regex` (spec §5.3): pattern `str(value)`, subject `str(P[k])`, unanchored. An
 * invalid pattern and an exceeded step budget are both "false" for BOTH operators, as in Rust
 * (an invalid pattern returns `Ok(false)`, a backtrack-limit error surfaces as an error).
 * The subject's length times the pattern's weight is paid from the evaluation's matching budget
 * before the search; when it cannot be paid the flag fails (FlagFailure, match_budget_exceeded)
 * and the search never runs.
 */
export function compileRegexOperator(value: unknown, negate: boolean): PropertyTest {
  let re: ReturnType<typeof compileRegex>;
  try {
    re = compileRegex(str(value));
  } catch {
    re = null;
  }
  if (re === null) return NEVER;
  const compiled = re;
  const weight = re.weight;
  return (a) => {
    const text = typeof a === 'string' ? a : str(a);
    spendMatchBudget(text.length * weight);
    let found: boolean | null;
    try {
      found = compiled.test(text);
    } catch {
      found = null;
    }
    if (found === null) return false;
    return negate ? !found : found;
  };
}
