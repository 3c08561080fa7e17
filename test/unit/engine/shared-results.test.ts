// Decided results are memoized per flag outcome: shared between evaluations, frozen, and never
// confused between outcomes (reason × enabled × condition × variant).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPersonProperties, compileSnapshot, evaluateFlags } from '../../../src/engine/index.ts';
import type { EvaluationContext, FlagDef } from '../../../src/engine/index.ts';

const ctx = (distinctId: string, props: Record<string, unknown> = {}): EvaluationContext => ({
  distinctId,
  personProperties: buildPersonProperties(null, props, distinctId),
  groups: {},
  groupProperties: {},
  storedDataLoaded: true,
  now: 0,
});

test('the same outcome yields the same frozen result object across evaluations', () => {
  const flags: FlagDef[] = [{ id: 1, key: 'all', active: true, filters: { groups: [{ rollout_percentage: 100 }] } }];
  const snapshot = compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} });
  const a = evaluateFlags(snapshot, ctx('a')).flags[0]!;
  const b = evaluateFlags(snapshot, ctx('b')).flags[0]!;
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
});

test('enrollment on and off on a flag without conditions are distinct outcomes', () => {
  const flags: FlagDef[] = [{ id: 1, key: 'eaf', active: true, filters: { feature_enrollment: true, groups: [], payloads: { true: '1' } } }];
  const snapshot = compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} });
  const on = evaluateFlags(snapshot, ctx('a', { '$feature_enrollment/eaf': true })).flags[0]!;
  const off = evaluateFlags(snapshot, ctx('b', { '$feature_enrollment/eaf': false })).flags[0]!;
  const none = evaluateFlags(snapshot, ctx('c')).flags[0]!;
  assert.deepEqual([on.enabled, on.reason, on.conditionIndex, on.payloadValue], [true, 'super_condition_value', 0, 1]);
  assert.deepEqual([off.enabled, off.reason, off.conditionIndex, off.payloadValue], [false, 'super_condition_value', 0, undefined]);
  assert.deepEqual([none.enabled, none.reason, none.conditionIndex], [false, 'no_group_type', null]);
});

test('every variant of every condition keeps its own result', () => {
  const flags: FlagDef[] = [{
    id: 1,
    key: 'mv',
    active: true,
    filters: {
      groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: 'pro' }], variant: 'b' }, { rollout_percentage: 100 }],
      multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] },
      payloads: { a: '"A"', b: '"B"' },
    },
  }];
  const snapshot = compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} });
  const seen = new Map<string, string>();
  for (let i = 0; i < 200; i++) {
    const r = evaluateFlags(snapshot, ctx(`user-${i}`, i % 3 === 0 ? { plan: 'pro' } : {})).flags[0]!;
    assert.equal(r.payloadValue, r.variant === 'a' ? 'A' : 'B');
    assert.equal(r.conditionIndex, i % 3 === 0 ? 0 : 1);
    if (i % 3 === 0) assert.equal(r.variant, 'b');
    seen.set(`${r.conditionIndex}:${r.variant}`, r.description);
  }
  assert.deepEqual([...seen.keys()].sort(), ['0:b', '1:a', '1:b']);
});

test('the no-match reason numbers the condition loop compares follow PostHog\'s priority', async () => {
  const { NO_GROUP_TYPE, NO_CONDITION_MATCH, OUT_OF_ROLLOUT_BOUND, UNMATCHED } = await import('../../../src/engine/results.ts');
  const { PRIORITY } = await import('../../../src/engine/reasons.ts');
  const numbers = [NO_GROUP_TYPE, NO_CONDITION_MATCH, OUT_OF_ROLLOUT_BOUND];
  assert.deepEqual(numbers.map((n) => UNMATCHED[n]), ['no_group_type', 'no_condition_match', 'out_of_rollout_bound']);
  for (let i = 1; i < numbers.length; i++) {
    assert.ok(numbers[i]! > numbers[i - 1]! && PRIORITY[UNMATCHED[numbers[i]!]!] > PRIORITY[UNMATCHED[numbers[i - 1]!]!]);
  }
});
