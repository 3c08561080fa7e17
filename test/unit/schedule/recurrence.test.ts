/**
 * Next occurrences of recurring scheduled changes in their own time zone: intervals in local
 * calendar units (DST switches, month ends, leap days, gaps and overlaps), cron in the zone,
 * missed occurrences skipped, end_date; and PostHog's cron validation sentences.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTimeZone } from '../../../src/engine/index.ts';
import { CRON_FIELDS_MESSAGE, CRON_INVALID_MESSAGE, cronProblem, intervalOccurrence, nextOccurrence } from '../../../src/schedule/recurrence.ts';
import type { ScheduledChangeRow } from '../../../src/store/store.ts';

const at = (iso: string) => new Date(iso);

function recurring(scheduledAt: string, over: Partial<ScheduledChangeRow>): ScheduledChangeRow {
  return {
    id: 1, projectId: 1, recordId: '1', modelName: 'FeatureFlag', payload: { operation: 'update_status', value: true }, scheduledAt: at(scheduledAt),
    executedAt: null, failureReason: null, failureCount: 0, isRecurring: true, recurrenceInterval: 'daily', cronExpression: null,
    lastExecutedAt: null, endDate: null, timezone: 'UTC', recurrenceAnchorAt: at(scheduledAt), createdBy: null, createdAt: at(scheduledAt),
    updatedAt: at(scheduledAt), ...over,
  };
}

const next = (c: ScheduledChangeRow, now: string) => nextOccurrence(c, at(now))?.toISOString() ?? null;

test('a daily 09:00 New York change stays at 09:00 local across both DST switches', () => {
  // 2030: DST starts Sunday 10 March (EST −5 → EDT −4) and ends Sunday 3 November.
  const spring = recurring('2030-03-08T14:00:00.000Z', { timezone: 'America/New_York' });
  assert.equal(next(spring, '2030-03-08T14:00:00.000Z'), '2030-03-09T14:00:00.000Z');
  assert.equal(next({ ...spring, scheduledAt: at('2030-03-09T14:00:00.000Z') }, '2030-03-09T14:00:00.000Z'), '2030-03-10T13:00:00.000Z', '09:00 EDT');
  assert.equal(next(spring, '2030-03-12T00:00:00.000Z'), '2030-03-12T13:00:00.000Z', 'missed days are skipped, the time of day kept');
  const autumn = recurring('2030-11-01T13:00:00.000Z', { timezone: 'America/New_York' });
  assert.equal(next(autumn, '2030-11-02T13:00:00.000Z'), '2030-11-03T14:00:00.000Z', '09:00 EST');
  // The same change in UTC keeps 14:00 UTC, i.e. moves in New York: what PostHog's intervals do.
  assert.equal(next({ ...spring, timezone: null }, '2030-03-09T14:00:00.000Z'), '2030-03-10T14:00:00.000Z');
});

test('weekly, monthly and yearly count local calendar units from the anchor', () => {
  const weekly = recurring('2030-03-04T14:00:00.000Z', { timezone: 'America/New_York', recurrenceInterval: 'weekly' });
  assert.equal(next(weekly, '2030-03-04T14:00:00.000Z'), '2030-03-11T13:00:00.000Z');
  const monthly = recurring('2030-01-31T09:00:00.000Z', { recurrenceInterval: 'monthly' });
  // The 31st clamps to February's last day, and is the 31st again in March (counted from the anchor).
  assert.equal(next(monthly, '2030-01-31T09:00:00.000Z'), '2030-02-28T09:00:00.000Z');
  assert.equal(next({ ...monthly, scheduledAt: at('2030-02-28T09:00:00.000Z') }, '2030-02-28T09:00:00.000Z'), '2030-03-31T09:00:00.000Z');
  assert.equal(next(monthly, '2030-04-01T00:00:00.000Z'), '2030-04-30T09:00:00.000Z');
  assert.equal(next(monthly, '2032-06-15T00:00:00.000Z'), '2032-06-30T09:00:00.000Z', 'years later, found without replaying every month');
  const yearly = recurring('2028-02-29T12:00:00.000Z', { recurrenceInterval: 'yearly' });
  assert.equal(next(yearly, '2028-02-29T12:00:00.000Z'), '2029-02-28T12:00:00.000Z');
  assert.equal(next(yearly, '2031-03-01T00:00:00.000Z'), '2032-02-29T12:00:00.000Z');
  const tokyo = recurring('2030-01-30T23:30:00.000Z', { timezone: 'Asia/Tokyo', recurrenceInterval: 'monthly' });
  assert.equal(next(tokyo, '2030-01-30T23:30:00.000Z'), '2030-02-27T23:30:00.000Z', '08:30 on the 28th in Tokyo: the local month end, not UTC\'s');
});

test('a wall time in a DST gap runs after the gap; in an overlap at the earlier instant; the next day is normal again', () => {
  const ny = resolveTimeZone('America/New_York');
  const gap = Date.parse('2030-03-09T07:30:00.000Z'); // 02:30 EST, the day before the switch
  assert.equal(new Date(intervalOccurrence(ny, gap, 'daily', 1)).toISOString(), '2030-03-10T07:30:00.000Z', '02:30 does not exist: 03:30 EDT');
  assert.equal(new Date(intervalOccurrence(ny, gap, 'daily', 2)).toISOString(), '2030-03-11T06:30:00.000Z', '02:30 EDT');
  const overlap = Date.parse('2030-11-02T05:30:00.000Z'); // 01:30 EDT
  assert.equal(new Date(intervalOccurrence(ny, overlap, 'daily', 1)).toISOString(), '2030-11-03T05:30:00.000Z', '01:30 EDT, the first of the two');
  assert.equal(new Date(intervalOccurrence(ny, overlap, 'daily', 2)).toISOString(), '2030-11-04T06:30:00.000Z', '01:30 EST');
});

test('cron runs in the change time zone, across DST too; end_date ends a recurrence', () => {
  const cron = recurring('2030-03-08T14:00:00.000Z', { timezone: 'America/New_York', recurrenceInterval: null, cronExpression: '0 9 * * *' });
  assert.equal(next(cron, '2030-03-09T14:00:00.000Z'), '2030-03-10T13:00:00.000Z');
  const tokyo = recurring('2030-01-30T23:30:00.000Z', { timezone: 'Asia/Tokyo', recurrenceInterval: null, cronExpression: '30 8 * * 1-5' });
  assert.equal(next(tokyo, '2030-01-31T09:00:00.000Z'), '2030-01-31T23:30:00.000Z', '08:30 Friday in Tokyo');
  assert.equal(next({ ...cron, endDate: at('2030-03-10T00:00:00.000Z') }, '2030-03-09T14:00:00.000Z'), null);
  assert.equal(next(recurring('2030-01-31T09:00:00.000Z', { endDate: at('2030-02-01T08:00:00.000Z') }), '2030-01-31T09:00:00.000Z'), null);
  assert.equal(next(recurring('2030-01-31T09:00:00.000Z', { isRecurring: false }), '2030-01-31T09:00:00.000Z'), null, 'one-off');
});

test("cron expressions are checked with PostHog's sentences", () => {
  assert.equal(cronProblem('0 9 * * 1-5'), null);
  assert.equal(cronProblem('*/15 9-17 * * 1-5'), null);
  assert.equal(cronProblem('* * * * * *'), CRON_FIELDS_MESSAGE);
  assert.equal(cronProblem('not a cron'), CRON_FIELDS_MESSAGE);
  assert.equal(cronProblem('99 99 99 99 99'), CRON_INVALID_MESSAGE);
  assert.equal(cronProblem('61 * * * *'), CRON_INVALID_MESSAGE);
});
