/**
 * @module test/integration/store/contract-merge
 * Contract: $identify, $create_alias and $merge_dangerously person merges (spec §9).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractContext } from './store-contract.ts';

const identify = (distinctId: string, anon: string) => ({ distinctId, otherDistinctId: anon, force: false, markIdentified: true });
const alias = (distinctId: string, other: string) => ({ distinctId, otherDistinctId: other, force: false, markIdentified: false });

export function mergeContract(ctx: ContractContext): void {
  describe('person merges', () => {
    it('identify with no persons creates one identified person with both ids', async () => {
      const p = await ctx.newProject();
      await ctx.store().mergePersons(p.id, identify('user', 'anon'));
      const person = await ctx.store().getPersonByDistinctId(p.id, 'anon');
      assert.deepEqual([person?.distinctIds, person?.isIdentified], [['anon', 'user'], true]);
    });

    it('identify attaches the new id to the existing anonymous person', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'anon', set: { seen: 1 } }]);
      const anon = await ctx.store().getPersonByDistinctId(p.id, 'anon');
      await ctx.store().mergePersons(p.id, identify('user', 'anon'));
      const person = await ctx.store().getPersonByDistinctId(p.id, 'user');
      assert.deepEqual([person?.id, person?.distinctIds, person?.isIdentified, person?.properties], [anon?.id, ['anon', 'user'], true, { seen: 1 }]);
    });

    it('identify attaches an unknown anon id to the existing distinct_id person', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'user', set: { a: 1 } }]);
      await ctx.store().mergePersons(p.id, identify('user', 'anon'));
      const person = await ctx.store().getPersonByDistinctId(p.id, 'anon');
      assert.deepEqual([person?.distinctIds, person?.isIdentified, person?.properties], [['anon', 'user'], true, { a: 1 }]);
    });

    it('identify merges an unidentified anon person into the distinct_id person, which wins conflicts and keeps its overrides', async () => {
      const p = await ctx.newProject();
      const c1 = await ctx.store().createCohort(p.id, { name: 'c1', isStatic: true }, 'x');
      const c2 = await ctx.store().createCohort(p.id, { name: 'c2', isStatic: true }, 'x');
      await ctx.store().applyPersonUpdates(p.id, [
        { distinctId: 'anon', set: { shared: 'anon', onlyAnon: 1 } },
        { distinctId: 'user', set: { shared: 'user', onlyUser: 2 } },
      ]);
      await ctx.store().addStaticCohortMembers(p.id, c1.id, { distinctIds: ['anon', 'user'] });
      await ctx.store().addStaticCohortMembers(p.id, c2.id, { distinctIds: ['anon'] });
      await ctx.store().writeHashKeyOverrides(p.id, ['anon'], 'anon-hash', ['both', 'anonOnly']);
      await ctx.store().writeHashKeyOverrides(p.id, ['user'], 'user-hash', ['both']);
      const target = await ctx.store().getPersonByDistinctId(p.id, 'user');

      await ctx.store().mergePersons(p.id, identify('user', 'anon'));

      const merged = await ctx.store().getPersonByDistinctId(p.id, 'anon');
      assert.equal(merged?.id, target?.id, 'the distinct_id person survives');
      assert.deepEqual(merged?.properties, { shared: 'user', onlyAnon: 1, onlyUser: 2 });
      assert.deepEqual([merged?.distinctIds, merged?.isIdentified], [['anon', 'user'], true]);
      const data = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'anon', groups: [], overrideDistinctIds: ['anon'] });
      assert.deepEqual([...data.staticCohortIds].sort((a, b) => a - b), [c1.id, c2.id].sort((a, b) => a - b));
      assert.deepEqual(Object.fromEntries(data.hashKeyOverrides), { both: 'user-hash', anonOnly: 'anon-hash' });
      assert.ok(merged!.createdAt.getTime() <= target!.createdAt.getTime(), 'keeps the earlier created_at');
    });

    it('identify does not merge an anon person that is already identified, but marks the distinct_id person', async () => {
      const p = await ctx.newProject();
      await ctx.store().mergePersons(p.id, identify('first', 'first'));
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'first', set: { a: 1 } }, { distinctId: 'second', set: { b: 2 } }]);
      await ctx.store().mergePersons(p.id, identify('second', 'first'));
      const first = await ctx.store().getPersonByDistinctId(p.id, 'first');
      const second = await ctx.store().getPersonByDistinctId(p.id, 'second');
      assert.notEqual(first?.id, second?.id);
      assert.deepEqual([first?.properties, second?.properties, second?.isIdentified], [{ a: 1 }, { b: 2 }, true]);
    });

    it('merge_dangerously merges even an identified person', async () => {
      const p = await ctx.newProject();
      await ctx.store().mergePersons(p.id, identify('first', 'first'));
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'first', set: { a: 1 } }, { distinctId: 'second', set: { b: 2 } }]);
      await ctx.store().mergePersons(p.id, { distinctId: 'second', otherDistinctId: 'first', force: true, markIdentified: false });
      const merged = await ctx.store().getPersonByDistinctId(p.id, 'first');
      assert.deepEqual([merged?.distinctIds, merged?.properties, merged?.isIdentified], [['first', 'second'], { a: 1, b: 2 }, true]);
    });

    it('create_alias links two ids without marking the person identified, and merges an unidentified alias person', async () => {
      const p = await ctx.newProject();
      await ctx.store().mergePersons(p.id, alias('main', 'alias-1'));
      const linked = await ctx.store().getPersonByDistinctId(p.id, 'alias-1');
      assert.deepEqual([linked?.distinctIds, linked?.isIdentified], [['alias-1', 'main'], false]);
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'alias-2', set: { x: 1 } }]);
      await ctx.store().mergePersons(p.id, alias('main', 'alias-2'));
      const all = await ctx.store().getPersonByDistinctId(p.id, 'main');
      assert.deepEqual([all?.distinctIds, all?.properties, all?.isIdentified], [['alias-1', 'alias-2', 'main'], { x: 1 }, false]);
    });

    it('treats merging a person with itself as a no-op apart from identification', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'a', set: { v: 1 } }]);
      await ctx.store().mergePersons(p.id, alias('a', 'b'));
      await ctx.store().mergePersons(p.id, identify('b', 'a'));
      const person = await ctx.store().getPersonByDistinctId(p.id, 'a');
      assert.deepEqual([person?.distinctIds, person?.properties, person?.isIdentified], [['a', 'b'], { v: 1 }, true]);
    });

    it('ends with one consistent person when merges and updates on the same ids run concurrently', async () => {
      const p = await ctx.newProject();
      const ids = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
      await ctx.store().applyPersonUpdates(p.id, ids.map((id) => ({ distinctId: id, set: { [id]: true } })));
      await Promise.all([
        ...ids.slice(1).map((id) => ctx.store().mergePersons(p.id, alias('m0', id))),
        ...ids.map((id) => ctx.store().applyPersonUpdates(p.id, [{ distinctId: id, set: { touched: id } }])),
        ctx.store().mergePersons(p.id, alias('m3', 'm5')),
      ]);
      const person = await ctx.store().getPersonByDistinctId(p.id, 'm0');
      assert.deepEqual(person?.distinctIds, ids);
      for (const id of ids) assert.equal(person?.properties[id], true, `properties of ${id} survived`);
    });
  });
}
