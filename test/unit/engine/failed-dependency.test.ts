// Dependencies on a flag that failed in the same request (engine/failed-dependency, spec posthog-newer.md §13):
// the edges the table rows in evaluation.json do not reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPersonProperties, compileSnapshot, evaluateFlags } from '../../../src/engine/index.ts';
import type { EvaluationContext, FlagDef } from '../../../src/engine/index.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const on = (id: number, value: unknown = true) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value });
const email = { key: 'email', type: 'person', operator: 'icontains', value: 'x' };

function run(flags: FlagDef[], loaded = true) {
  const ctx: EvaluationContext = { distinctId: 'u', personProperties: buildPersonProperties(null, {}, 'u', loaded), groups: {}, groupProperties: {}, storedDataLoaded: loaded, now: NOW };
  const result = evaluateFlags(compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} }), ctx);
  return { result, byKey: new Map(result.flags.map((f) => [f.key, f])) };
}

/** A multivariate flag that always fails (a cohort that does not exist). */
const brokenMv = (id: number): FlagDef => ({
  id,
  key: `broken-${id}`,
  active: true,
  filters: { multivariate: { variants: [1, 2, 3, 4, 5, 6].map((n) => ({ key: `v${n}`, rollout_percentage: n === 1 ? 100 : 0 })) }, groups: [{ properties: [{ key: 'id', type: 'cohort', value: 999 }] }] },
});

test('too many value combinations of failed dependencies: the dependent fails without trying them', () => {
  const flags = [brokenMv(1), brokenMv(2), brokenMv(3), { id: 4, key: 'dependent', active: true, filters: { groups: [{ properties: [on(1), on(2), on(3)] }, { rollout_percentage: 100 }] } } as FlagDef];
  const { byKey } = run(flags as FlagDef[]);
  assert.equal(byKey.get('dependent')!.reason, 'dependency_failed');
  assert.equal(byKey.get('dependent')!.failed, true);
});

test('an answer that needs stored data stays inconclusive (provisional pass)', () => {
  const flags: FlagDef[] = [brokenMv(1), { id: 4, key: 'dependent', active: true, filters: { groups: [{ properties: [on(1) as never, email as never] }] } }];
  const { result, byKey } = run(flags, false);
  assert.equal(byKey.get('dependent')!.inconclusive, true);
  assert.equal(result.inconclusive, true);
});

test('an answer that needs stored data for another value of the failed flag stays inconclusive', () => {
  const flags: FlagDef[] = [brokenMv(1), { id: 4, key: 'dependent', active: true, filters: { groups: [{ properties: [on(1) as never] }, { properties: [email as never] }] } }];
  const { byKey } = run(flags, false);
  assert.equal(byKey.get('dependent')!.inconclusive, true);
});

test('a dependent flag that reaches a missing cohort fails with that error, and values are restored', () => {
  const flags: FlagDef[] = [
    brokenMv(1),
    { id: 4, key: 'dependent', active: true, filters: { groups: [{ properties: [on(1) as never, { key: 'id', type: 'cohort', value: 998 } as never] }] } },
    { id: 5, key: 'later', active: true, filters: { groups: [{ properties: [on(1, false) as never] }] } },
  ];
  const { byKey } = run(flags);
  assert.equal(byKey.get('dependent')!.reason, 'dependency_not_found_cohort');
  assert.equal(byKey.get('later')!.reason, 'dependency_failed', 'the failed flag still reads as failed afterwards');
});
