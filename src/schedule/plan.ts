/**
 * @module schedule/plan
 * What a scheduled change does, as pure functions: the payload's flag write (PostHog's
 * `build_scheduled_change_serializer_data` and the dispatcher's apply-time checks) and the next
 * occurrence of a recurring change, by interval or by a 5-field cron in the project's time zone.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow, FlagWrite, ScheduledChangePlan, ScheduledChangeRow } from '../store/store.ts';

/** PostHog's RecurrenceInterval choices. */
export const RECURRENCE_INTERVALS = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type RecurrenceInterval = (typeof RECURRENCE_INTERVALS)[number];

/** The three operations PostHog's FeatureFlag dispatcher knows, with the value each takes. */
export const scheduledPayloadSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('update_status'), value: z.boolean() }),
  z.object({
    operation: z.literal('add_release_condition'),
    value: z.looseObject({ groups: z.array(z.record(z.string(), z.unknown())).min(1) }),
  }),
  z.object({
    operation: z.literal('update_variants'),
    value: z.looseObject({
      variants: z.array(z.looseObject({ key: z.string().min(1), rollout_percentage: z.number() })),
      payloads: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type ScheduledPayload = z.infer<typeof scheduledPayloadSchema>;

/** Throws when `expression` is not a valid 5-field cron (the parser also takes 6, with seconds). */
export function validateCron(expression: string, timezone: string): void {
  if (expression.trim().split(/\s+/).length !== 5) throw new Error('cron_expression must have 5 fields (minute hour day-of-month month day-of-week)');
  CronExpressionParser.parse(expression, { tz: timezone }).next();
}

/** First cron occurrence strictly after `after`, in `timezone`. */
function nextCron(expression: string, timezone: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone }).next().toDate();
}

/** `from` plus one interval, in calendar units of UTC. */
function addInterval(from: Date, interval: RecurrenceInterval): Date {
  const d = new Date(from.getTime());
  if (interval === 'daily') d.setUTCDate(d.getUTCDate() + 1);
  else if (interval === 'weekly') d.setUTCDate(d.getUTCDate() + 7);
  else if (interval === 'monthly') d.setUTCMonth(d.getUTCMonth() + 1);
  else d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d;
}

/**
 * When a recurring change runs next after running at `now`: the first occurrence after both its
 * scheduled time and `now` (occurrences missed while no node ran are skipped, not replayed);
 * null when it is not recurring or the next occurrence is past `end_date`.
 */
export function nextOccurrence(change: ScheduledChangeRow, timezone: string, now: Date): Date | null {
  if (!change.isRecurring) return null;
  let next = change.scheduledAt;
  // Bounded: a daily change missed for years is still a few thousand steps.
  for (let i = 0; i < 100_000 && next.getTime() <= now.getTime(); i++) {
    next = change.cronExpression
      ? nextCron(change.cronExpression, timezone, next)
      : addInterval(next, (change.recurrenceInterval ?? 'daily') as RecurrenceInterval);
  }
  if (next.getTime() <= now.getTime()) return null;
  return change.endDate !== null && next.getTime() > change.endDate.getTime() ? null : next;
}

/** The flag write a payload makes, with the apply-time checks PostHog's dispatcher makes. Throws on a bad payload. */
export function payloadWrite(flag: FlagRow, raw: unknown): FlagWrite {
  const parsed = scheduledPayloadSchema.safeParse(raw);
  if (!parsed.success) throw new Error('Invalid payload');
  const payload = parsed.data;
  if (payload.operation === 'update_status') return { active: payload.value };
  const current = flag.filters as FlagFiltersDef & Record<string, unknown>;
  if (payload.operation === 'add_release_condition') {
    const groups = [...(current.groups ?? []), ...payload.value.groups] as FlagFiltersDef['groups'];
    return { filters: { ...current, groups } };
  }
  const variants = payload.value.variants;
  const payloads = payload.value.payloads ?? {};
  if (variants.length > 0) {
    const total = variants.reduce((sum, v) => sum + v.rollout_percentage, 0);
    if (total !== 100) throw new Error(`Invalid variant rollout percentages: sum is ${total}, must be 100`);
  }
  const keys = new Set(variants.map((v) => v.key));
  const stray = Object.keys(payloads).filter((k) => !keys.has(k));
  if (stray.length > 0 && keys.size > 0) throw new Error(`Payload keys ${stray.join(', ')} don't match variant keys ${[...keys].join(', ')}`);
  const multivariate = { ...((current.multivariate as Record<string, unknown> | null | undefined) ?? {}), variants };
  return { filters: { ...current, multivariate, payloads } as FlagFiltersDef };
}

/** The ScheduledChangePlan the scheduler hands the store: apply at `now`. */
export function planAt(now: Date): ScheduledChangePlan {
  return (change, flag, timezone) => {
    if (change.modelName !== 'FeatureFlag') throw new Error(`Unsupported model_name ${change.modelName}`);
    if (flag === null || flag.deleted) throw new Error(`FeatureFlag ${change.recordId} does not exist`);
    return { write: payloadWrite(flag, change.payload), next: nextOccurrence(change, timezone, now) };
  };
}
