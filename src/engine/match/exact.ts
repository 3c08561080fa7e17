/**
 * @module engine/match/exact
 * `exact` and `is_not` (spec §5.1), as PostHog's Rust server computes them in `match_property`
 * (PostHog/posthog rust/feature-flags/src/properties/property_matching.rs, `compute_exact_match`).
 */
import type { PropertyTest } from './operators.ts';
import { str } from './value-text.ts';

/**
 * Boolean-like (`is_truthy_or_falsy_property_value`): a boolean, a string that lowercases to
 * "true"/"false", or an array whose elements are all boolean-like (so `[]` is boolean-like).
 */
function isBooleanLike(v: unknown): boolean {
  if (typeof v === 'boolean') return true;
  if (typeof v === 'string') return isTrueText(v) || isFalseText(v);
  if (Array.isArray(v)) {
    for (const e of v) if (!isBooleanLike(e)) return false;
    return true;
  }
  return false;
}

/**
 * `is_truthy_property_value`: booleans are themselves, strings are "true" case-insensitively,
 * arrays are true when every element is (so `[]` is true), anything else is false.
 */
function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return isTrueText(v);
  if (Array.isArray(v)) {
    for (const e of v) if (!truthy(e)) return false;
    return true;
  }
  return false;
}

// Full Unicode lowercasing can only lengthen a string (İ → i̇), never shorten it to "true", so
// the length check is an exact pre-filter.
function isTrueText(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === 'true';
}

function isFalseText(s: string): boolean {
  return s.length === 5 && s.toLowerCase() === 'false';
}

/** `lower(str(a))` with Rust's full Unicode `to_lowercase`; strings skip serialisation. */
function lowerText(a: unknown): string {
  return (typeof a === 'string' ? a : str(a)).toLowerCase();
}

const SMALL_LIST = 8;

/**
 * Whether a string subject is longer than every lowercased target (`max` = their longest):
 * lowercasing never shortens, so it cannot equal any of them. Decided without lowercasing, so a
 * huge property value costs nothing here (issue 13 §5: one request must not be able to buy
 * megabytes of work per exact filter).
 */
function longerThan(a: unknown, max: number): boolean {
  return typeof a === 'string' && a.length > max;
}

/**
 * Compiles `exact` (or, with `negate`, `is_not`) for a non-null filter value. The result tests a
 * present property value; the caller handles absent properties and null filter values.
 */
export function compileExact(value: unknown, negate: boolean): PropertyTest {
  if (isBooleanLike(value)) {
    const want = truthy(value);
    return negate ? (a) => truthy(a) !== want : (a) => truthy(a) === want;
  }
  if (Array.isArray(value)) {
    const targets = new Set<string>();
    for (const e of value) targets.add(lowerText(e));
    if (targets.size <= SMALL_LIST) {
      // A few comparisons beat hashing the subject, which is a fresh string per request.
      const list = [...targets];
      const max = Math.max(...list.map((t) => t.length));
      const has = (a: unknown): boolean => {
        if (longerThan(a, max)) return false;
        const s = lowerText(a);
        for (let i = 0; i < list.length; i++) if (list[i] === s) return true;
        return false;
      };
      return negate ? (a) => !has(a) : has;
    }
    let max = 0;
    for (const t of targets) max = Math.max(max, t.length);
    const has = (a: unknown): boolean => !longerThan(a, max) && targets.has(lowerText(a));
    return negate ? (a) => !has(a) : has;
  }
  const target = lowerText(value);
  const max = target.length;
  const equal = (a: unknown): boolean => !longerThan(a, max) && lowerText(a) === target;
  return negate ? (a) => !equal(a) : equal;
}
