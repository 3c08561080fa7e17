/**
 * Scheduled-change plans: the flag write of each operation, PostHog's apply-time checks, and
 * the admin API's rules (dependencies, cycles, cohorts, variants, enable/disable) applied to it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { payloadBody, planAt } from '../../../src/schedule/plan.ts';
import type { CohortRow, FlagRow, ScheduledChangeRow, ScheduledChangeTarget } from '../../../src/store/store.ts';

const T = Date.UTC(2030, 0, 31, 9, 0, 0);

function flagRow(over: Partial<FlagRow>): FlagRow {
  return {
    id: 1, projectId: 1, key: 'f', name: '', filters: { groups: [{ properties: [], rollout_percentage: 10 }] }, active: true, deleted: false,
    ensureExperienceContinuity: false, version: 1, tags: [], evaluationRuntime: 'all', evaluationTags: [], bucketingIdentifier: null,
    isRemoteConfiguration: false, hasEncryptedPayloads: false, createdBy: null, createdAt: new Date(T), updatedAt: new Date(T), ...over,
  };
}

function cohortRow(over: Partial<CohortRow>): CohortRow {
  return { id: 1, projectId: 1, name: 'c', description: '', isStatic: false, filters: { properties: { type: 'AND', values: [] } }, deleted: false, version: 1, createdAt: new Date(T), updatedAt: new Date(T), ...over };
}

function change(payload: unknown, over: Partial<ScheduledChangeRow> = {}): ScheduledChangeRow {
  return {
    id: 1, projectId: 1, recordId: '1', modelName: 'FeatureFlag', payload, scheduledAt: new Date(T), executedAt: null, failureReason: null,
    failureCount: 0, isRecurring: false, recurrenceInterval: null, cronExpression: null, lastExecutedAt: null, endDate: null, timezone: 'UTC',
    recurrenceAnchorAt: new Date(T), createdBy: null, createdAt: new Date(T), updatedAt: new Date(T), ...over,
  };
}

const multivariate = flagRow({ filters: { groups: [{ properties: [], rollout_percentage: 10 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] }, payloads: { a: '1' } } });

/** Runs a plan against `target` (the flag itself is added to the project's flags). */
function run(payload: unknown, target: Partial<ScheduledChangeTarget> & { flag: FlagRow | null }) {
  const flags = target.flags ?? (target.flag ? [target.flag] : []);
  return planAt(new Date(T), null)(change(payload), { flag: target.flag, flags, cohorts: target.cohorts ?? [] });
}

test("each operation makes PostHog's write", () => {
  assert.deepEqual(payloadBody(multivariate, { operation: 'update_status', value: false }), { active: false });
  const added = payloadBody(multivariate, { operation: 'add_release_condition', value: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  assert.deepEqual((added.filters as any).groups.map((g: any) => g.rollout_percentage), [10, 50]);
  const variants = payloadBody(multivariate, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 40 }, { key: 'y', rollout_percentage: 60 }], payloads: { x: '2' } } });
  assert.deepEqual((variants.filters as any).multivariate.variants.map((v: any) => v.key), ['x', 'y']);
  assert.deepEqual((variants.filters as any).payloads, { x: '2' });
  assert.equal((multivariate.filters as any).multivariate.variants[0].key, 'a', 'the stored filters are not mutated');
  const write = run({ operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 100 }], payloads: { x: { n: 1 } } } }, { flag: multivariate }).write;
  assert.deepEqual((write.filters as any).payloads, { x: '{"n":1}' }, 'payload objects are stored as JSON text, as an admin edit stores them');
});

test("bad payloads fail with PostHog's dispatcher sentences", () => {
  assert.throws(() => payloadBody(multivariate, { operation: 'nope', value: 1 }), /^Error: Unrecognized operation: nope$/);
  assert.throws(() => payloadBody(multivariate, { operation: 'update_status' }), /^Error: Invalid payload$/);
  assert.throws(() => payloadBody(multivariate, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 99 }] } }), /sum is 99, must be 100/);
  assert.throws(
    () => payloadBody(multivariate, { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 100 }], payloads: { z: '1', b: '2' } } }),
    { message: "Payload keys {'b', 'z'} don't match variant keys {'x'}" },
  );
  assert.throws(() => run({ operation: 'update_status', value: true }, { flag: null }), { message: 'FeatureFlag matching query does not exist.' });
  assert.throws(() => run({ operation: 'update_status', value: true }, { flag: flagRow({ deleted: true }) }), /does not exist/);
  assert.throws(() => planAt(new Date(T), null)(change({}, { modelName: 'Survey' }), { flag: multivariate, flags: [], cohorts: [] }), /Unsupported model_name/);
});

test('a change goes through the rules of an admin edit', () => {
  const dependsOn = (id: number) => ({ properties: [{ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value: true }], rollout_percentage: 100 });
  const a = flagRow({ id: 1, key: 'a' });
  const b = flagRow({ id: 2, key: 'b', filters: { groups: [dependsOn(1)] } });
  const addCondition = (group: unknown) => ({ operation: 'add_release_condition', value: { groups: [group] } });
  // a → b while b → a: a cycle.
  assert.throws(() => run(addCondition(dependsOn(2)), { flag: a, flags: [a, b] }), { message: 'Circular dependency detected: a → b → a' });
  assert.throws(() => run(addCondition(dependsOn(99)), { flag: a, flags: [a, b] }), { message: 'Flag dependency references non-existent flag with ID 99' });
  assert.throws(() => run(addCondition(dependsOn(1)), { flag: a, flags: [a, b] }), { message: "Feature flag 'a' cannot depend on itself" });
  const cohortCondition = (id: number) => ({ properties: [{ key: 'id', type: 'cohort', value: id }], rollout_percentage: 100 });
  assert.throws(() => run(addCondition(cohortCondition(5)), { flag: a }), { message: 'Cohort with id 5 does not exist' });
  const behavioral = cohortRow({ id: 6, name: 'buyers', filters: { properties: { type: 'AND', values: [{ type: 'behavioral', key: 'buy', value: 'performed_event', event_type: 'events' }] } } });
  assert.throws(() => run(addCondition(cohortCondition(6)), { flag: a, cohorts: [behavioral] }), { message: "Cohort 'buyers' with filters on events cannot be used in feature flags." });
  assert.ok(run(addCondition(cohortCondition(7)), { flag: a, cohorts: [cohortRow({ id: 7 })] }).write.filters, 'a live cohort is accepted');
  // Disabling a flag others depend on, enabling one that depends on a disabled flag.
  assert.throws(() => run({ operation: 'update_status', value: false }, { flag: a, flags: [a, b] }), /^VexilError: Cannot disable this feature flag because other flags depend on it: b \(ID: 2\)/);
  const offA = flagRow({ id: 1, key: 'a', active: false });
  const offB = flagRow({ id: 2, key: 'b', active: false, filters: { groups: [dependsOn(1)] } });
  assert.throws(() => run({ operation: 'update_status', value: true }, { flag: offB, flags: [offA, offB] }), /Cannot enable this feature flag because it depends on disabled flags: a \(ID: 1\)/);
  // The serializer's own variant rule, for a condition pointing at a variant that no longer exists.
  const override = flagRow({ filters: { groups: [{ properties: [], rollout_percentage: 100, variant: 'a' }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] } } });
  assert.throws(
    () => run({ operation: 'update_variants', value: { variants: [{ key: 'b', rollout_percentage: 100 }] } }, { flag: override }),
    { message: 'Filters are not valid (variant override does not exist)' },
  );
});
