/**
 * @module engine/match/time-zone
 * Calendar arithmetic and IANA time-zone offsets for the date operators, without `Date` parsing
 * or `node:*` modules. "Wall" times are milliseconds of a naive local clock laid out like UTC
 * (chrono's `NaiveDateTime`); "instants" are milliseconds since the Unix epoch.
 */

export const MS_PER_DAY = 86_400_000;

/** chrono's `NaiveDate` range (years −262144 … 262143) as days since 1970-01-01. */
export const MIN_DAY = daysFromCivil(-262144, 1, 1);
export const MAX_DAY = daysFromCivil(262143, 12, 31);

/** Gregorian leap year (proleptic, so year 0 is leap). */
export function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** Last day of month `m` (1–12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Inverse of `daysFromCivil`: `[year, month 1–12, day 1–31]`. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

/** True when y-m-d is a real date inside chrono's range. */
export function isValidDate(y: number, m: number, d: number): boolean {
  return y >= -262144 && y <= 262143 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'GMT0', 'GMT+0', 'GMT-0', 'Etc/Greenwich', 'Greenwich']);

/** A project time zone: `null` formatter means UTC (fast path, no Intl). */
export interface TimeZone {
  readonly name: string;
  readonly formatter: Intl.DateTimeFormat | null;
}

const UTC_ZONE: TimeZone = { name: 'UTC', formatter: null };
const zones = new Map<string, TimeZone>();

/**
 * Resolves an IANA zone name once (formatters are cached per name). An empty, unknown or
 * invalid name falls back to UTC, the PostHog project default.
 */
export function resolveTimeZone(name: string | null | undefined): TimeZone {
  if (typeof name !== 'string' || name === '' || UTC_NAMES.has(name)) return UTC_ZONE;
  let zone = zones.get(name);
  if (zone === undefined) {
    try {
      const formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      zone = { name, formatter };
    } catch {
      zone = UTC_ZONE;
    }
    zones.set(name, zone);
  }
  return zone;
}

const DIGIT_RUNS = /\d+/g;

/**
 * UTC offset in ms of `zone` at `instant` (whole seconds, as tzdata has them). Parses
 * `format()` output ("M/D/Y AD, HH:MM:SS"), about four times cheaper than `formatToParts`.
 */
export function offsetAt(zone: TimeZone, instant: number): number {
  const fmt = zone.formatter;
  if (fmt === null || !Number.isFinite(instant) || Math.abs(instant) > 8.64e15) return 0;
  const whole = Math.floor(instant / 1000) * 1000;
  const text = fmt.format(whole);
  const n = text.match(DIGIT_RUNS);
  if (n === null || n.length !== 6) return 0;
  const y = text.includes('B') ? 1 - Number(n[2]) : Number(n[2]);
  const wall = daysFromCivil(y, Number(n[0]), Number(n[1])) * MS_PER_DAY + ((Number(n[3]) * 60 + Number(n[4])) * 60 + Number(n[5])) * 1000;
  return wall - whole;
}

/** The wall clock of `instant` in `zone`. */
export function wallFromInstant(zone: TimeZone, instant: number): number {
  return zone.formatter === null ? instant : instant + offsetAt(zone, instant);
}

/**
 * The instant a wall clock denotes in `zone`, like PostHog's `naive_to_utc_in_tz`: on a
 * fall-back overlap the earliest instant, in a spring-forward gap `null`. Assumes at most one
 * offset change within a day of the wall time.
 */
export function instantFromWall(zone: TimeZone, wall: number): number | null {
  if (zone.formatter === null) return wall;
  const before = offsetAt(zone, wall - MS_PER_DAY);
  const after = offsetAt(zone, wall + MS_PER_DAY);
  if (before === after) return wall - before;
  let best: number | null = null;
  for (const off of [before, after]) {
    const t = wall - off;
    if (offsetAt(zone, t) === off && (best === null || t < best)) best = t;
  }
  return best;
}
