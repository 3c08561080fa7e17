/**
 * @module test/integration/store/contract-groups
 * Contract: group type mapping (0–4 per project) and group properties.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractContext } from './store-contract.ts';

export function groupContract(ctx: ContractContext): void {
  describe('groups', () => {
    it('hands out the lowest free index per name, the same index for a known name, and null after five', async () => {
      const p = await ctx.newProject();
      const names = ['company', 'team', 'org', 'account', 'workspace'];
      const got: Array<number | null> = [];
      for (const n of names) got.push(await ctx.store().ensureGroupTypeIndex(p.id, n));
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
      assert.equal(await ctx.store().ensureGroupTypeIndex(p.id, 'team'), 1);
      assert.equal(await ctx.store().ensureGroupTypeIndex(p.id, 'sixth'), null);
      assert.deepEqual(await ctx.store().getGroupTypeMapping(p.id), { 0: 'company', 1: 'team', 2: 'org', 3: 'account', 4: 'workspace' });
      assert.equal((await ctx.store().getProject(p.id))?.revision, 6, 'only additions bump the revision');
    });

    it('gives one index per name when many callers race, and distinct indexes to distinct names', async () => {
      const p = await ctx.newProject();
      const same = await Promise.all(Array.from({ length: 8 }, () => ctx.store().ensureGroupTypeIndex(p.id, 'company')));
      assert.deepEqual(new Set(same), new Set([0]));
      const names = ['a', 'b', 'c', 'd', 'e', 'f'];
      const got = await Promise.all(names.map((n) => ctx.store().ensureGroupTypeIndex(p.id, n)));
      assert.deepEqual(got.filter((i) => i === null).length, 2, 'four free slots, six names');
      assert.deepEqual(got.filter((i) => i !== null).sort(), [1, 2, 3, 4]);
    });

    it('upserts group properties, $group_set overwriting keys', async () => {
      const p = await ctx.newProject();
      await ctx.store().upsertGroup(p.id, 0, 'acme', { size: 10, plan: 'free' });
      await ctx.store().upsertGroup(p.id, 0, 'acme', { plan: 'pro' });
      await ctx.store().upsertGroup(p.id, 1, 'acme', { other: true });
      const g = await ctx.store().getGroup(p.id, 0, 'acme');
      assert.deepEqual([g?.groupTypeIndex, g?.groupKey, g?.properties, g?.projectId], [0, 'acme', { size: 10, plan: 'pro' }, p.id]);
      assert.ok(g?.createdAt instanceof Date);
      assert.equal(await ctx.store().getGroup(p.id, 2, 'acme'), null);
      assert.equal(await ctx.store().getGroup(p.id, 9, 'acme'), null);
      await assert.rejects(ctx.store().upsertGroup(p.id, 5, 'acme', {}));
    });
  });
}
