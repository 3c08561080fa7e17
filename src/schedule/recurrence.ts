/**
 * @module schedule/recurrence
 * When a recurring scheduled change runs next, in the change's own time zone (PostHog's
 * `ScheduledChange.timezone`, the project's zone when the change was created): a 5-field cron
 * (cron-parser, zone-aware) or an interval counted in local calendar units from the time the
 * user scheduled, so a daily 09:00 change stays at 09:00 local across a DST switch.
 */
import { CronExpressionParser } from 'cron-parser';
import { MS_PER_DAY, civilFromDays, daysFromCivil, daysInMonth, instantFromWall, offsetAt, resolveTimeZone, wallFromInstant, type TimeZone } from '../engine/index.ts';
import type { ScheduledChangeRow } from '../store/store.ts';

/** PostHog's RecurrenceInterval choices. */
export const RECURRENCE_INTERVALS = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type RecurrenceInterval = (typeof RECURRENCE_INTERVALS)[number];

/** PostHog's sentences (posthog/api/scheduled_change.py). */
export const CRON_FIELDS_MESSAGE = "Only standard 5-field cron expressions are supported (minute hour day month weekday). Example: '0 9 * * 1-5'.";
export const CRON_INVALID_MESSAGE = "Invalid cron expression. Use standard 5-field cron syntax (e.g., '0 9 * * 1-5').";

/** The sentence for a bad cron expression, or null when it is a valid 5-field one. */
export function cronProblem(expression: string): string | null {
  if (expression.trim().split(/\s+/).length !== 5) return CRON_FIELDS_MESSAGE;
  try {
    CronExpressionParser.parse(expression).next();
    return null;
  } catch {
    return CRON_INVALID_MESSAGE;
  }
}

/**
 * The `k`-th occurrence after `anchor`: the anchor's local wall clock moved `k` intervals in
 * calendar units (months and years keep the day, or the month's last day when it has no such
 * day, as dateutil's relativedelta does). A fall-back overlap gives the earlier instant, a
 * spring-forward gap the pre-transition offset (02:30 in a 02:00–03:00 gap runs at 03:30).
 */
export function intervalOccurrence(zone: TimeZone, anchor: number, interval: RecurrenceInterval, k: number): number {
  const wall = wallFromInstant(zone, anchor);
  const day = Math.floor(wall / MS_PER_DAY);
  const timeOfDay = wall - day * MS_PER_DAY;
  const [y, m, d] = civilFromDays(day);
  let target: number;
  if (interval === 'daily') target = day + k;
  else if (interval === 'weekly') target = day + 7 * k;
  else if (interval === 'monthly') {
    const months = y * 12 + (m - 1) + k;
    const ty = Math.floor(months / 12);
    const tm = months - ty * 12 + 1;
    target = daysFromCivil(ty, tm, Math.min(d, daysInMonth(ty, tm)));
  } else target = daysFromCivil(y + k, m, Math.min(d, daysInMonth(y + k, m)));
  const targetWall = target * MS_PER_DAY + timeOfDay;
  return instantFromWall(zone, targetWall) ?? targetWall - offsetAt(zone, targetWall - MS_PER_DAY);
}

/** Longest a step can take (a DST day is 25 h), to start the search below the answer. */
const LONGEST_STEP_MS: Record<RecurrenceInterval, number> = {
  daily: 25 * 3_600_000,
  weekly: 7 * MS_PER_DAY + 3_600_000,
  monthly: 31 * MS_PER_DAY + 3_600_000,
  yearly: 366 * MS_PER_DAY + 3_600_000,
};

/** First interval occurrence after `after` (at least the first after the anchor). */
function nextInterval(zone: TimeZone, anchor: number, interval: RecurrenceInterval, after: number): number {
  let k = Math.max(1, Math.floor((after - anchor) / LONGEST_STEP_MS[interval]) - 1);
  let next = intervalOccurrence(zone, anchor, interval, k);
  // Bounded: the estimate is at most a few percent below the answer.
  for (let i = 0; i < 100_000 && next <= after; i++) next = intervalOccurrence(zone, anchor, interval, ++k);
  return next;
}

/**
 * When a recurring change runs next after running at `now`: the first occurrence after `now`,
 * so occurrences missed while no node ran are skipped, not replayed (as PostHog's catch-up
 * loop does); null when it is not recurring or that occurrence is past `end_date`.
 */
export function nextOccurrence(change: ScheduledChangeRow, now: Date): Date | null {
  if (!change.isRecurring) return null;
  const zoneName = change.timezone ?? 'UTC';
  const after = Math.max(now.getTime(), change.scheduledAt.getTime());
  let next: number;
  if (change.cronExpression) {
    // Cron times do not depend on where the search starts, only on the zone.
    next = CronExpressionParser.parse(change.cronExpression, { currentDate: new Date(after), tz: zoneName }).next().toDate().getTime();
  } else {
    const anchor = (change.recurrenceAnchorAt ?? change.scheduledAt).getTime();
    next = nextInterval(resolveTimeZone(zoneName), anchor, (change.recurrenceInterval ?? 'daily') as RecurrenceInterval, after);
  }
  return change.endDate !== null && next > change.endDate.getTime() ? null : new Date(next);
}
