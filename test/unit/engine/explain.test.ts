// detailed_analysis explanations (engine/explain, spec posthog-newer.md §7): one entry per condition,
// plus the enrollment (−1) and holdout (−2) gates, from the same context the flags were evaluated with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPersonProperties, compileSnapshot, evaluateFlags, explainFlags } from '../../../src/engine/index.ts';
import type { EvaluationContext, FlagDef } from '../../../src/engine/index.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const plan = { key: 'plan', type: 'person', operator: 'exact', value: ['pro'] };

function ctx(distinctId: string, props: Record<string, unknown> = {}, extra: Partial<EvaluationContext> = {}): EvaluationContext {
  return { distinctId, personProperties: buildPersonProperties(null, props, distinctId), groups: {}, groupProperties: {}, storedDataLoaded: true, now: NOW, ...extra };
}

function explain(flags: FlagDef[], c: EvaluationContext, mapping: Record<number, string> = {}) {
  const snapshot = compileSnapshot({ flags, cohorts: [], groupTypeMapping: mapping });
  const results = evaluateFlags(snapshot, c).flags;
  return { results, conditions: explainFlags(snapshot, c, results) };
}

test('a condition matched on properties but outside its rollout is rollout_excluded; the next one matches', () => {
  // beta-feature/some-distinct-id hashes to 0.3435 (spec §3.4).
  const { conditions } = explain(
    [{ id: 1, key: 'beta-feature', active: true, filters: { groups: [{ properties: [plan as never], rollout_percentage: 34 }, { rollout_percentage: 100, variant: null }] } }],
    ctx('some-distinct-id', { plan: 'pro' }),
  );
  const [first, second] = conditions[0]!;
  assert.deepEqual(first, {
    index: 0,
    properties: [{ key: 'plan', operator: 'exact', value: ['pro'], type: 'person', actual_value: 'pro', matched: true, explanation: 'The property value matches' }],
    rollout_percentage: 34,
    variant: null,
    matched: false,
    properties_matched: true,
    rollout_excluded: true,
    explanation: 'Properties matched, but the user is outside the 34% rollout',
  });
  assert.equal(second!.matched, true);
  assert.equal(second!.explanation, 'Matched');
});

test('property mismatch, missing property, flag dependency, cohort and unsupported filters are explained', () => {
  const flags: FlagDef[] = [
    { id: 1, key: 'dep', active: true, filters: { groups: [{ rollout_percentage: 100 }] } },
    {
      id: 2,
      key: 'many',
      active: true,
      filters: {
        groups: [
          { properties: [plan as never] },
          { properties: [{ key: 'email', operator: 'icontains', value: 'x' }] },
          { properties: [{ key: '1', type: 'flag', operator: 'flag_evaluates_to', value: true }] },
          { properties: [{ key: 'id', type: 'cohort', value: 77 }] },
          { properties: [{ key: 'e', type: 'event', operator: 'exact', value: 1 }] },
        ],
      },
    },
  ];
  const { conditions } = explain(flags, ctx('u', { plan: 'free' }));
  const c = conditions[1]!;
  assert.equal(c[0]!.properties[0]!.explanation, 'The property value does not match');
  assert.equal(c[0]!.explanation, 'Property filters did not match');
  assert.equal(c[1]!.properties[0]!.actual_value, null);
  assert.equal(c[1]!.properties[0]!.operator, 'icontains');
  assert.equal(c[1]!.properties[0]!.type, 'person');
  assert.equal(c[2]!.properties[0]!.actual_value, true);
  assert.equal(c[2]!.properties[0]!.explanation, 'The flag evaluates to the expected value');
  assert.equal(c[2]!.matched, true);
  assert.match(c[3]!.properties[0]!.explanation, /^Cannot be evaluated: dependency_not_found_cohort/);
  assert.equal(c[4]!.properties[0]!.explanation, 'This filter type or operator never matches here');
});

test('failed and filtered-out dependencies, unmatched flag filters', () => {
  const flags: FlagDef[] = [
    { id: 1, key: 'broken', active: true, filters: { groups: 'x' as never } },
    { id: 2, key: 'off', active: false, filters: { groups: [{ rollout_percentage: 100 }] } },
    {
      id: 3,
      key: 'uses',
      active: true,
      filters: { groups: [{ properties: [{ key: '1', type: 'flag', operator: 'flag_evaluates_to', value: true }] }, { properties: [{ key: '2', type: 'flag', operator: 'flag_evaluates_to', value: true }] }] },
    },
  ];
  const { results, conditions } = explain(flags, ctx('u'));
  const uses = conditions[results.findIndex((r) => r.key === 'uses')]!;
  assert.equal(uses[0]!.properties[0]!.actual_value, null, 'a failed flag has no value');
  assert.equal(uses[1]!.properties[0]!.actual_value, false, 'an inactive flag reads false');
  assert.equal(uses[1]!.properties[0]!.explanation, 'The flag does not evaluate to the expected value');
});

test('group conditions: skipped without a group key; $group_key comes from the request', () => {
  const gk = { key: '$group_key', type: 'group', group_type_index: 0, operator: 'exact', value: ['acme'] };
  const flags: FlagDef[] = [
    { id: 1, key: 'g', active: true, filters: { aggregation_group_type_index: 0, groups: [{ properties: [gk as never] }] } },
    { id: 2, key: 'other', active: true, filters: { aggregation_group_type_index: 0, groups: [{ properties: [{ key: 'tier', type: 'group', group_type_index: 0, operator: 'exact', value: ['x'] }] }] } },
    { id: 3, key: 'unmapped', active: true, filters: { groups: [{ properties: [{ key: 'tier', type: 'group', group_type_index: 3, operator: 'is_not_set' }] }] } },
  ];
  const none = explain(flags, ctx('u'), { 0: 'company' });
  assert.equal(none.conditions[0]![0]!.explanation, "Skipped: the request names no group of this condition's group type");
  assert.equal(none.conditions[0]![0]!.properties_matched, false);
  const acme = explain(flags, ctx('u', {}, { groups: { company: 'acme' }, groupProperties: { company: { tier: 'x' } } }), { 0: 'company' });
  assert.equal(acme.conditions[0]![0]!.properties[0]!.actual_value, 'acme');
  assert.equal(acme.conditions[0]![0]!.matched, true);
  assert.equal(acme.conditions[1]![0]!.properties[0]!.actual_value, 'x');
  assert.equal(acme.conditions[2]![0]!.properties[0]!.actual_value, null, 'a group type index without a name');
  const bare = explain(flags, ctx('u', {}, { groups: { company: 'globex' } }), { 0: 'company' });
  assert.equal(bare.conditions[1]![0]!.properties[0]!.actual_value, null, 'no properties for the group');
});

test('device bucketing without a device id, continuity without stored data, enrollment and holdout gates', () => {
  const flags: FlagDef[] = [
    { id: 1, key: 'dev', active: true, bucketing_identifier: 'device_id', filters: { groups: [{ rollout_percentage: 50 }] } },
    { id: 2, key: 'cont', active: true, ensure_experience_continuity: true, filters: { groups: [{ rollout_percentage: 50 }] } },
    { id: 3, key: 'gate', active: true, filters: { feature_enrollment: true, holdout: { id: 9, exclusion_percentage: 100 }, groups: [{ rollout_percentage: 100 }] } },
    { id: 4, key: 'gate2', active: true, filters: { feature_enrollment: true, holdout: { id: 9, exclusion_percentage: 0 }, groups: [] } },
  ];
  const snapshot = compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} });
  const c = ctx('u', { '$feature_enrollment/gate': 'no' }, { storedDataLoaded: false });
  const results = flags.map((f) => ({ key: f.key, enabled: false, variant: null, failed: false, reason: 'no_condition_match' }) as never);
  const [dev, cont, gate, gate2] = explainFlags(snapshot, c, results);
  assert.equal(dev![0]!.explanation, 'Skipped: the flag buckets by device id and the request has none');
  assert.equal(dev![0]!.rollout_excluded, true);
  assert.equal(cont![0]!.explanation, 'The rollout needs stored data');
  assert.deepEqual(gate!.map((x) => x.index), [-1, -2, 0]);
  assert.equal(gate![0]!.properties[0]!.explanation, 'Not enrolled');
  assert.equal(gate![0]!.explanation, 'Early-access enrollment decides the flag');
  assert.equal(gate![1]!.explanation, 'Outside the holdout group');
  assert.equal(gate2![0]!.explanation, 'No enrollment property');
  const held = explainFlags(snapshot, ctx('u', { '$feature_enrollment/gate': true }), [{ key: 'gate', reason: 'holdout_condition_value' } as never])[0]!;
  assert.equal(held[0]!.properties[0]!.explanation, 'Enrolled');
  assert.equal(held[1]!.explanation, 'In the holdout group');
  assert.deepEqual(explainFlags(snapshot, c, [{ key: 'gone' } as never]), [[]], 'an unknown key explains nothing');
});
