/**
 * @module engine/match/operators
 * Property operators (spec §5): compile an operator and its filter value once per snapshot into
 * a test for present property values plus the answer for absent ones, following PostHog's Rust
 * server (PostHog/posthog rust/feature-flags/src/properties/property_matching.rs, `match_property`).
 */
import { compileDate } from './date.ts';
import { compileExact } from './exact.ts';
import { compileBetween, compileComparison } from './numeric.ts';
import { compileSemver } from './semver.ts';
import { compileEndsWith, compileIcontains, compileIcontainsMulti, compileRegexOperator, compileStartsWith } from './string.ts';

/**
 * Tests a PRESENT property value (which may be null). Throws nothing but FlagFailure
 * (`match_budget_exceeded`, engine/match/match-budget.ts), which fails the flag.
 */
export type PropertyTest = (value: unknown, now: number) => boolean;

export interface CompiledOperator {
  /** Result when the property is present (final boolean for this operator, errors ⇒ false). */
  test: PropertyTest;
  /** Result when the property is absent (server semantics, spec §5 table: negative operators ⇒ true). */
  whenMissing: boolean;
}

const ALWAYS: PropertyTest = () => true;
const NEVER: PropertyTest = () => false;

/** Operators whose absent-property answer is true (spec §5 table, "not present" column). */
const NEGATIVE = new Set(['is_not', 'not_icontains', 'not_icontains_multi', 'not_starts_with', 'not_ends_with', 'not_regex', 'not_between']);

/** Everything `compileOperator` accepts besides is_set / is_not_set. */
const VALUE_OPERATORS = new Set([
  'exact', 'is_not', 'icontains', 'not_icontains', 'icontains_multi', 'not_icontains_multi', 'starts_with',
  'not_starts_with', 'ends_with', 'not_ends_with', 'regex', 'not_regex', 'gt', 'gte', 'lt', 'lte', 'between',
  'not_between', 'semver_eq', 'semver_neq', 'semver_gt', 'semver_gte', 'semver_lt', 'semver_lte', 'semver_tilde',
  'semver_caret', 'semver_wildcard', 'is_date_before', 'is_date_after', 'is_date_exact',
]);

/** Compiles one of VALUE_OPERATORS for a non-null value; `null` for anything else. */
function compileValueOperator(op: string, value: unknown, timezone: string): PropertyTest | null {
  switch (op) {
    case 'exact':
    case 'is_not':
      return compileExact(value, op === 'is_not');
    case 'icontains':
    case 'not_icontains':
      return compileIcontains(value, op === 'not_icontains');
    case 'icontains_multi':
    case 'not_icontains_multi':
      return compileIcontainsMulti(value, op === 'not_icontains_multi');
    case 'starts_with':
    case 'not_starts_with':
      return compileStartsWith(value, op === 'not_starts_with');
    case 'ends_with':
    case 'not_ends_with':
      return compileEndsWith(value, op === 'not_ends_with');
    case 'regex':
    case 'not_regex':
      return compileRegexOperator(value, op === 'not_regex');
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compileComparison(op, value);
    case 'between':
    case 'not_between':
      return compileBetween(value, op === 'not_between');
    case 'semver_eq':
    case 'semver_neq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_tilde':
    case 'semver_caret':
    case 'semver_wildcard':
      return compileSemver(op, value);
    case 'is_date_before':
    case 'is_date_after':
    case 'is_date_exact':
      return compileDate(op, value, timezone);
    default:
      return null;
  }
}

/**
 * Compiles operator+value once per snapshot. Returns null for an unknown operator or one not
 * valid on property filters (in/not_in/flag_evaluates_to).
 *
 * - A null/absent operator means `exact`.
 * - `is_set` / `is_not_set` ignore the value.
 * - Any other operator with a null/absent value never matches, present or absent, negative
 *   operators included: Rust reads `value` as `Option<Value>` (JSON null is `None`) and returns
 *   `Ok(false)` before looking at the property.
 * - Otherwise an absent property gives the spec §5 "not present" column, decided before the
 *   value is validated: `not_regex` with an invalid pattern and `not_between` with a malformed
 *   range still match an absent property.
 *
 * Never throws; `timezone` is an IANA name for naive dates (unknown names mean UTC).
 */
export function compileOperator(operator: string | null | undefined, value: unknown, timezone: string): CompiledOperator | null {
  const op = operator ?? 'exact';
  if (op === 'is_set') return { test: ALWAYS, whenMissing: false };
  if (op === 'is_not_set') return { test: NEVER, whenMissing: true };
  if (value === null || value === undefined) {
    return VALUE_OPERATORS.has(op) ? { test: NEVER, whenMissing: false } : null;
  }
  let test: PropertyTest | null;
  try {
    test = compileValueOperator(op, value, timezone);
  } catch {
    test = NEVER;
  }
  return test === null ? null : { test, whenMissing: NEGATIVE.has(op) };
}
