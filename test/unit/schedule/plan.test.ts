/**
 * Scheduled-change plans: the flag write of each operation, apply-time checks, and the next
 * occurrence by interval or cron in a time zone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextOccurrence, payloadWrite, planAt, validateCron } from '../../../src/schedule/plan.ts';
import type { FlagRow, ScheduledChangeRow } from '../../../src/store/store.ts';

const T = Date.UTC(2030, 0, 31, 9, 0, 0);
const flag = { id: 1, key: 'f', deleted: false, filters: { groups: [{ properties: [], rollout_percentage: 10 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] }, payloads: { a: '1' } } } as unknown as FlagRow;

function change(over: Partial<ScheduledChangeRow>): ScheduledChangeRow {
  return {
    id: 1, projectId: 1, recordId: '1', modelName: 'FeatureFlag', payload: { operation: 'update_status', value: true }, scheduledAt: new Date(T),
    executedAt: null, failureReason: null, failureCount: 0, isRecurring: false, recurrenceInterval: null, cronExpression: null,
    lastExecutedAt: null, endDate: null, createdBy: null, createdAt: new Date(T), updatedAt: new Date(T), ...over,
  };
}

test('each operation makes PostHog\'s write', () => {
  assert.deepEqual(payloadWrite(flag, { operation: 'update_status', value: false }), { active: false });
  const added = payloadWrite(flag, { operation: 'add_release_condition', value: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  assert.deepEqual(added.filters?.groups?.map((g) => g.rollout_percentage), [10, 50]);
  const variants = payloadWrite(flag, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 40 }, { key: 'y', rollout_percentage: 60 }], payloads: { x: '2' } } });
  assert.deepEqual((variants.filters as any).multivariate.variants.map((v: any) => v.key), ['x', 'y']);
  assert.deepEqual((variants.filters as any).payloads, { x: '2' });
  assert.deepEqual((flag.filters as any).multivariate.variants[0].key, 'a', 'the stored filters are not mutated');
});

test('bad payloads and apply-time checks throw with PostHog\'s reasons', () => {
  assert.throws(() => payloadWrite(flag, { operation: 'nope', value: 1 }), /Invalid payload/);
  assert.throws(() => payloadWrite(flag, { operation: 'update_status' }), /Invalid payload/);
  assert.throws(() => payloadWrite(flag, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 99 }] } }), /sum is 99, must be 100/);
  assert.throws(() => payloadWrite(flag, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 100 }], payloads: { z: '1' } } }), /Payload keys z/);
  assert.throws(() => planAt(new Date(T))(change({}), null, 'UTC'), /does not exist/);
  assert.throws(() => planAt(new Date(T))(change({ modelName: 'Survey' }), flag, 'UTC'), /Unsupported model_name/);
});

test('next occurrence: intervals in calendar units, cron in the time zone, missed ones skipped, end_date', () => {
  const at = (ms: number) => new Date(ms);
  assert.equal(nextOccurrence(change({}), 'UTC', at(T)), null, 'one-off');
  assert.equal(nextOccurrence(change({ isRecurring: true, recurrenceInterval: 'daily' }), 'UTC', at(T))?.toISOString(), '2030-02-01T09:00:00.000Z');
  assert.equal(nextOccurrence(change({ isRecurring: true, recurrenceInterval: 'weekly' }), 'UTC', at(T))?.toISOString(), '2030-02-07T09:00:00.000Z');
  assert.equal(nextOccurrence(change({ isRecurring: true, recurrenceInterval: 'yearly' }), 'UTC', at(T))?.toISOString(), '2031-01-31T09:00:00.000Z');
  assert.equal(nextOccurrence(change({ isRecurring: true, recurrenceInterval: 'daily' }), 'UTC', at(T + 3.5 * 86_400_000))?.toISOString(), '2030-02-04T09:00:00.000Z');
  assert.equal(nextOccurrence(change({ isRecurring: true, recurrenceInterval: 'daily', endDate: at(T + 3_600_000) }), 'UTC', at(T)), null);
  // 08:30 in Tokyo (UTC+9) is 23:30 UTC the day before.
  assert.equal(nextOccurrence(change({ isRecurring: true, cronExpression: '30 8 * * *' }), 'Asia/Tokyo', at(T))?.toISOString(), '2030-01-31T23:30:00.000Z');
  assert.throws(() => validateCron('0 0 9 * * *', 'UTC'), /5 fields/);
  assert.throws(() => validateCron('61 * * * *', 'UTC'));
  validateCron('*/15 9-17 * * 1-5', 'Europe/Paris');
});
