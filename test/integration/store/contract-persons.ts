/**
 * @module test/integration/store/contract-persons
 * Contract: person property updates (spec §9 order), deletion cascades and bulk import.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContractContext } from './store-contract.ts';

async function* generate(n: number, from = 0): AsyncIterable<{ distinctId: string; properties: Record<string, unknown> }> {
  for (let i = from; i < from + n; i++) yield { distinctId: `user-${i}`, properties: { n: i, email: `u${i}@example.com` } };
}

export function personContract(ctx: ContractContext): void {
  describe('persons', () => {
    it('lists a project\'s persons newest first, by page, by exact email, and by search (email substring or exact distinct id)', async () => {
      const p = await ctx.newProject();
      const other = await ctx.newProject();
      // One update each, so created_at orders them: l-0 oldest … l-4 newest.
      const emails = ['ann@x.io', 'bob@y.io', 'c_100%@x.io', 'dee@x.io', null];
      for (const [i, email] of emails.entries()) {
        await ctx.store().applyPersonUpdates(p.id, [{ distinctId: `l-${i}`, set: email === null ? { n: i } : { n: i, email } }]);
      }
      await ctx.store().applyPersonUpdates(other.id, [{ distinctId: 'l-9', set: { email: 'ann@x.io' } }]);
      const ids = async (q: { limit: number; offset: number; email?: string; search?: string }) =>
        (await ctx.store().listPersons(p.id, q)).map((r) => r.distinctIds.join());
      assert.deepEqual(await ids({ limit: 10, offset: 0 }), ['l-4', 'l-3', 'l-2', 'l-1', 'l-0']);
      assert.deepEqual(await ids({ limit: 2, offset: 1 }), ['l-3', 'l-2']);
      assert.deepEqual(await ids({ limit: 2, offset: 5 }), []);
      assert.deepEqual(await ids({ limit: 10, offset: 0, email: 'ann@x.io' }), ['l-0']);
      assert.deepEqual(await ids({ limit: 10, offset: 0, search: 'X.IO' }), ['l-3', 'l-2', 'l-0'], 'email substring, any case');
      assert.deepEqual(await ids({ limit: 10, offset: 0, search: '%' }), ['l-2'], 'LIKE characters are literal');
      assert.deepEqual(await ids({ limit: 10, offset: 0, search: '_' }), ['l-2']);
      assert.deepEqual(await ids({ limit: 10, offset: 0, search: 'l-1' }), ['l-1'], 'an exact distinct id');
      assert.deepEqual(await ids({ limit: 10, offset: 0, search: 'l-' }), [], 'distinct ids match exactly, not by substring');
      assert.deepEqual(await ids({ limit: 10, offset: 0, email: 'ann@x.io', search: 'bob' }), [], 'filters combine');
      assert.deepEqual((await ctx.store().listPersons(other.id, { limit: 10, offset: 0 })).map((r) => r.distinctIds), [['l-9']]);
    });

    it('creates the person on first update, applying $set_once, then $set, then $unset', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [
        { distinctId: 'u', setOnce: { a: 'once', b: 'once', c: 'once' }, set: { b: 'set', d: 'set' }, unset: ['c', 'd'] },
      ]);
      const person = await ctx.store().getPersonByDistinctId(p.id, 'u');
      assert.deepEqual(person?.properties, { a: 'once', b: 'set' });
      assert.deepEqual([person?.distinctIds, person?.isIdentified, person?.projectId], [['u'], false, p.id]);
    });

    it('applies updates in order and never lets $set_once overwrite a present key (even null)', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [
        { distinctId: 'u', set: { plan: 'free', nil: null } },
        { distinctId: 'u', setOnce: { plan: 'pro', nil: 1, first: 'x' } },
        { distinctId: 'u', set: { plan: 'team' }, unset: ['first'] },
        { distinctId: 'u', setOnce: { first: 'y' } },
      ]);
      assert.deepEqual((await ctx.store().getPersonByDistinctId(p.id, 'u'))?.properties, { plan: 'team', nil: null, first: 'y' });
    });

    it('gives the same person when a batch is applied twice (retried delivery)', async () => {
      const p = await ctx.newProject();
      const batch = [
        { distinctId: 'r', setOnce: { first_seen: 'mon' }, set: { visits: 1 } },
        { distinctId: 'r', set: { visits: 2, tmp: true } },
        { distinctId: 'r', unset: ['tmp'] },
      ];
      await ctx.store().applyPersonUpdates(p.id, batch);
      const once = await ctx.store().getPersonByDistinctId(p.id, 'r');
      await ctx.store().applyPersonUpdates(p.id, batch);
      const twice = await ctx.store().getPersonByDistinctId(p.id, 'r');
      assert.deepEqual(twice?.properties, once?.properties);
      assert.equal(twice?.id, once?.id);
      assert.deepEqual(twice?.properties, { first_seen: 'mon', visits: 2 });
    });

    it('creates exactly one person when many batches for a new distinct id run at once', async () => {
      const p = await ctx.newProject();
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'race', set: { [`k${i}`]: i } }, { distinctId: `solo-${i}` }]),
        ),
      );
      const person = await ctx.store().getPersonByDistinctId(p.id, 'race');
      assert.equal(Object.keys(person!.properties).length, 12, 'no update was lost');
      assert.deepEqual(person?.distinctIds, ['race']);
      assert.ok(await ctx.store().getPersonByDistinctId(p.id, 'solo-11'));
    });

    it('stores NUL characters and unpaired surrogates as U+FFFD instead of failing the batch', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [
        { distinctId: 'nul', set: { 'a\u0000b': 'x\u0000y', lit: '\\u0000', lone: 'a\uD800b', pair: '\uD83D\uDE00' } },
        { distinctId: 'n\u0000l', setOnce: { ok: true }, unset: ['x\u0000'] },
      ]);
      assert.deepEqual((await ctx.store().getPersonByDistinctId(p.id, 'nul'))?.properties, {
        'a\uFFFDb': 'x\uFFFDy',
        lit: '\\u0000',
        lone: 'a\uFFFDb',
        pair: '\uD83D\uDE00',
      });
      const odd = await ctx.store().getPersonByDistinctId(p.id, 'n\u0000l');
      assert.deepEqual([odd?.properties, odd?.distinctIds], [{ ok: true }, ['n\uFFFDl']], 'looked up under the same cleaned id');
    });

    it('deletes a person with its distinct ids, hash-key overrides and cohort memberships', async () => {
      const p = await ctx.newProject();
      const c = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
      await ctx.store().mergePersons(p.id, { distinctId: 'id', otherDistinctId: 'anon', force: false, markIdentified: true });
      await ctx.store().addStaticCohortMembers(p.id, c.id, { distinctIds: ['id'] });
      await ctx.store().writeHashKeyOverrides(p.id, ['id'], 'anon', ['f']);
      const person = await ctx.store().getPersonByDistinctId(p.id, 'id');
      const other = await ctx.newProject();
      assert.equal(await ctx.store().deletePerson(other.id, person!.id), false, 'another project cannot delete it');
      assert.equal(await ctx.store().deletePerson(p.id, person!.id), true);
      assert.equal(await ctx.store().deletePerson(p.id, person!.id), false);
      assert.equal(await ctx.store().deletePerson(p.id, 'not-a-uuid'), false);
      assert.equal(await ctx.store().getPersonByDistinctId(p.id, 'anon'), null);
      // A new person under the old distinct id starts clean: no override or membership survived.
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'id' }]);
      const data = await ctx.store().loadEvaluationData({ projectId: p.id, distinctId: 'id', groups: [], overrideDistinctIds: ['id'] });
      assert.deepEqual([data.personProperties, data.staticCohortIds, data.hashKeyOverrides.size], [{}, [], 0]);
    });

    it('imports a few thousand persons in batches, merging into existing persons and repeated ids', async () => {
      const p = await ctx.newProject();
      await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'user-7', set: { kept: true, n: -1 } }]);
      async function* withRepeat() {
        yield* generate(6_000);
        yield { distinctId: 'user-3', properties: { late: true } };
      }
      const written = await ctx.store().importPersons(p.id, withRepeat());
      assert.ok(written >= 6_000 && written <= 6_001, `written ${written}`);
      assert.deepEqual((await ctx.store().getPersonByDistinctId(p.id, 'user-5999'))?.properties, { n: 5999, email: 'u5999@example.com' });
      assert.deepEqual((await ctx.store().getPersonByDistinctId(p.id, 'user-7'))?.properties, { kept: true, n: 7, email: 'u7@example.com' });
      assert.equal((await ctx.store().getPersonByDistinctId(p.id, 'user-3'))?.properties.late, true);
      assert.equal(await ctx.store().importPersons(p.id, generate(0)), 0);
    });

    it('concurrent imports of the same new distinct ids merge into one person each, losing nothing', async () => {
      const p = await ctx.newProject();
      async function* rows(tag: string) {
        for (let i = 0; i < 300; i++) yield { distinctId: `shared-${i}`, properties: { [tag]: i } };
      }
      await Promise.all([ctx.store().importPersons(p.id, rows('a')), ctx.store().importPersons(p.id, rows('b')), ctx.store().importPersons(p.id, rows('c'))]);
      for (const i of [0, 150, 299]) {
        assert.deepEqual((await ctx.store().getPersonByDistinctId(p.id, `shared-${i}`))?.properties, { a: i, b: i, c: i });
      }
    });
  });
}
