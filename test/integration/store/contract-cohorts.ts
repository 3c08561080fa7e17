/**
 * @module test/integration/store/contract-cohorts
 * Contract: cohorts (versions, revisions, soft delete) and static membership.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVexilError } from '../../../src/errors.ts';
import type { ContractContext } from './store-contract.ts';

const hasCode = (code: string) => (err: unknown): boolean => isVexilError(err) && err.code === code;

export function cohortContract(ctx: ContractContext): void {
  describe('cohorts', () => {
    it('creates, updates and soft-deletes a cohort with version and revision bumps', async () => {
      const p = await ctx.newProject();
      const filters = { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', value: 'pro', type: 'person' }] }] } };
      const c = await ctx.store().createCohort(p.id, { name: 'Pros', description: 'paying', isStatic: false, filters }, 'alice');
      assert.deepEqual([c.name, c.description, c.isStatic, c.filters, c.deleted, c.version], ['Pros', 'paying', false, filters, false, 1]);
      assert.deepEqual(await ctx.store().getCohort(p.id, c.id), c);
      const u = await ctx.store().updateCohort(p.id, c.id, { name: 'Paying' }, 'bob');
      assert.deepEqual([u?.name, u?.version, u?.filters], ['Paying', 2, filters]);
      assert.equal((await ctx.store().getProject(p.id))?.revision, 3);
      await ctx.store().updateCohort(p.id, c.id, { deleted: true }, 'bob');
      assert.equal((await ctx.store().getCohort(p.id, c.id))?.deleted, true);
      assert.equal((await ctx.store().listCohorts(p.id, { limit: 10, offset: 0 })).count, 0);
      assert.equal(await ctx.store().updateCohort(p.id, 2_000_000_000, { name: 'x' }, 'bob'), null);
    });

    it('lists live cohorts newest first with count and paging', async () => {
      const p = await ctx.newProject();
      const a = await ctx.store().createCohort(p.id, { name: 'a', isStatic: true }, 'x');
      const b = await ctx.store().createCohort(p.id, { name: 'b', isStatic: true }, 'x');
      const page = await ctx.store().listCohorts(p.id, { limit: 1, offset: 0 });
      assert.deepEqual([page.count, page.rows.map((c) => c.id)], [2, [b.id]]);
      assert.deepEqual((await ctx.store().listCohorts(p.id, { limit: 5, offset: 1 })).rows.map((c) => c.id), [a.id]);
    });

    it('adds static members by distinct id (creating persons) and by person id, counting only new ones', async () => {
      const p = await ctx.newProject();
      const c = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'known', set: { a: 1 } }]);
      const known = await ctx.store().getPersonByDistinctId(p.id, 'known');
      assert.equal(await ctx.store().addStaticCohortMembers(p.id, c.id, { distinctIds: ['known', 'new-1', 'new-1'] }), 2);
      assert.ok(await ctx.store().getPersonByDistinctId(p.id, 'new-1'), 'a person was created for the unknown distinct id');
      assert.equal(await ctx.store().addStaticCohortMembers(p.id, c.id, { personIds: [known!.id], distinctIds: ['known'] }), 0);
      assert.equal(await ctx.store().addStaticCohortMembers(p.id, c.id, { personIds: ['not-a-uuid', '00000000-0000-4000-8000-000000000000'] }), 0);
      const data = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'new-1', groups: [] });
      assert.deepEqual(data.staticCohortIds, [c.id]);
      assert.equal(await ctx.store().removeStaticCohortMember(p.id, c.id, known!.id), true);
      assert.equal(await ctx.store().removeStaticCohortMember(p.id, c.id, known!.id), false);
      assert.equal(await ctx.store().removeStaticCohortMember(p.id, c.id, 'not-a-uuid'), false);
      const after = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'known', groups: [] });
      assert.deepEqual(after.staticCohortIds, []);
    });

    it('adds static members by distinct id of existing persons only, and by email property (CSV upload)', async () => {
      const p = await ctx.newProject();
      const other = await ctx.newProject();
      const c = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
      await ctx.store().applyPersonUpdates(p.id, [
        { distinctId: 'k-1', set: { email: 'one@x.io' } },
        { distinctId: 'k-2', set: { email: 'two@x.io' } },
        { distinctId: 'k-3', set: { email: 'ONE@x.io' } },
      ]);
      await ctx.store().applyPersonUpdates(other.id, [{ distinctId: 'k-9', set: { email: 'one@x.io' } }]);
      assert.equal(await ctx.store().addStaticCohortMembers(p.id, c.id, { knownDistinctIds: ['k-1', 'unknown', 'k-9'] }), 1);
      assert.equal(await ctx.store().getPersonByDistinctId(p.id, 'unknown'), null, 'no person is created for an unknown id');
      assert.equal(await ctx.store().addStaticCohortMembers(p.id, c.id, { emails: ['one@x.io', 'two@x.io', 'nobody@x.io'] }), 1, 'one@x.io is already in; the match is exact');
      const member = async (id: string) => (await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: id, groups: [] })).staticCohortIds.includes(c.id);
      assert.deepEqual([await member('k-1'), await member('k-2'), await member('k-3')], [true, true, false]);
      const otherData = await ctx.store().loadEvaluationData({ projectId: other.id, distinctId: 'k-9', groups: [] });
      assert.deepEqual(otherData.staticCohortIds, []);
    });

    it('refuses members for a dynamic cohort and for an unknown cohort', async () => {
      const p = await ctx.newProject();
      const dyn = await ctx.store().createCohort(p.id, { name: 'd', isStatic: false, filters: { properties: { type: 'AND', values: [] } } }, 'x');
      await assert.rejects(ctx.store().addStaticCohortMembers(p.id, dyn.id, { distinctIds: ['u'] }), hasCode('VXL_VALIDATION'));
      await assert.rejects(ctx.store().addStaticCohortMembers(p.id, 2_000_000_000, { distinctIds: ['u'] }), hasCode('VXL_NOT_FOUND'));
      assert.equal(await ctx.store().getPersonByDistinctId(p.id, 'u'), null, 'a refused add creates nobody');
    });

    it('does not report memberships of soft-deleted cohorts', async () => {
      const p = await ctx.newProject();
      const c = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
      await ctx.store().addStaticCohortMembers(p.id, c.id, { distinctIds: ['u'] });
      await ctx.store().updateCohort(p.id, c.id, { deleted: true }, 'x');
      const data = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'u', groups: [] });
      assert.deepEqual(data.staticCohortIds, []);
    });
  });
}
