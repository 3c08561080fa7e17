/**
 * @module test/integration/store/contract-projects
 * Contract: projects, secret hashes, personal API keys, revisions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ContractContext } from './store-contract.ts';

const hex = (): string => randomBytes(32).toString('hex');

export function projectContract(ctx: ContractContext): void {
  describe('projects and keys', () => {
    it('creates a project readable by id and by api token, with revision 1 and UTC by default', async () => {
      const token = `phc_${hex()}`;
      const p = await ctx.store().createProject({ name: 'Acme', apiToken: token, secretTokenHash: hex() });
      assert.equal(p.name, 'Acme');
      assert.equal(p.timezone, 'UTC');
      assert.equal(p.revision, 1);
      assert.match(p.uuid, /^[0-9a-f-]{36}$/);
      assert.ok(p.createdAt instanceof Date);
      assert.deepEqual(await ctx.store().getProject(p.id), p);
      assert.deepEqual(await ctx.store().getProjectByApiToken(token), p);
      assert.ok((await ctx.store().listProjects()).some((x) => x.id === p.id));
    });

    it('returns null for unknown project ids and tokens, including out-of-range ids', async () => {
      assert.equal(await ctx.store().getProject(2_000_000_000), null);
      assert.equal(await ctx.store().getProject(-1), null);
      assert.equal(await ctx.store().getProject(2 ** 40), null);
      assert.equal(await ctx.store().getProjectByApiToken('phc_nope'), null);
    });

    it('deletes a project with everything in it, and nothing of another project', async () => {
      const mk = () => ctx.store().createProject({ name: 'doomed', apiToken: `phc_${hex()}`, secretTokenHash: hex() });
      const [doomed, kept] = [await mk(), await mk()];
      for (const p of [doomed, kept]) {
        await ctx.store().createFlag(p.id, { key: 'f', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, 'x');
        const cohort = await ctx.store().createCohort(p.id, { name: 's', isStatic: true }, 'x');
        await ctx.store().applyPersonUpdates(p.id, [{ distinctId: 'u', set: { a: 1 } }]);
        await ctx.store().addStaticCohortMembers(p.id, cohort.id, { distinctIds: ['u'] });
        await ctx.store().writeHashKeyOverrides(p.id, ['u'], 'anon', ['f']);
        const index = await ctx.store().ensureGroupTypeIndex(p.id, 'company');
        await ctx.store().upsertGroup(p.id, index!, 'acme', { plan: 'pro' });
      }
      assert.equal(await ctx.store().deleteProject(doomed.id), true);
      assert.equal(await ctx.store().deleteProject(doomed.id), false);
      assert.equal(await ctx.store().deleteProject(-1), false);
      assert.equal(await ctx.store().getProject(doomed.id), null);
      assert.equal(await ctx.store().loadProjectDefinitions(doomed.id), null);
      assert.equal(await ctx.store().getPersonByDistinctId(doomed.id, 'u'), null);
      assert.equal(await ctx.store().getGroup(doomed.id, 0, 'acme'), null);
      const gone = await ctx.store().loadEvaluationData({ projectId: doomed.id, distinctId: 'u', groups: [{ groupTypeIndex: 0, groupKey: 'acme' }], overrideDistinctIds: ['u'] });
      assert.deepEqual([gone.personProperties, gone.staticCohortIds, gone.groupProperties.size, gone.hashKeyOverrides.size], [null, [], 0, 0]);
      const still = await ctx.store().loadEvaluationData({ projectId: kept.id, distinctId: 'u', groups: [{ groupTypeIndex: 0, groupKey: 'acme' }], overrideDistinctIds: ['u'] });
      assert.deepEqual([still.personProperties, still.staticCohortIds.length, still.groupProperties.size, still.hashKeyOverrides.get('f')], [{ a: 1 }, 1, 1, 'anon']);
      assert.equal((await ctx.store().loadProjectDefinitions(kept.id))?.flags.length, 1);
    });

    it('refuses a second project with the same api token', async () => {
      const token = `phc_${hex()}`;
      await ctx.store().createProject({ name: 'a', apiToken: token, secretTokenHash: hex() });
      await assert.rejects(ctx.store().createProject({ name: 'b', apiToken: token, secretTokenHash: hex() }));
    });

    it('keeps the previous secret hash as backup when the secret is rotated', async () => {
      const first = hex();
      const p = await ctx.store().createProject({ name: 'a', apiToken: `phc_${hex()}`, secretTokenHash: first, timezone: 'Europe/Paris' });
      assert.equal(p.timezone, 'Europe/Paris');
      assert.deepEqual(await ctx.store().getProjectSecretHashes(p.id), [first]);
      const second = hex();
      await ctx.store().setProjectSecretHash(p.id, second);
      assert.deepEqual(await ctx.store().getProjectSecretHashes(p.id), [second, first]);
      assert.deepEqual(await ctx.store().getProjectSecretHashes(2_000_000_000), []);
    });

    it('stores personal API keys by hash with scopes and project scoping', async () => {
      const before = await ctx.store().countPersonalApiKeys();
      const hash = hex();
      const k = await ctx.store().createPersonalApiKey({ label: 'ci', keyHash: hash, scopes: ['feature_flag:read'], scopedProjects: [1, 2] });
      assert.deepEqual([k.label, k.scopes, k.scopedProjects, k.lastUsedAt], ['ci', ['feature_flag:read'], [1, 2], null]);
      assert.deepEqual(await ctx.store().getPersonalApiKeyByHash(hash), k);
      assert.equal(await ctx.store().getPersonalApiKeyByHash(hex()), null);
      assert.equal(await ctx.store().countPersonalApiKeys(), before + 1);
      await assert.rejects(ctx.store().createPersonalApiKey({ label: 'dup', keyHash: hash, scopes: [], scopedProjects: null }));
    });

    it('lists keys newest first, reads one by id with its mask, and deletes it', async () => {
      const k = await ctx.store().createPersonalApiKey({ label: 'masked', keyHash: hex(), scopes: ['*'], scopedProjects: null, maskValue: 'phx_...abcd' });
      assert.equal(k.maskValue, 'phx_...abcd');
      assert.deepEqual(await ctx.store().getPersonalApiKey(k.id), k);
      assert.equal(await ctx.store().getPersonalApiKey('not-a-uuid'), null);
      const all = await ctx.store().listPersonalApiKeys();
      assert.deepEqual(all[0], k, 'the newest key comes first');
      assert.equal(await ctx.store().deletePersonalApiKey(k.id), true);
      assert.equal(await ctx.store().deletePersonalApiKey(k.id), false);
      assert.equal(await ctx.store().deletePersonalApiKey('not-a-uuid'), false);
      assert.equal(await ctx.store().getPersonalApiKey(k.id), null);
      assert.equal((await ctx.store().listPersonalApiKeys()).length, all.length - 1);
    });

    it('ensures a bootstrap key idempotently, also under concurrent calls', async () => {
      const hash = hex();
      const input = { label: 'bootstrap', keyHash: hash, scopes: ['*'] };
      const [a, b] = await Promise.all([ctx.store().ensurePersonalApiKey(input), ctx.store().ensurePersonalApiKey(input)]);
      const c = await ctx.store().ensurePersonalApiKey(input);
      assert.equal(a.id, b.id);
      assert.equal(a.id, c.id);
      assert.equal(c.scopedProjects, null);
      assert.deepEqual(c.scopes, ['*']);
    });

    it('provisions the first project (and key) only on an empty store, once', async () => {
      const empty = await ctx.open();
      try {
        const input = {
          project: { name: 'Default project', apiToken: `phc_${hex()}`, secretTokenHash: hex() },
          personalKey: { label: 'bootstrap', keyHash: hex(), scopes: ['*'] },
        };
        const first = await empty.store.provisionFirstProject(input);
        assert.ok(first);
        assert.equal(first.personalKeyCreated, true);
        assert.equal((await empty.store.getPersonalApiKeyByHash(input.personalKey.keyHash))?.scopedProjects, null);
        assert.equal(await empty.store.provisionFirstProject({ ...input, project: { ...input.project, apiToken: `phc_${hex()}` } }), null);
        assert.deepEqual((await empty.store.listProjects()).map((p) => p.id), [first.project.id]);
      } finally {
        await empty.cleanup();
      }
      // A store that has projects is left alone.
      await ctx.newProject();
      assert.equal(await ctx.store().provisionFirstProject({ project: { name: 'x', apiToken: `phc_${hex()}`, secretTokenHash: hex() }, personalKey: null }), null);
    });

    it('marks a personal key used at most once an hour', async () => {
      const hash = hex();
      const k = await ctx.store().createPersonalApiKey({ label: 'used', keyHash: hash, scopes: ['*'], scopedProjects: null });
      const t0 = new Date('2026-11-29T10:00:00.000Z');
      await ctx.store().markPersonalApiKeyUsed(k.id, t0);
      assert.equal((await ctx.store().getPersonalApiKeyByHash(hash))?.lastUsedAt?.toISOString(), t0.toISOString());
      await ctx.store().markPersonalApiKeyUsed(k.id, new Date('2026-11-29T10:59:00.000Z'));
      assert.equal((await ctx.store().getPersonalApiKeyByHash(hash))?.lastUsedAt?.toISOString(), t0.toISOString(), 'within the hour: unchanged');
      const t1 = new Date('2026-11-29T11:00:01.000Z');
      await ctx.store().markPersonalApiKeyUsed(k.id, t1);
      assert.equal((await ctx.store().getPersonalApiKeyByHash(hash))?.lastUsedAt?.toISOString(), t1.toISOString());
    });

    it('lists the revision of every project', async () => {
      const p = await ctx.newProject();
      await ctx.store().createFlag(p.id, { key: 'x' }, 'tester');
      const revisions = await ctx.store().listProjectRevisions();
      assert.equal(revisions.get(p.id), 2);
    });
  });
}
