/**
 * @module test/integration/store/contract-lifecycle
 * Contract: migrations, ping, and data surviving close + reopen.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../../src/store/open-store.ts';
import type { Store } from '../../../src/store/store.ts';
import type { ContractContext } from './store-contract.ts';
import { createTestProject } from './store-contract.ts';

export function lifecycleContract(ctx: ContractContext): void {
  describe('lifecycle', () => {
    it('answers ping once migrated', async () => {
      await ctx.store().ping();
    });

    it('treats migrate() as idempotent, also when called twice at once', async () => {
      await ctx.store().migrate();
      await Promise.all([ctx.store().migrate(), ctx.store().migrate()]);
      const p = await ctx.newProject();
      assert.equal((await ctx.store().getProject(p.id))?.name, 'test');
    });

    it('keeps every kind of data across close and reopen', async () => {
      const t = await ctx.open();
      let reopened: Store | undefined;
      try {
        const { store } = t;
        const p = await createTestProject(store, 'durable');
        const flag = await store.createFlag(p.id, { key: 'kept', filters: { groups: [{ rollout_percentage: 30 }] } }, 'tester');
        const cohort = await store.createCohort(p.id, { name: 'static', isStatic: true }, 'tester');
        await store.applyPersonUpdates(p.id, [{ distinctId: 'u1', set: { plan: 'pro' } }]);
        await store.addStaticCohortMembers(p.id, cohort.id, { distinctIds: ['u1'] });
        const gi = await store.ensureGroupTypeIndex(p.id, 'company');
        await store.upsertGroup(p.id, gi!, 'acme', { size: 10 });
        await store.writeHashKeyOverrides(p.id, ['u1'], 'anon-1', ['kept']);
        await store.close();

        reopened = await openStore(t.options);
        assert.equal((await reopened.getFlag(p.id, flag.id))?.key, 'kept');
        const data = await reopened.loadEvaluationData({
          projectId: p.id,
          distinctId: 'u1',
          groups: [{ groupTypeIndex: gi!, groupKey: 'acme' }],
          overrideDistinctIds: ['u1'],
        });
        assert.deepEqual(data.personProperties, { plan: 'pro' });
        assert.deepEqual(data.staticCohortIds, [cohort.id]);
        assert.deepEqual(data.groupProperties.get(gi!), { size: 10 });
        assert.equal(data.hashKeyOverrides.get('kept'), 'anon-1');
        assert.deepEqual(await reopened.getGroupTypeMapping(p.id), { [gi!]: 'company' });
      } finally {
        await reopened?.close();
        await t.cleanup();
      }
    });
  });
}
