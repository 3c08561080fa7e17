/**
 * @module engine/match/numeric
 * `gt` `gte` `lt` `lte` `between` `not_between` (spec §5.4). Both sides go through `num()`,
 * i.e. Rust `f64::from_str` for non-numbers; a side that is not a number makes the operator
 * false, never a string comparison (PostHog/posthog rust/feature-flags/src/properties/
 * property_matching.rs, `parse_numeric_match_value`).
 */
import type { PropertyTest } from './operators.ts';
import { num } from './value-text.ts';

const NEVER: PropertyTest = () => false;

export type Comparison = 'gt' | 'gte' | 'lt' | 'lte';

/**
 * Compiles a comparison against a non-null filter value. A filter value that is not a number
 * is a validation error in Rust, which evaluates to false. NaN on either side compares false.
 */
export function compileComparison(op: Comparison, value: unknown): PropertyTest {
  const b = num(value);
  if (b === null) return NEVER;
  switch (op) {
    case 'gt':
      return (a) => {
        const x = num(a);
        return x !== null && x > b;
      };
    case 'gte':
      return (a) => {
        const x = num(a);
        return x !== null && x >= b;
      };
    case 'lt':
      return (a) => {
        const x = num(a);
        return x !== null && x < b;
      };
    case 'lte':
      return (a) => {
        const x = num(a);
        return x !== null && x <= b;
      };
  }
}

/**
 * `between` / `not_between`: inclusive `[min, max]` from a two-element array of numbers (or
 * numeric strings). A malformed range (not two elements, non-numeric or NaN bounds, min > max)
 * is a validation error ⇒ false for both operators. A property that is not a number, or is NaN,
 * is false for both too: `not_between` is the complement of `between` only for real numbers.
 */
export function compileBetween(value: unknown, negate: boolean): PropertyTest {
  if (!Array.isArray(value) || value.length !== 2) return NEVER;
  const low = num(value[0]);
  const high = num(value[1]);
  if (low === null || high === null || Number.isNaN(low) || Number.isNaN(high) || low > high) return NEVER;
  return (a) => {
    const x = num(a);
    if (x === null || Number.isNaN(x)) return false;
    const inRange = x >= low && x <= high;
    return negate ? !inRange : inRange;
  };
}
