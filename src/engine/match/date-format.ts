/**
 * @module engine/match/date-format
 * A small port of chrono's `strftime` parsing (chronotope/chrono src/format/parse.rs), enough
 * for the formats PostHog's date operators and the `dateparser` fallback use. Chrono rules kept:
 * numeric fields skip leading whitespace and read 1…width digits (a signed `%Y` reads any
 * number of digits), a space in the format skips any whitespace, `%.f` is optional, `%Z`
 * consumes any run of non-whitespace, and the whole input must be consumed.
 */
import { MS_PER_DAY, daysFromCivil, isValidDate } from './time-zone.ts';
import { asciiLower, isRustWhitespace } from './value-text.ts';

/** Fields read by a format (chrono's `Parsed`); absent fields are `undefined`. */
export interface Fields {
  year?: number;
  yearMod100?: number;
  month?: number;
  day?: number;
  hour?: number;
  hour12?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  nanos?: number;
  /** Offset east of UTC in seconds (`%#z`). */
  offset?: number;
}

/** A pre-tokenised format: specifiers like "%Y", " " for whitespace, or one literal char. */
export type Format = readonly string[];

/** Splits a chrono format string into tokens once, at module load. */
export function format(spec: string): Format {
  const out: string[] = [];
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] !== '%') out.push(spec[i] === ' ' ? ' ' : spec[i]);
    else if (spec[i + 1] === '.' || spec[i + 1] === '#') out.push(spec.slice(i, i + 3)), (i += 2);
    else out.push(spec.slice(i, i + 2)), (i += 1);
  }
  return out;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_SUFFIXES = ['uary', 'ruary', 'ch', 'il', '', 'e', 'y', 'ust', 'tember', 'ober', 'ember', 'ember'];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && isRustWhitespace(s.charCodeAt(i))) i++;
  return i;
}

/** Parses `s` against `fmt`; `null` when chrono would fail. */
export function parseFormat(s: string, fmt: Format): Fields | null {
  const f: Fields = {};
  let i = 0;
  for (const tok of fmt) {
    if (tok === ' ') {
      i = skipWhitespace(s, i);
      continue;
    }
    if (tok.length === 1) {
      if (s[i] !== tok) return null;
      i++;
      continue;
    }
    if (tok === '%.f') {
      if (s[i] !== '.') continue;
      let j = i + 1;
      let v = 0;
      while (j < s.length && j - i - 1 < 9 && isDigit(s.charCodeAt(j))) v = v * 10 + s.charCodeAt(j++) - 48;
      const digits = j - i - 1;
      if (digits === 0) return null;
      while (j < s.length && isDigit(s.charCodeAt(j))) j++;
      f.nanos = v * 10 ** (9 - digits);
      i = j;
      continue;
    }
    if (tok === '%P') {
      const a = s.charCodeAt(i) | 32;
      if ((a !== 0x61 && a !== 0x70) || (s.charCodeAt(i + 1) | 32) !== 0x6d) return null;
      f.pm = a === 0x70;
      i += 2;
      continue;
    }
    if (tok === '%B' || tok === '%b') {
      const m = MONTHS.indexOf(asciiLower(s.slice(i, i + 3)));
      if (m < 0) return null;
      i += 3;
      const suffix = MONTH_SUFFIXES[m];
      if (tok === '%B' && asciiLower(s.slice(i, i + suffix.length)) === suffix) i += suffix.length;
      f.month = m + 1;
      continue;
    }
    if (tok === '%Z') {
      while (i < s.length && !isRustWhitespace(s.charCodeAt(i))) i++;
      continue;
    }
    if (tok === '%#z') {
      const r = permissiveOffset(s, skipWhitespace(s, i));
      if (r === null) return null;
      f.offset = r[0];
      i = r[1];
      continue;
    }
    i = skipWhitespace(s, i);
    let width = 2;
    let sign = 1;
    if (tok === '%Y') {
      width = 4;
      if (s[i] === '-' || s[i] === '+') {
        sign = s[i] === '-' ? -1 : 1;
        width = Infinity;
        i++;
      }
    }
    let j = i;
    let v = 0;
    while (j < s.length && j - i < width && isDigit(s.charCodeAt(j))) v = v * 10 + s.charCodeAt(j++) - 48;
    if (j === i || v > Number.MAX_SAFE_INTEGER) return null;
    i = j;
    if (!setField(f, tok, sign * v)) return null;
  }
  return i === s.length ? f : null;
}

/** chrono's `Parsed::set_*` range checks. */
function setField(f: Fields, tok: string, v: number): boolean {
  switch (tok) {
    case '%Y': f.year = v; return v >= -2147483648 && v <= 2147483647;
    case '%y': f.yearMod100 = v; return v <= 99;
    case '%m': f.month = v; return v >= 1 && v <= 12;
    case '%d': f.day = v; return v >= 1 && v <= 31;
    case '%H': f.hour = v; return v <= 23;
    case '%I': f.hour12 = v; return v >= 1 && v <= 12;
    case '%M': f.minute = v; return v <= 59;
    case '%S': f.second = v; return v <= 60;
    default: return false;
  }
}

/** chrono `timezone_offset` with Z, optional colon/space and optional minutes (`%#z`). */
function permissiveOffset(s: string, i: number): [number, number] | null {
  const c = s[i];
  if (c === 'Z' || c === 'z') return [0, i + 1];
  if (c !== '+' && c !== '-' && c !== '\u2212') return null;
  i++;
  if (!isDigit(s.charCodeAt(i)) || !isDigit(s.charCodeAt(i + 1))) return null;
  const hours = Number(s.slice(i, i + 2));
  i += 2;
  while (i < s.length && (s[i] === ':' || isRustWhitespace(s.charCodeAt(i)))) i++;
  let minutes = 0;
  if (s.length - i >= 2) {
    const m1 = s.charCodeAt(i);
    if (!isDigit(m1) || !isDigit(s.charCodeAt(i + 1)) || m1 > 0x35) return null;
    minutes = Number(s.slice(i, i + 2));
    i += 2;
  } else if (s.length - i === 1) {
    return null;
  }
  const seconds = (hours * 60 + minutes) * 60;
  if (seconds >= 86_400) return null;
  return [c === '+' ? seconds : -seconds, i];
}

/** Calendar date of parsed fields as days since the epoch, or `null` when invalid/missing. */
export function dateOf(f: Fields): number | null {
  let y = f.year;
  if (y === undefined && f.yearMod100 !== undefined) y = f.yearMod100 < 70 ? 2000 + f.yearMod100 : 1900 + f.yearMod100;
  if (y === undefined || f.month === undefined || f.day === undefined) return null;
  return isValidDate(y, f.month, f.day) ? daysFromCivil(y, f.month, f.day) : null;
}

/**
 * Time of day of parsed fields as `[whole seconds, nanoseconds]`; a leap second (:60) is kept
 * as second 59 plus 1e9 ns, as chrono does. `null` when hour or minute is missing.
 */
export function timeOf(f: Fields): [number, number] | null {
  let hour = f.hour;
  if (hour === undefined && f.hour12 !== undefined && f.pm !== undefined) hour = (f.hour12 % 12) + (f.pm ? 12 : 0);
  if (hour === undefined || f.minute === undefined) return null;
  let second = f.second ?? 0;
  let nanos = f.nanos ?? 0;
  if (second === 60) {
    second = 59;
    nanos += 1e9;
  }
  return [(hour * 60 + f.minute) * 60 + second, nanos];
}

/** Wall clock (or instant, when the fields carry an offset) in ms, split as whole seconds + ns. */
export function wallSecondsOf(f: Fields): [number, number] | null {
  const days = dateOf(f);
  const time = timeOf(f);
  if (days === null || time === null) return null;
  return [days * (MS_PER_DAY / 1000) + time[0], time[1]];
}
