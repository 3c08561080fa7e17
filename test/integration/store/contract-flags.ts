/**
 * @module test/integration/store/contract-flags
 * Contract: feature flags — versions, activity, revisions, key uniqueness and soft delete (spec §8.1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVexilError } from '../../../src/errors.ts';
import type { ContractContext } from './store-contract.ts';

const keyExists = (err: unknown): boolean => isVexilError(err) && err.code === 'VXL_FLAG_KEY_EXISTS' && err.attr === 'key';

export function flagContract(ctx: ContractContext): void {
  describe('feature flags', () => {
    it('creates a flag at version 1 with defaults, a created activity row and a revision bump', async () => {
      const p = await ctx.newProject();
      const filters = { groups: [{ properties: [], rollout_percentage: 40 }], payloads: { true: '{"a":1}' } };
      const f = await ctx.store().createFlag(p.id, { key: 'beta', name: 'Beta', filters, tags: ['t1'] }, 'alice');
      assert.deepEqual(
        [f.key, f.name, f.filters, f.active, f.deleted, f.version, f.tags, f.evaluationRuntime, f.evaluationTags, f.bucketingIdentifier, f.createdBy],
        ['beta', 'Beta', filters, true, false, 1, ['t1'], 'all', [], null, 'alice'],
      );
      assert.equal(f.ensureExperienceContinuity, false);
      assert.equal((await ctx.store().getProject(p.id))?.revision, 2);
      const activity = await ctx.store().listFlagActivity(p.id, f.id, { limit: 10, offset: 0 });
      assert.equal(activity.count, 1);
      assert.deepEqual([activity.rows[0].activity, activity.rows[0].actor, activity.rows[0].scope], ['created', 'alice', 'FeatureFlag']);
      assert.equal(activity.rows[0].before, null);
      assert.equal((activity.rows[0].after as { key: string }).key, 'beta');
      assert.deepEqual(await ctx.store().getFlag(p.id, f.id), f);
      assert.deepEqual(await ctx.store().getFlagByKey(p.id, 'beta'), f);
    });

    it('stores an empty filters object when none is given (spec §8.1 model default)', async () => {
      const p = await ctx.newProject();
      const f = await ctx.store().createFlag(p.id, { key: 'bare' }, 'alice');
      assert.deepEqual(f.filters, {});
    });

    it('bumps version and revision on every update and logs before and after', async () => {
      const p = await ctx.newProject();
      const f = await ctx.store().createFlag(p.id, { key: 'k', active: true }, 'alice');
      const u1 = await ctx.store().updateFlag(p.id, f.id, { active: false, ensureExperienceContinuity: true }, 'bob');
      const u2 = await ctx.store().updateFlag(p.id, f.id, {}, 'carol');
      assert.deepEqual([u1?.version, u1?.active, u1?.ensureExperienceContinuity, u1?.name], [2, false, true, '']);
      assert.equal(u2?.version, 3);
      assert.ok(u2!.updatedAt.getTime() >= f.updatedAt.getTime());
      assert.equal((await ctx.store().getProject(p.id))?.revision, 4);
      const activity = await ctx.store().listFlagActivity(p.id, f.id, { limit: 2, offset: 0 });
      assert.equal(activity.count, 3);
      assert.deepEqual(activity.rows.map((r) => [r.activity, r.actor]), [['updated', 'carol'], ['updated', 'bob']]);
      const bob = activity.rows[1];
      assert.deepEqual([(bob.before as { active: boolean }).active, (bob.after as { active: boolean }).active], [true, false]);
      const older = await ctx.store().listFlagActivity(p.id, f.id, { limit: 2, offset: 2 });
      assert.deepEqual(older.rows.map((r) => r.activity), ['created']);
    });

    it('returns null when updating a flag that is not in the project', async () => {
      const p = await ctx.newProject();
      assert.equal(await ctx.store().updateFlag(p.id, 2_000_000_000, { active: false }, 'x'), null);
      assert.equal(await ctx.store().getFlag(p.id, 2_000_000_000), null);
      assert.equal(await ctx.store().getFlag(p.id, 2 ** 40), null);
    });

    it('rejects a duplicate live key with VXL_FLAG_KEY_EXISTS on create and on rename', async () => {
      const p = await ctx.newProject();
      await ctx.store().createFlag(p.id, { key: 'dup' }, 'a');
      const other = await ctx.store().createFlag(p.id, { key: 'other' }, 'a');
      await assert.rejects(ctx.store().createFlag(p.id, { key: 'dup' }, 'a'), keyExists);
      await assert.rejects(ctx.store().updateFlag(p.id, other.id, { key: 'dup' }, 'a'), keyExists);
      assert.equal((await ctx.store().getFlag(p.id, other.id))?.version, 1, 'failed rename changed nothing');
      assert.equal((await ctx.store().getProject(p.id))?.revision, 3, 'failed writes did not bump the revision');
    });

    it('frees the key on soft delete and hard-deletes the soft-deleted flag when the key is reused', async () => {
      const p = await ctx.newProject();
      const old = await ctx.store().createFlag(p.id, { key: 'reuse' }, 'a');
      const deleted = await ctx.store().updateFlag(p.id, old.id, { deleted: true }, 'a');
      assert.equal(deleted?.deleted, true);
      const acts = await ctx.store().listFlagActivity(p.id, old.id, { limit: 1, offset: 0 });
      assert.equal(acts.rows[0].activity, 'deleted');
      assert.equal(await ctx.store().getFlagByKey(p.id, 'reuse'), null);
      assert.equal((await ctx.store().getFlag(p.id, old.id))?.deleted, true);
      const fresh = await ctx.store().createFlag(p.id, { key: 'reuse' }, 'a');
      assert.notEqual(fresh.id, old.id);
      assert.equal(fresh.version, 1);
      assert.equal(await ctx.store().getFlag(p.id, old.id), null);
    });

    it('lists live flags newest first with search on key or name, active filter and count', async () => {
      const p = await ctx.newProject();
      const a = await ctx.store().createFlag(p.id, { key: 'checkout-v2', name: 'New checkout' }, 'x');
      const b = await ctx.store().createFlag(p.id, { key: 'dark_mode', name: 'Dark CHECKOUT colours', active: false }, 'x');
      const c = await ctx.store().createFlag(p.id, { key: 'pricing', name: '100% off' }, 'x');
      const d = await ctx.store().createFlag(p.id, { key: 'gone-checkout' }, 'x');
      await ctx.store().updateFlag(p.id, d.id, { deleted: true }, 'x');

      const all = await ctx.store().listFlags(p.id, { limit: 10, offset: 0 });
      assert.deepEqual([all.count, all.rows.map((f) => f.id)], [3, [c.id, b.id, a.id]]);
      const search = await ctx.store().listFlags(p.id, { search: 'Checkout', limit: 10, offset: 0 });
      assert.deepEqual(search.rows.map((f) => f.id), [b.id, a.id]);
      const literal = await ctx.store().listFlags(p.id, { search: '0%', limit: 10, offset: 0 });
      assert.deepEqual(literal.rows.map((f) => f.id), [c.id], 'LIKE wildcards in the search are literal');
      const underscore = await ctx.store().listFlags(p.id, { search: 'k_m', limit: 10, offset: 0 });
      assert.deepEqual(underscore.rows.map((f) => f.id), [b.id]);
      const inactive = await ctx.store().listFlags(p.id, { active: false, limit: 10, offset: 0 });
      assert.deepEqual(inactive.rows.map((f) => f.id), [b.id]);
      const page = await ctx.store().listFlags(p.id, { limit: 1, offset: 1 });
      assert.deepEqual([page.count, page.rows.map((f) => f.id)], [3, [b.id]]);
      const beyond = await ctx.store().listFlags(p.id, { limit: 5, offset: 50 });
      assert.deepEqual([beyond.count, beyond.rows], [3, []]);
    });

    it('round-trips every writable field', async () => {
      const p = await ctx.newProject();
      const f = await ctx.store().createFlag(
        p.id,
        {
          key: 'full',
          name: 'n',
          filters: { groups: [], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] } },
          active: false,
          ensureExperienceContinuity: true,
          tags: ['x', 'y'],
          evaluationRuntime: 'server',
          evaluationTags: ['web'],
          bucketingIdentifier: 'device_id',
        },
        'a',
      );
      assert.deepEqual(
        [f.active, f.ensureExperienceContinuity, f.tags, f.evaluationRuntime, f.evaluationTags, f.bucketingIdentifier],
        [false, true, ['x', 'y'], 'server', ['web'], 'device_id'],
      );
      const u = await ctx.store().updateFlag(p.id, f.id, { bucketingIdentifier: null, tags: [] }, 'a');
      assert.deepEqual([u?.bucketingIdentifier, u?.tags, u?.evaluationTags], [null, [], ['web']]);
    });
  });
}
