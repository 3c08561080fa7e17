/**
 * @module test/integration/store/contract-evaluation
 * Contract: the /flags lookup (one round trip), hash-key overrides (spec §6.5) and snapshot definitions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractContext } from './store-contract.ts';

export function evaluationContract(ctx: ContractContext): void {
  describe('evaluation data', () => {
    it('returns empty data for an unknown distinct id', async () => {
      const p = await ctx.newProject();
      const data = await ctx.store().loadEvaluationData({
        projectId: p.id,
        distinctId: 'nobody',
        groups: [{ groupTypeIndex: 0, groupKey: 'none' }],
        overrideDistinctIds: ['nobody', 'anon'],
      });
      assert.deepEqual(data, {
        personProperties: null,
        staticCohortIds: [],
        groupProperties: new Map(),
        hashKeyOverrides: new Map(),
      });
    });

    it('returns person properties, static cohorts and the requested groups together', async () => {
      const p = await ctx.newProject();
      const c = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
      const other = await ctx.store().createCohort(p.id, { name: 'o', isStatic: true }, 'x');
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'u', set: { plan: 'pro', nested: { a: [1, 2] } } }]);
      await ctx.store().addStaticCohortMembers(p.id, c.id, { distinctIds: ['u'] });
      await ctx.store().addStaticCohortMembers(p.id, other.id, { distinctIds: ['someone-else'] });
      await ctx.store().upsertGroup(p.id, 0, 'acme', { size: 10 });
      await ctx.store().upsertGroup(p.id, 2, 'team-1', { t: true });
      await ctx.store().upsertGroup(p.id, 0, 'other', { size: 1 });
      const data = await ctx.store().loadEvaluationData({
        projectId: p.id,
        distinctId: 'u',
        groups: [
          { groupTypeIndex: 0, groupKey: 'acme' },
          { groupTypeIndex: 2, groupKey: 'team-1' },
          { groupTypeIndex: 3, groupKey: 'missing' },
        ],
      });
      assert.deepEqual(data.personProperties, { plan: 'pro', nested: { a: [1, 2] } });
      assert.deepEqual(data.staticCohortIds, [c.id]);
      assert.deepEqual(data.groupProperties, new Map([[0, { size: 10 }], [2, { t: true }]]));
      assert.equal(data.hashKeyOverrides.size, 0, 'no overrides unless asked');
    });

    it('lookups made together are answered together, each with its own project, person, groups and overrides', async () => {
      const a = await ctx.newProject();
      const b = await ctx.newProject();
      const cohort = await ctx.store().createCohort(a.id, { name: 's', isStatic: true }, 'x');
      await ctx.store().applyPersonUpdates(a.id, [{ distinctId: 'u', set: { plan: 'a-pro' } }, { distinctId: 'v', set: { plan: 'a-free' } }]);
      await ctx.store().applyPersonUpdates(b.id, [{ distinctId: 'u', set: { plan: 'b-pro' } }]);
      await ctx.store().addStaticCohortMembers(a.id, cohort.id, { distinctIds: ['v'] });
      await ctx.store().upsertGroup(a.id, 0, 'acme', { size: 10 });
      await ctx.store().upsertGroup(b.id, 0, 'acme', { size: 20 });
      await ctx.store().writeHashKeyOverrides(a.id, ['u'], 'anon-a', ['f']);
      await ctx.store().writeHashKeyOverrides(b.id, ['u'], 'anon-b', ['f']);
      const queries = [
        { projectId: a.id, distinctId: 'u', groups: [{ groupTypeIndex: 0, groupKey: 'acme' }], overrideDistinctIds: ['u'] },
        { projectId: b.id, distinctId: 'u', groups: [{ groupTypeIndex: 0, groupKey: 'acme' }], overrideDistinctIds: ['u'] },
        { projectId: a.id, distinctId: 'v', groups: [] },
        { projectId: a.id, distinctId: 'nobody', groups: [{ groupTypeIndex: 0, groupKey: 'acme' }], overrideDistinctIds: ['nobody', 'u'] },
        { projectId: b.id, distinctId: 'v', groups: [{ groupTypeIndex: 1, groupKey: 'acme' }] },
        { projectId: a.id, distinctId: 'v', groups: [], staticCohorts: false },
      ];
      const together = await Promise.all(queries.map((q) => ctx.store().loadEvaluationData(q)));
      const alone = [];
      for (const q of queries) alone.push(await ctx.store().loadEvaluationData(q));
      assert.deepEqual(together.slice(0, 5), alone.slice(0, 5));
      assert.deepEqual(together.map((d) => d.personProperties?.plan ?? null), ['a-pro', 'b-pro', 'a-free', null, null, 'a-free']);
      assert.deepEqual(together.map((d) => d.groupProperties.get(0)?.size ?? null), [10, 20, null, 10, null, null]);
      assert.deepEqual(together.map((d) => d.hashKeyOverrides.get('f') ?? null), ['anon-a', 'anon-b', null, 'anon-a', null, null]);
      // Alone, a query that does not ask for static cohorts gets none; in a batch with others it may.
      assert.deepEqual(alone.map((d) => d.staticCohortIds), [[], [], [cohort.id], [], [], []]);
      assert.deepEqual(together.slice(0, 5).map((d) => d.staticCohortIds), [[], [], [cohort.id], [], []]);
    });

    it('writes overrides insert-if-absent, only for existing persons', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'u' }]);
      await ctx.store().writeHashKeyOverrides(p.id, ['u', 'ghost'], 'anon-1', ['f1', 'f2']);
      await ctx.store().writeHashKeyOverrides(p.id, ['u'], 'anon-2', ['f2', 'f3']);
      await ctx.store().writeHashKeyOverrides(p.id, [], 'anon-3', ['f4']);
      const data = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'u', groups: [], overrideDistinctIds: ['u', 'ghost'] });
      assert.deepEqual(Object.fromEntries(data.hashKeyOverrides), { f1: 'anon-1', f2: 'anon-1', f3: 'anon-2' });
      assert.equal(await ctx.store().getPersonByDistinctId(p.id, 'ghost'), null, 'no person is created for overrides');
    });

    it("lets the first distinct id's person win when both persons have an override for a flag", async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'user' }, { distinctId: 'anon' }]);
      await ctx.store().writeHashKeyOverrides(p.id, ['anon'], 'anon-hash', ['shared', 'anonOnly']);
      await ctx.store().writeHashKeyOverrides(p.id, ['user'], 'user-hash', ['shared']);
      const q = { projectId: p.id, distinctId: 'user', groups: [] };
      const userFirst = await ctx.store().loadEvaluationData({ ...q, overrideDistinctIds: ['user', 'anon'] });
      assert.deepEqual(Object.fromEntries(userFirst.hashKeyOverrides), { shared: 'user-hash', anonOnly: 'anon-hash' });
      const anonFirst = await ctx.store().loadEvaluationData({ ...q, overrideDistinctIds: ['anon', 'user'] });
      assert.deepEqual(Object.fromEntries(anonFirst.hashKeyOverrides), { shared: 'anon-hash', anonOnly: 'anon-hash' });
    });

    it('loads live flags (inactive included), live cohorts and group types for a snapshot', async () => {
      const p = await ctx.newProject();
      const on = await ctx.store().createFlag(p.id, { key: 'on' }, 'x');
      const off = await ctx.store().createFlag(p.id, { key: 'off', active: false }, 'x');
      const gone = await ctx.store().createFlag(p.id, { key: 'gone' }, 'x');
      await ctx.store().updateFlag(p.id, gone.id, { deleted: true }, 'x');
      const c = await ctx.store().createCohort(p.id, { name: 'c', isStatic: false, filters: { properties: { type: 'AND', values: [] } } }, 'x');
      const dc = await ctx.store().createCohort(p.id, { name: 'dc', isStatic: true }, 'x');
      await ctx.store().updateCohort(p.id, dc.id, { deleted: true }, 'x');
      await ctx.store().ensureGroupTypeIndex(p.id, 'company');
      const defs = await ctx.store().loadProjectDefinitions(p.id);
      assert.deepEqual(defs?.flags.map((f) => f.id), [on.id, off.id]);
      assert.deepEqual(defs?.cohorts.map((x) => x.id), [c.id]);
      assert.deepEqual(defs?.groupTypeMapping, { 0: 'company' });
      assert.equal(defs?.project.revision, 9);
      // One statement, rows as JSON: the same rows (types, Dates, arrays) the single-row reads give.
      assert.deepEqual(defs?.flags[0], await ctx.store().getFlag(p.id, on.id));
      assert.deepEqual(defs?.cohorts[0], await ctx.store().getCohort(p.id, c.id));
      assert.deepEqual(defs?.project, await ctx.store().getProject(p.id));
      assert.equal(await ctx.store().loadProjectDefinitions(2_000_000_000), null);
    });
  });
}
