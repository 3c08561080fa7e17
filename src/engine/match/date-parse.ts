/**
 * @module engine/match/date-parse
 * Date values for `is_date_*` (spec §5.6), in the order PostHog's Rust server tries them
 * (PostHog/posthog rust/feature-flags/src/properties/property_matching.rs,
 * `parse_date_string_in_tz`, and relative_date.rs). Instants are ms since the epoch, built as
 * `whole seconds × 1000 + ns / 1e6` everywhere so equal instants compare equal.
 */
import { format, parseFormat, wallSecondsOf, dateOf } from './date-format.ts';
import { parseLenientDate } from './date-lenient.ts';
import {
  MAX_DAY,
  MIN_DAY,
  MS_PER_DAY,
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  instantFromWall,
  isValidDate,
  type TimeZone,
  wallFromInstant,
} from './time-zone.ts';

/** What a parse may depend on besides the text. `usedNow` is set when the result reads `now`. */
export interface DateContext {
  zone: TimeZone;
  /** ms since the epoch. */
  now: number;
  usedNow: boolean;
}

const RELATIVE = /^-?([0-9]+)([hdwmy])$/;
const NAIVE_DATE = format('%Y-%m-%d');
const NAIVE_DATETIMES = ['%Y-%m-%d %H:%M:%S%.f', '%Y-%m-%dT%H:%M:%S%.f', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M'].map(format);

/**
 * Parses a date string (filter value, or a property string that is not a float): relative
 * date, RFC 3339, `YYYY-MM-DD`, naive date-times (all naive forms in the project time zone),
 * then the lenient `dateparser` fallback. `null` when nothing parses.
 */
export function parseDateString(s: string, ctx: DateContext): number | null {
  const relative = relativeDate(s, ctx);
  if (relative !== null) return relative;
  const rfc = rfc3339(s);
  if (rfc !== null) return rfc;
  // A form that scans but names no real date (2021-02-30) falls through, as chrono's
  // `parse_from_str` fails; a wall time in a DST gap ends the search (`naive_to_utc_in_tz`).
  const date = parseFormat(s, NAIVE_DATE);
  const days = date === null ? null : dateOf(date);
  if (days !== null) return instantFromWall(ctx.zone, days * MS_PER_DAY);
  for (const fmt of NAIVE_DATETIMES) {
    const fields = parseFormat(s, fmt);
    const wall = fields === null ? null : wallSecondsOf(fields);
    if (wall === null) continue;
    const whole = instantFromWall(ctx.zone, wall[0] * 1000);
    return whole === null ? null : whole + wall[1] / 1e6;
  }
  return parseLenientDate(s, ctx);
}

/**
 * Relative dates (`-7d`, `3m`, …; the sign is ignored, the number must be < 10000): `now` minus
 * the interval, computed on the project-time-zone wall clock and read back in that zone, like
 * HogQL's `relative_date_parse`. Months and years are calendar steps, one at a time, clamping
 * the day to the month's end (relative_date.rs `parse_relative_date_naive`). `null` when `s` is
 * not relative, or the result falls in a DST gap.
 */
export function relativeDate(s: string, ctx: DateContext): number | null {
  const m = RELATIVE.exec(s);
  if (m === null) return null;
  const n = Number(m[1]);
  if (!(n < 10_000)) return null;
  ctx.usedNow = true;
  const wall = wallFromInstant(ctx.zone, ctx.now);
  switch (m[2]) {
    case 'h':
      return instantFromWall(ctx.zone, wall - n * 3_600_000);
    case 'd':
      return instantFromWall(ctx.zone, wall - n * MS_PER_DAY);
    case 'w':
      return instantFromWall(ctx.zone, wall - n * 7 * MS_PER_DAY);
    default:
      return instantFromWall(ctx.zone, m[2] === 'm' ? monthsBefore(wall, n) : yearsBefore(wall, n));
  }
}

function monthsBefore(wall: number, n: number): number {
  const days = Math.floor(wall / MS_PER_DAY);
  const timeOfDay = wall - days * MS_PER_DAY;
  let [y, mo, d] = civilFromDays(days);
  // Clamping only happens while the day is past 28; after that whole months can be skipped.
  for (; n > 0 && d > 28; n--) {
    if (mo === 1) (y -= 1), (mo = 12);
    else mo -= 1;
    d = Math.min(d, daysInMonth(y, mo));
  }
  const total = y * 12 + (mo - 1) - n;
  y = Math.floor(total / 12);
  mo = total - y * 12 + 1;
  return daysFromCivil(y, mo, d) * MS_PER_DAY + timeOfDay;
}

function yearsBefore(wall: number, n: number): number {
  const days = Math.floor(wall / MS_PER_DAY);
  const timeOfDay = wall - days * MS_PER_DAY;
  let [y, mo, d] = civilFromDays(days);
  // Only February 29 clamps (to the 28th), after which the day never changes again.
  for (; n > 0 && mo === 2 && d === 29; n--) {
    y -= 1;
    d = Math.min(d, daysInMonth(y, mo));
  }
  y -= n;
  return daysFromCivil(y, mo, d) * MS_PER_DAY + timeOfDay;
}

/** Two ASCII digits at `i` as a number, or −1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * chrono `DateTime::parse_from_rfc3339`: `YYYY-MM-DD`, then `T`, `t` or a space, `HH:MM:SS`,
 * optional fraction (digits past the ninth ignored), then `Z`/`z` or `±HH:MM` up to ±23:59
 * (U+2212 accepted as minus). Hand-scanned: property values take this path on every call.
 */
export function rfc3339(s: string): number | null {
  const n = s.length;
  if (n < 20) return null;
  const hi = twoDigits(s, 0);
  const lo = twoDigits(s, 2);
  const mo = twoDigits(s, 5);
  const d = twoDigits(s, 8);
  const sep = s.charCodeAt(10);
  const h = twoDigits(s, 11);
  const mi = twoDigits(s, 14);
  const sec = twoDigits(s, 17);
  if (hi < 0 || lo < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return null;
  if (s[4] !== '-' || s[7] !== '-' || (sep !== 84 && sep !== 116 && sep !== 32) || s[13] !== ':' || s[16] !== ':') return null;
  let i = 19;
  let nanos = 0;
  if (s[i] === '.') {
    let j = i + 1;
    let v = 0;
    let k = 0;
    for (let c = s.charCodeAt(j) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++j) - 48) if (k < 9) (v = v * 10 + c), k++;
    if (k === 0) return null;
    nanos = v * 10 ** (9 - k);
    i = j;
  }
  let offset = 0;
  const z = s[i];
  if (z === 'Z' || z === 'z') {
    if (i + 1 !== n) return null;
  } else if (z === '+' || z === '-' || z === '\u2212') {
    const oh = twoDigits(s, i + 1);
    const om = twoDigits(s, i + 4);
    if (i + 6 !== n || s[i + 3] !== ':' || oh < 0 || om < 0 || oh > 23 || om > 59) return null;
    offset = (oh * 60 + om) * 60 * (z === '+' ? 1 : -1);
  } else {
    return null;
  }
  const y = hi * 100 + lo;
  if (!isValidDate(y, mo, d) || h > 23 || mi > 59 || sec > 60) return null;
  let second = sec;
  if (second === 60) (second = 59), (nanos += 1e9);
  const secs = daysFromCivil(y, mo, d) * 86_400 + (h * 60 + mi) * 60 + second - offset;
  return secs * 1000 + nanos / 1e6;
}

/**
 * A Unix timestamp in (fractional) seconds, the way PostHog's `parse_float_timestamp` builds it:
 * `floor(v)` whole seconds (NaN saturates to 0, so "NaN" is the epoch) plus
 * `round((v % 1) × 1e9)` nanoseconds, saturated to 0 for negative fractions (so −1.5 is −2 s).
 * `null` outside chrono's range (e.g. ±inf) or when the nanoseconds round up to a full second
 * off a leap-second boundary.
 */
export function instantFromSeconds(v: number): number | null {
  let secs = Math.floor(v);
  if (Number.isNaN(secs)) secs = 0;
  if (!Number.isFinite(secs)) return null;
  let nanos = Math.round((v % 1) * 1e9);
  if (!(nanos > 0)) nanos = 0;
  const day = Math.floor(secs / 86_400);
  if (day < MIN_DAY || day > MAX_DAY) return null;
  if (nanos >= 1e9 && (secs - day * 86_400) % 60 !== 59) return null;
  return secs * 1000 + nanos / 1e6;
}
