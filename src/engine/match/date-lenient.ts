/**
 * @module engine/match/date-lenient
 * The last-resort date parser of PostHog's Rust server, `dateparser::parse`
 * (waltzofpearls/dateparser dateparser/src/datetime.rs): unix timestamps, RFC 2822, Postgres and
 * "yyyy-mm-dd hh:mm[:ss] [am|pm|zone]", time-only, month names, slashes, dots, MySQL logs and
 * Chinese dates, tried in that order. Its `Local` zone is taken as UTC (PostHog's servers run
 * in UTC). Forms without a time take the current time of day and time-only forms the current
 * date, both read from `now` (so they mark the context as using it).
 */
import { type Fields, type Format, dateOf, format, parseFormat, timeOf, wallSecondsOf } from './date-format.ts';
import type { DateContext } from './date-parse.ts';
import { MS_PER_DAY, civilFromDays, daysFromCivil, isValidDate } from './time-zone.ts';
import { asciiLower, isRustWhitespace } from './value-text.ts';

/** How a parser's fields become an instant. */
type Kind = 'utc' | 'fixed' | 'zoned' | 'date' | 'time';

interface Parser {
  gate: RegExp;
  kind: Kind;
  formats: Format[];
  /** Rewrites the input before the formats are tried (dateparser's `replace` calls). */
  prep?: (s: string, ctx: DateContext) => string;
}

const p = (gate: RegExp, kind: Kind, formats: string[], prep?: Parser['prep']): Parser => ({ gate, kind, formats: formats.map(format), prep });
const AMPM = '\\s*(am|pm|AM|PM)?';
const TZ = '(?<tz>\\s*[+-:a-zA-Z0-9]{3,6})';
const dropCommaSpace = (s: string): string => s.replaceAll(', ', ' ').replaceAll('. ', ' ');
const nowDate = (ctx: DateContext): [number, number, number] => ((ctx.usedNow = true), civilFromDays(Math.floor(ctx.now / MS_PER_DAY)));

/** Families in dateparser's order: `[family gate, parsers]`; the first parser that yields wins. */
const FAMILIES: [RegExp | null, Parser[]][] = [
  [/^[0-9]{4}-[0-9]{2}/, [
    p(/^[0-9]{4}-[0-9]{2}-[0-9]{2}\s+[0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]{1,9})?[+-:0-9]{3,6}$/, 'fixed', ['%Y-%m-%d %H:%M:%S%#z', '%Y-%m-%d %H:%M:%S%.f%#z', '%Y-%m-%d %H:%M%#z']),
    p(new RegExp(`^[0-9]{4}-[0-9]{2}-[0-9]{2}\\s+[0-9]{2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{1,9})?${AMPM}$`), 'utc', ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d %H:%M:%S%.f', '%Y-%m-%d %I:%M:%S %P', '%Y-%m-%d %I:%M %P']),
    p(new RegExp(`^[0-9]{4}-[0-9]{2}-[0-9]{2}\\s+[0-9]{2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{1,9})?${TZ}$`), 'zoned', ['%Y-%m-%d %H:%M:%S %Z', '%Y-%m-%d %H:%M %Z', '%Y-%m-%d %H:%M:%S%.f %Z']),
    p(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'date', ['%Y-%m-%d']),
    p(new RegExp(`^[0-9]{4}-[0-9]{2}-[0-9]{2}${TZ}$`), 'date', ['%Y-%m-%d %Z']),
  ]],
  [/^[0-9]{1,2}:[0-9]{2}/, [
    p(new RegExp(`^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?${AMPM}$`), 'time', ['%H:%M:%S', '%H:%M', '%I:%M:%S %P', '%I:%M %P']),
    p(new RegExp(`^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?${AMPM}(?<tz>\\s+[+-:a-zA-Z0-9]{3,6})$`), 'time', ['%H:%M:%S %Z', '%H:%M %Z', '%I:%M:%S %P %Z', '%I:%M %P %Z']),
  ]],
  [null, [p(/^[0-9]{4}-[a-zA-Z]{3,9}-[0-9]{2}$/, 'date', ['%Y-%m-%d', '%Y-%b-%d'])]],
  [/^[a-zA-Z]{3,9}\.?\s+[0-9]{1,2}/, [
    p(new RegExp(`^[a-zA-Z]{3}\\s+[0-9]{1,2}\\s*(at)?\\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?${AMPM}$`), 'utc', ['%Y %b %d at %I:%M %P', '%Y %b %d %H:%M:%S'], (s, ctx) => `${nowDate(ctx)[0]} ${s}`),
    p(new RegExp(`^[a-zA-Z]{3,9}\\.?\\s+[0-9]{1,2},\\s+[0-9]{2,4},?\\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?${AMPM}$`), 'utc', ['%B %d %Y %H:%M:%S', '%B %d %Y %H:%M', '%B %d %Y %I:%M:%S %P', '%B %d %Y %I:%M %P'], dropCommaSpace),
    p(new RegExp(`^[a-zA-Z]{3,9}\\s+[0-9]{1,2},?\\s+[0-9]{4}\\s*,?(at)?\\s+[0-9]{2}:[0-9]{2}(:[0-9]{2})?${AMPM}(?<tz>\\s+[+-:a-zA-Z0-9]{3,6})$`), 'zoned', ['%B %d %Y %H:%M:%S %Z', '%B %d %Y %H:%M %Z', '%B %d %Y %I:%M:%S %P %Z', '%B %d %Y %I:%M %P %Z'], (s) => s.replaceAll(',', '').replaceAll('at', '')),
    p(/^[a-zA-Z]{3,9}\.?\s+[0-9]{1,2},\s+[0-9]{2,4}$/, 'date', ['%B %d %y', '%B %d %Y'], dropCommaSpace),
  ]],
  [/^[0-9]{1,2}\s+[a-zA-Z]{3,9}/, [
    p(/^[0-9]{1,2}\s+[a-zA-Z]{3,9}\s+[0-9]{2,4},?\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]{1,9})?$/, 'utc', ['%d %B %Y %H:%M:%S', '%d %B %Y %H:%M', '%d %B %Y %H:%M:%S%.f', '%d %B %Y %I:%M:%S %P', '%d %B %Y %I:%M %P'], (s) => s.replaceAll(', ', ' ')),
    p(/^[0-9]{1,2}\s+[a-zA-Z]{3,9}\s+[0-9]{2,4}$/, 'date', ['%d %B %y', '%d %B %Y']),
  ]],
  [/^[0-9]{1,2}\/[0-9]{1,2}/, [
    p(new RegExp(`^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}\\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{1,9})?${AMPM}$`), 'utc', ['%m/%d/%y %H:%M:%S', '%m/%d/%y %H:%M', '%m/%d/%y %H:%M:%S%.f', '%m/%d/%y %I:%M:%S %P', '%m/%d/%y %I:%M %P', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S%.f', '%m/%d/%Y %I:%M:%S %P', '%m/%d/%Y %I:%M %P']),
    p(/^[0-9]{1,2}\/[0-9]{1,2}\/[0-9]{2,4}$/, 'date', ['%m/%d/%y', '%m/%d/%Y']),
  ]],
  [/^[0-9]{4}\/[0-9]{1,2}/, [
    p(new RegExp(`^[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}\\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{1,9})?${AMPM}$`), 'utc', ['%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d %H:%M:%S%.f', '%Y/%m/%d %I:%M:%S %P', '%Y/%m/%d %I:%M %P']),
    p(/^[0-9]{4}\/[0-9]{1,2}\/[0-9]{1,2}$/, 'date', ['%Y/%m/%d']),
  ]],
  // dateparser's dot gate is unanchored and its `.` matches any character; kept as written.
  [/[0-9]{1,4}.[0-9]{1,4}[0-9]{1,4}/, [
    p(/(?:)/, 'date', ['%m.%d.%y', '%m.%d.%Y', '%Y.%m.%d']),
    p(/(?:)/, 'date', ['%Y.%m.%d'], (s, ctx) => `${s}.${nowDate(ctx)[2]}`),
  ]],
  [null, [p(/[0-9]{6}\s+[0-9]{2}:[0-9]{2}:[0-9]{2}/, 'utc', ['%y%m%d %H:%M:%S'])]],
  [/^[0-9]{4}年[0-9]{2}月/, [
    p(/^[0-9]{4}年[0-9]{2}月[0-9]{2}日[0-9]{2}时[0-9]{2}分[0-9]{2}秒$/, 'utc', ['%Y年%m月%d日%H时%M分%S秒']),
    p(/^[0-9]{4}年[0-9]{2}月[0-9]{2}日$/, 'date', ['%Y年%m月%d日']),
  ]],
];

/** Marker: a zone name failed to parse, which ends dateparser's search with an error. */
const STOP = Symbol('stop');

/** `dateparser::parse`; `null` when no format matches. */
export function parseLenientDate(s: string, ctx: DateContext): number | null {
  const unix = unixTimestamp(s);
  if (unix !== null) return unix;
  const rfc = rfc2822(s);
  if (rfc !== null) return rfc;
  for (const [gate, parsers] of FAMILIES) {
    if (gate !== null && !gate.test(s)) continue;
    for (const parser of parsers) {
      const r = runParser(parser, s, ctx);
      if (r === STOP) return null;
      if (r !== null) return r;
    }
  }
  return null;
}

function runParser(parser: Parser, s: string, ctx: DateContext): number | null | typeof STOP {
  const m = parser.gate.exec(s);
  if (m === null) return null;
  let offset = 0;
  const tz = m.groups?.tz;
  if (tz !== undefined) {
    const o = zoneOffset(tz.trim());
    if (o === null) return STOP;
    offset = o;
  }
  const input = parser.prep === undefined ? s : parser.prep(s, ctx);
  for (const fmt of parser.formats) {
    const f = parseFormat(input, fmt);
    if (f === null) continue;
    const r = instantOf(f, parser.kind, offset, ctx);
    if (r !== null) return r;
  }
  return null;
}

function instantOf(f: Fields, kind: Kind, offset: number, ctx: DateContext): number | null {
  if (kind === 'date' || kind === 'time') {
    // The missing half comes from "now" as seen at this offset.
    ctx.usedNow = true;
    const local = ctx.now + offset * 1000;
    const today = Math.floor(local / MS_PER_DAY);
    const days = kind === 'date' ? dateOf(f) : today;
    const time = kind === 'time' ? timeOf(f) : null;
    if (days === null || (kind === 'time' && time === null)) return null;
    const ms = time === null ? local - today * MS_PER_DAY : time[0] * 1000 + time[1] / 1e6;
    return days * MS_PER_DAY + ms - offset * 1000;
  }
  const wall = wallSecondsOf(f);
  if (wall === null) return null;
  const shift = kind === 'fixed' ? (f.offset ?? 0) : kind === 'zoned' ? offset : 0;
  return (wall[0] - shift) * 1000 + wall[1] / 1e6;
}

/** dateparser `timezone::parse`: `±HH[:]MM`, or a leading name (unknown names mean UTC). */
function zoneOffset(s: string): number | null {
  if (!s.includes(':')) {
    const name = /^[a-zA-Z]+/.exec(s);
    if (name !== null) return (ZONE_HOURS.get(asciiLower(name[0])) ?? 0) * 3600;
  }
  const m = /^([+-])(\d\d)/.exec(s);
  if (m === null) return null;
  let i = 3;
  if (s.includes(':')) while (i < s.length && (s[i] === ':' || isRustWhitespace(s.charCodeAt(i)))) i++;
  const mm = /^([0-5]\d)/.exec(s.slice(i));
  if (mm === null) return null;
  const seconds = (Number(m[2]) * 60 + Number(mm[1])) * 60;
  // FixedOffset::east panics beyond a day; treat that as unparseable.
  if (seconds >= 86_400) return null;
  return m[1] === '-' ? -seconds : seconds;
}

// Maps, not object literals: zone names are user text ("constructor" must not hit a prototype).
const ZONE_HOURS = new Map(Object.entries({ gmt: 0, ut: 0, utc: 0, edt: -4, est: -5, cdt: -5, cst: -6, mdt: -6, mst: -7, pdt: -7, pst: -8 }));

/** 10, 13 or 19 digits: seconds, milliseconds or nanoseconds since the epoch. */
function unixTimestamp(s: string): number | null {
  if (!/^[0-9]{10,19}$/.test(s)) return null;
  if (s.length === 10) return Number(s) * 1000;
  if (s.length === 13) return Number(s);
  if (s.length !== 19) return null;
  const ns = BigInt(s);
  if (ns > 9_223_372_036_854_775_807n) return null;
  return Number(ns / 1_000_000_000n) * 1000 + Number(ns % 1_000_000_000n) / 1e6;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const RFC2822 = /^[\s\u0085]*(?:([a-zA-Z]{3}),)?[\s\u0085]*(\d{1,2})[\s\u0085]+([a-zA-Z]{3})[\s\u0085]+(\d{2,})[\s\u0085]+(\d{2})[\s\u0085]*:[\s\u0085]*(\d{2})(?:[\s\u0085]*:(\d{2}))?[\s\u0085]+(?:([a-zA-Z]+)|([+-])(\d{2})(\d{2}))((?:[\s\u0085]*\((?:[^()\\]|\\.)*\))*)$/;
const NAMED_2822 = new Map(Object.entries({ gmt: 0, ut: 0, z: 0, edt: -4, est: -5, cdt: -5, cst: -6, mdt: -6, mst: -7, pdt: -7, pst: -8 }));

/**
 * chrono `DateTime::parse_from_rfc2822`: `[Wkd,] D Mon YY[YY] HH:MM[:SS] zone [(comment)]`.
 * Two-digit years < 50 are 20xx, other two- and three-digit years 19xx; the weekday must agree
 * with the date; zones are ±HHMM, UT, GMT, the North American names or a military letter
 * (other than J, meaning UTC). Comments are flat here (chrono also allows nesting).
 */
function rfc2822(s: string): number | null {
  const m = RFC2822.exec(s);
  if (m === null) return null;
  const month = MONTHS.indexOf(asciiLower(m[3])) + 1;
  let year = Number(m[4]);
  if (m[4].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[4].length === 3) year += 1900;
  const [day, hour, minute] = [Number(m[2]), Number(m[5]), Number(m[6])];
  const second = m[7] === undefined ? 0 : Number(m[7]);
  if (month === 0 || !isValidDate(year, month, day) || hour > 23 || minute > 59 || second > 60) return null;
  let offset: number;
  if (m[8] !== undefined) {
    const name = asciiLower(m[8]);
    const hours = NAMED_2822.get(name);
    if (hours !== undefined) offset = hours * 3600;
    else if (name.length === 1 && name !== 'j') offset = 0;
    else return null;
  } else {
    if (Number(m[11]) > 59) return null;
    offset = (Number(m[10]) * 60 + Number(m[11])) * 60 * (m[9] === '-' ? -1 : 1);
    if (Math.abs(offset) >= 86_400) return null;
  }
  const days = daysFromCivil(year, month, day);
  if (m[1] !== undefined && WEEKDAYS.indexOf(asciiLower(m[1])) !== (((days % 7) + 10) % 7)) return null;
  const secs = days * 86_400 + (hour * 60 + minute) * 60 + Math.min(second, 59) - offset;
  return secs * 1000 + (second === 60 ? 1000 : 0);
}
