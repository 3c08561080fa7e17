/**
 * flagStatus (PostHog's FeatureFlagStatusChecker) and usageStaleness with a passed-in clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagStatus, usageStaleness, windowStart } from '../../../src/admin/flag-status.ts';
import type { FlagRow, FlagUsageRow } from '../../../src/store/store.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2030, 5, 15, 12, 0, 0);

function flag(over: Partial<FlagRow> = {}): FlagRow {
  return {
    id: 1, projectId: 1, key: 'f', name: '', active: true, deleted: false, ensureExperienceContinuity: false, version: 1,
    tags: [], evaluationRuntime: 'all', evaluationTags: [], bucketingIdentifier: null, createdBy: null,
    isRemoteConfiguration: false, hasEncryptedPayloads: false,
    filters: { groups: [{ properties: [], rollout_percentage: 50 }] },
    createdAt: new Date(NOW - 60 * DAY), updatedAt: new Date(NOW - 60 * DAY),
    ...over,
  };
}

const usage = (daysAgo: number, value: string, count = 1): FlagUsageRow => ({
  day: new Date(NOW - daysAgo * DAY).toISOString().slice(0, 10), source: 'flags', value, count, lastCalledAt: new Date(NOW - daysAgo * DAY),
});

test('PostHog status: deleted, disabled, called recently or not, configuration fallback', () => {
  assert.deepEqual(flagStatus(flag({ deleted: true }), null, NOW), { status: 'deleted', reason: 'Flag has been deleted' });
  assert.equal(flagStatus(flag({ active: false }), new Date(NOW - 90 * DAY), NOW).status, 'active');
  assert.deepEqual(flagStatus(flag(), new Date(NOW - 3600_000), NOW), { status: 'active', reason: 'Flag was called today' });
  assert.deepEqual(flagStatus(flag(), new Date(NOW - DAY), NOW), { status: 'active', reason: 'Flag was last called 1 day ago' });
  assert.deepEqual(flagStatus(flag(), new Date(NOW - 31 * DAY), NOW), { status: 'stale', reason: 'Flag has not been called in 31 days' });
  assert.deepEqual(flagStatus(flag(), null, NOW), { status: 'active', reason: 'Flag has no usage data yet' });
  const full = flag({ filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  assert.deepEqual(flagStatus(full, null, NOW), { status: 'stale', reason: 'This boolean flag will always evaluate to "true"' });
  assert.equal(flagStatus({ ...full, createdAt: new Date(NOW - 5 * DAY) }, null, NOW).status, 'active', 'young flags are not judged');
  const mv = flag({
    filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }, { key: 'b', rollout_percentage: 0 }] } },
  });
  assert.deepEqual(flagStatus(mv, null, NOW), { status: 'stale', reason: 'This flag will always use the variant "a"' });
  const override = flag({
    filters: { groups: [{ properties: [], rollout_percentage: 100, variant: 'b' }], multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] } },
  });
  assert.equal(flagStatus(override, null, NOW).reason, 'This flag will always use the variant "b"');
  // As PostHog's checker: no release conditions at all is "rolled out", and an empty variant list is a boolean flag.
  assert.equal(flagStatus(flag({ filters: { groups: [] } }), null, NOW).reason, 'This boolean flag will always evaluate to "true"');
  assert.equal(flagStatus(flag({ filters: {} as FlagRow['filters'] }), null, NOW).status, 'stale');
  const emptyVariants = flag({ filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [] } } });
  assert.equal(flagStatus(emptyVariants, null, NOW).reason, 'This boolean flag will always evaluate to "true"');
  const targeted = flag({ filters: { groups: [{ properties: [{ key: 'plan', type: 'person', value: 'pro' }], rollout_percentage: 100 }] } });
  assert.equal(flagStatus(targeted, null, NOW).status, 'active', 'a condition with properties is not a rollout to everyone');
});

test('usage staleness: not evaluated for N days, one value for everyone, varied, recently changed', () => {
  assert.equal(windowStart(NOW, 7), '2030-06-09');
  assert.deepEqual(
    { ...usageStaleness(flag(), [], new Date(NOW - 8 * DAY), NOW, 7) },
    { days: 7, stale: true, reason: 'not_evaluated', detail: 'Flag has not been evaluated in 7 days' },
  );
  assert.equal(usageStaleness(flag(), [], null, NOW, 7).reason, 'not_evaluated');
  assert.equal(usageStaleness(flag({ createdAt: new Date(NOW - 2 * DAY) }), [], null, NOW, 7).stale, false);
  const same = [usage(6, 'true', 5), usage(1, 'true', 9)];
  const s = usageStaleness(flag(), same, new Date(NOW - DAY), NOW, 7);
  assert.deepEqual({ stale: s.stale, reason: s.reason, value: s.value }, { stale: true, reason: 'single_value', value: 'true' });
  assert.equal(usageStaleness(flag(), [...same, usage(2, 'false')], new Date(NOW - DAY), NOW, 7).stale, false);
  assert.equal(usageStaleness(flag({ updatedAt: new Date(NOW - 3 * DAY) }), same, new Date(NOW - DAY), NOW, 7).stale, false, 'changed within the window');
});
