/**
 * @module test/integration/store/contract-isolation
 * Contract: nothing of one project is visible or writable through another project's id.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractContext } from './store-contract.ts';

export function isolationContract(ctx: ContractContext): void {
  describe('project isolation', () => {
    it("never shows or changes one project's flags, cohorts, persons, groups or overrides through another", async () => {
      const s = ctx.store();
      const a = await ctx.newProject('a');
      const b = await ctx.newProject('b');
      const flag = await s.createFlag(a.id, { key: 'secret' }, 'x');
      const cohort = await s.createCohort(a.id, { name: 'c', isStatic: true }, 'x');
      await s.applyPersonUpdates(a.id, [{ distinctId: 'u', set: { email: 'a@example.com' } }]);
      await s.addStaticCohortMembers(a.id, cohort.id, { distinctIds: ['u'] });
      await s.writeHashKeyOverrides(a.id, ['u'], 'h', ['secret']);
      await s.ensureGroupTypeIndex(a.id, 'company');
      await s.upsertGroup(a.id, 0, 'acme', { plan: 'pro' });
      const person = await s.getPersonByDistinctId(a.id, 'u');

      assert.equal(await s.getFlag(b.id, flag.id), null);
      assert.equal(await s.getFlagByKey(b.id, 'secret'), null);
      assert.equal((await s.listFlags(b.id, { limit: 10, offset: 0 })).count, 0);
      assert.equal(await s.updateFlag(b.id, flag.id, { active: false }, 'x'), null);
      assert.equal((await s.listFlagActivity(b.id, flag.id, { limit: 10, offset: 0 })).count, 0);
      assert.equal(await s.getCohort(b.id, cohort.id), null);
      assert.equal((await s.listCohorts(b.id, { limit: 10, offset: 0 })).count, 0);
      assert.equal(await s.updateCohort(b.id, cohort.id, { name: 'x' }, 'x'), null);
      await assert.rejects(s.addStaticCohortMembers(b.id, cohort.id, { personIds: [person!.id] }));
      assert.equal(await s.removeStaticCohortMember(b.id, cohort.id, person!.id), false);
      assert.equal(await s.getPersonByDistinctId(b.id, 'u'), null);
      assert.equal(await s.getGroup(b.id, 0, 'acme'), null);
      assert.deepEqual(await s.getGroupTypeMapping(b.id), {});
      const data = await s.loadEvaluationData({
        projectId: b.id,
        distinctId: 'u',
        groups: [{ groupTypeIndex: 0, groupKey: 'acme' }],
        overrideDistinctIds: ['u'],
      });
      assert.deepEqual([data.personProperties, data.staticCohortIds, data.groupProperties.size, data.hashKeyOverrides.size], [null, [], 0, 0]);
      const defs = await s.loadProjectDefinitions(b.id);
      assert.deepEqual([defs?.flags, defs?.cohorts, defs?.groupTypeMapping], [[], [], {}]);

      // Writes through b touch only b: same distinct id and flag key, separate rows.
      await s.applyPersonUpdates(b.id, [{ distinctId: 'u', set: { email: 'b@example.com' } }]);
      await s.createFlag(b.id, { key: 'secret' }, 'x');
      const bOwn = await s.createCohort(b.id, { name: 'bc', isStatic: true }, 'x');
      assert.equal(await s.addStaticCohortMembers(b.id, bOwn.id, { personIds: [person!.id] }), 0, "a's person cannot join b's cohort");
      assert.equal((await s.getPersonByDistinctId(a.id, 'u'))?.properties.email, 'a@example.com');
      assert.equal((await s.getFlag(a.id, flag.id))?.version, 1);
      assert.equal((await s.getProject(a.id))?.revision, 4, "b's writes did not bump a's revision");
    });
  });
}
