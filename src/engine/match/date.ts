/**
 * @module engine/match/date
 * `is_date_before` / `is_date_after` / `is_date_exact` (spec §5.6; PostHog/posthog
 * rust/feature-flags/src/properties/property_matching.rs, `determine_parsed_date_for_property_matching`).
 */
import { type DateContext, instantFromSeconds, parseDateString } from './date-parse.ts';
import type { PropertyTest } from './operators.ts';
import { type TimeZone, resolveTimeZone } from './time-zone.ts';
import { parseRustF64 } from './value-text.ts';

export type DateOperator = 'is_date_before' | 'is_date_after' | 'is_date_exact';

const NEVER: PropertyTest = () => false;

/**
 * The property side: a JSON number is Unix seconds; a string that parses as a Rust f64 is Unix
 * seconds too ("1e3", "NaN" = the epoch, "inf" = unparseable); any other string goes through
 * the filter-side parser (naive forms in the project zone, relative dates against `now`).
 * Other types are unparseable. Nothing is cached across calls.
 */
export function propertyInstant(a: unknown, zone: TimeZone, now: number): number | null {
  if (typeof a === 'number') return instantFromSeconds(a);
  if (typeof a !== 'string') return null;
  const seconds = parseRustF64(a);
  if (seconds !== null) return instantFromSeconds(seconds);
  return parseDateString(a, { zone, now, usedNow: false });
}

/**
 * Compiles a date operator. The filter value must be a JSON string. Fixed dates are parsed
 * here once; values that depend on `now` (relative dates, and dateparser forms missing a date
 * or a time) are recomputed when `now` changes, remembering the last result.
 */
export function compileDate(op: DateOperator, value: unknown, timezone: string): PropertyTest {
  if (typeof value !== 'string') return NEVER;
  const zone = resolveTimeZone(timezone);
  const probe: DateContext = { zone, now: 0, usedNow: false };
  const fixed = parseDateString(value, probe);
  const compare = op === 'is_date_before' ? before : op === 'is_date_after' ? after : same;
  if (!probe.usedNow) {
    if (fixed === null) return NEVER;
    return (a, now) => {
      const p = propertyInstant(a, zone, now);
      return p !== null && compare(p, fixed);
    };
  }
  let lastNow = Number.NaN;
  let lastFilter: number | null = null;
  return (a, now) => {
    const p = propertyInstant(a, zone, now);
    if (p === null) return false;
    if (now !== lastNow) {
      lastFilter = parseDateString(value, { zone, now, usedNow: false });
      lastNow = now;
    }
    return lastFilter !== null && compare(p, lastFilter);
  };
}

function before(p: number, f: number): boolean {
  return p < f;
}

function after(p: number, f: number): boolean {
  return p > f;
}

function same(p: number, f: number): boolean {
  return p === f;
}
