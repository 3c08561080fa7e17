// Regression: a flag whose conditions hash different identifiers (a group condition, then a person
// one) must not read a bucket that was queued for the other identifier and hashed after the switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot, evaluateFlags } from '../../../src/engine/index.ts';
import type { EvaluationContext, FlagDef } from '../../../src/engine/index.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const four = { variants: ['control', 'test', 'test-2', 'alt-B'].map((key) => ({ key, rollout_percentage: 25 })) };
const age = { key: 'age', type: 'person', operator: 'gte', value: '21' };

/** beta-21: group key "7" is outside 66.67 % (0.7005); user-96632 is inside 99.9 % and its variant bucket is 0.148 ⇒ control. */
const mixed: FlagDef = {
  id: 100,
  key: 'beta-21',
  active: true,
  filters: { multivariate: four, groups: [{ aggregation_group_type_index: 0, rollout_percentage: 66.67 }, { properties: [age as never], rollout_percentage: 99.9 }] },
};

test('a group-then-person flag gets the variant of the person, whatever else shares the batch', () => {
  const ctx: EvaluationContext = {
    distinctId: 'user-96632',
    personProperties: { distinct_id: 'user-96632', age: 42 },
    groups: { company: 7 },
    groupProperties: {},
    storedDataLoaded: true,
    now: NOW,
  };
  // Flags hashed in the same SIMD batch before it: filterless ones (prefetched) and filtered ones
  // (queued during evaluation), in every count up to a batch and a half, so that some arrangement
  // fills a batch right when the mixed flag switches identifiers.
  for (let prefetched = 0; prefetched <= 6; prefetched++) {
    for (let queued = 0; queued <= 6; queued++) {
      const others: FlagDef[] = [];
      for (let i = 0; i < prefetched; i++) others.push({ id: i + 1, key: `p${i}`, active: true, filters: { groups: [{ rollout_percentage: 50 }] } });
      for (let i = 0; i < queued; i++) others.push({ id: i + 50, key: `q${i}`, active: true, filters: { groups: [{ properties: [age as never], rollout_percentage: 50 }] } });
      const snapshot = compileSnapshot({ flags: [...others, mixed], cohorts: [], groupTypeMapping: { 0: 'company' } });
      const got = evaluateFlags(snapshot, ctx).flags.find((f) => f.key === 'beta-21')!;
      assert.equal(got.variant, 'control', `${prefetched} prefetched, ${queued} queued`);
      assert.equal(got.conditionIndex, 1);
    }
  }
});
