// /flags with stored data: person/group/cohort lookups merged under request overrides, experience
// continuity, no I/O when the request suffices, and partial results when the store fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashBucket } from '../../../src/engine/index.ts';
import { STORE_KINDS, StoreProbe, addFlag, createProject, json, postFlags, rollout, startTestApp, type TestApp } from './http-helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`/flags with stored data (${kind} store)`, () => {
    let t: TestApp;
    const probe = new StoreProbe();
    let staticCohortId = 0;

    before(async () => {
      t = await startTestApp(kind, { VEXIL_LOOKUP_TIMEOUT_MS: '300' }, { wrapStore: (s) => probe.wrap(s) });
      const pid = t.project.id;
      await t.store.applyPersonUpdates(pid, [
        { distinctId: 'stored-user', set: { plan: 'pro', email: 'stored@example.com', $browser: 'Firefox' } },
        { distinctId: 'anon-1', set: {} },
        { distinctId: 'member', set: {} },
      ]);
      const company = await t.store.ensureGroupTypeIndex(pid, 'company');
      assert.equal(company, 0);
      await t.store.upsertGroup(pid, 0, 'acme', { tier: 'enterprise', seats: 5 });
      const cohort = await t.store.createCohort(pid, { name: 'vips', isStatic: true }, 'test');
      staticCohortId = cohort.id;
      await t.store.addStaticCohortMembers(pid, cohort.id, { distinctIds: ['member'] });

      await addFlag(t, pid, 'pro-plan', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
      await addFlag(t, pid, 'email-flag', { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: 'override' }] }] });
      await addFlag(t, pid, 'initial-browser', { groups: [{ properties: [{ key: '$initial_browser', type: 'person', operator: 'exact', value: ['Firefox'] }] }] });
      await addFlag(t, pid, 'enterprise', { aggregation_group_type_index: 0, groups: [{ properties: [{ key: 'tier', type: 'group', group_type_index: 0, operator: 'exact', value: ['enterprise'] }] }] });
      await addFlag(t, pid, 'vip', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: staticCohortId }] }] });
      await addFlag(t, pid, 'everyone', rollout(100));
    });
    after(async () => t.close());

    test('stored person properties are used; request properties win key by key; $initial_ back-filled', async () => {
      const stored = json(await postFlags(t, { token: t.project.token, distinct_id: 'stored-user' })).flags;
      assert.equal(stored['pro-plan'].enabled, true);
      assert.equal(stored['email-flag'].enabled, false);
      assert.equal(stored['initial-browser'].enabled, true);
      const overridden = json(
        await postFlags(t, { token: t.project.token, distinct_id: 'stored-user', person_properties: { plan: 'free', email: 'override@example.com' } }),
      ).flags;
      assert.equal(overridden['pro-plan'].enabled, false, 'request plan=free wins over stored pro');
      assert.equal(overridden['email-flag'].enabled, true);
    });

    test('only_use_override_person_properties ignores stored properties', async () => {
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: 'stored-user' }, '/flags?v=2&only_use_override_person_properties=true'));
      assert.equal(b.flags['pro-plan'].enabled, false);
    });

    test('stored group properties merge under request group_properties', async () => {
      const stored = json(await postFlags(t, { token: t.project.token, distinct_id: 'x', groups: { company: 'acme' } })).flags;
      assert.equal(stored.enterprise.enabled, true);
      const overridden = json(
        await postFlags(t, { token: t.project.token, distinct_id: 'x', groups: { company: 'acme' }, group_properties: { company: { tier: 'free' } } }),
      ).flags;
      assert.equal(overridden.enterprise.enabled, false);
      const noGroup = json(await postFlags(t, { token: t.project.token, distinct_id: 'x' })).flags;
      assert.equal(noGroup.enterprise.reason.code, 'no_group_type');
    });

    test('static cohort membership comes from the store', async () => {
      assert.equal(json(await postFlags(t, { token: t.project.token, distinct_id: 'member' })).flags.vip.enabled, true);
      assert.equal(json(await postFlags(t, { token: t.project.token, distinct_id: 'stranger' })).flags.vip.enabled, false);
    });

    test('a request whose properties suffice does no store I/O at all', async () => {
      const body = { token: t.project.token, distinct_id: 'io-free', flag_keys_to_evaluate: ['everyone', 'pro-plan'], person_properties: { plan: 'pro' } };
      await postFlags(t, body);
      probe.calls.clear();
      const b = json(await postFlags(t, body));
      assert.equal(b.flags.everyone.enabled, true);
      assert.equal(b.flags['pro-plan'].enabled, true);
      assert.equal(probe.total(), 0, `store calls: ${JSON.stringify([...probe.calls])}`);
    });

    test('a request with only a distinct id: straight to the lookup when the project needs one, none when it does not', async () => {
      // Fresh ids each time: the node's person cache would answer a repeated one.
      await t.store.applyPersonUpdates(t.project.id, [1, 2, 3].map((n) => ({ distinctId: `id-only-${n}`, set: { plan: 'pro' } })));
      let n = 0;
      const ask = async (projectToken: string, extra: Record<string, unknown> = {}) => {
        probe.calls.clear();
        const b = json(await postFlags(t, { token: projectToken, distinct_id: `id-only-${++n}`, ...extra }));
        return { flags: b.flags, lookups: probe.calls.get('loadEvaluationData') ?? 0 };
      };
      const full = await ask(t.project.token);
      assert.equal(full.lookups, 1);
      assert.equal(full.flags['pro-plan'].enabled, true, 'stored plan=pro');
      // A subset whose flags the request decides alone: no lookup, as before.
      const subset = await ask(t.project.token, { flag_keys_to_evaluate: ['everyone'] });
      assert.equal(subset.lookups, 0);
      assert.equal(subset.flags.everyone.enabled, true);
      // A project of rollouts only never needs stored data.
      const other = await createProject(t.store, 'rollouts only');
      await addFlag(t, other.id, 'half', rollout(50));
      await addFlag(t, other.id, 'all', rollout(100));
      const rollouts = await ask(other.token);
      assert.equal(rollouts.lookups, 0);
      assert.equal(rollouts.flags.all.enabled, true);
    });

    test('experience continuity keeps the anonymous variant after identify (spec §6.5)', async () => {
      const variants = { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] };
      await addFlag(t, t.project.id, 'continuity', { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: variants }, { ensureExperienceContinuity: true });
      const variantOf = (id: string) => (hashBucket('continuity', id, 'variant') < 0.5 ? 'a' : 'b');
      // An identified id whose own bucket differs from the anonymous one, so the test can tell them apart.
      let user = 'user-0';
      for (let i = 1; variantOf(user) === variantOf('anon-1'); i++) user = `user-${i}`;
      await t.store.applyPersonUpdates(t.project.id, [{ distinctId: user, set: {} }]);
      const anon = json(await postFlags(t, { token: t.project.token, distinct_id: 'anon-1' })).flags.continuity;
      assert.equal(anon.variant, variantOf('anon-1'));
      const identify = json(await postFlags(t, { token: t.project.token, distinct_id: user, $anon_distinct_id: 'anon-1' })).flags.continuity;
      assert.equal(identify.variant, variantOf('anon-1'));
      const later = json(await postFlags(t, { token: t.project.token, distinct_id: user })).flags.continuity;
      assert.equal(later.variant, variantOf('anon-1'), 'the stored override keeps the anonymous bucket');
    });

    test('store failure: flags needing stored data fail, the rest are answered, never a 5xx', async () => {
      for (const mode of ['fail', 'hang'] as const) {
        probe.mode = mode;
        try {
          const res = await postFlags(t, { token: t.project.token, distinct_id: 'stored-user', $anon_distinct_id: 'anon-9' });
          assert.equal(res.statusCode, 200);
          const b = json(res);
          assert.equal(b.errorsWhileComputingFlags, true);
          assert.equal(b.flags.everyone.enabled, true);
          assert.equal(b.flags.everyone.failed, undefined);
          const pro = b.flags['pro-plan'];
          assert.equal(pro.failed, true);
          assert.equal(pro.enabled, false);
          assert.equal(pro.reason.code, mode === 'fail' ? 'database_error' : 'timeout');
          assert.equal(b.flags.continuity.failed, true);
          assert.equal(b.flags.continuity.reason.code, 'hash_key_override_error');
          const v1 = json(await postFlags(t, { token: t.project.token, distinct_id: 'stored-user' }, '/flags?v=1'));
          assert.equal(v1.featureFlags['pro-plan'], false);
          assert.equal(v1.errorsWhileComputingFlags, true);
        } finally {
          probe.mode = 'normal';
        }
      }
    });

    // Last: it closes the store for good.
    test('the store closed mid-request: partial results with errorsWhileComputingFlags, no 500', async () => {
      probe.mode = 'close';
      const res = await postFlags(t, { token: t.project.token, distinct_id: 'stored-user', person_properties: { email: 'override@x' } });
      assert.equal(res.statusCode, 200, res.body);
      const b = json(res);
      assert.equal(b.errorsWhileComputingFlags, true);
      assert.equal(b.flags.everyone.enabled, true);
      assert.equal(b.flags['email-flag'].enabled, true, 'answered from the request alone');
      assert.equal(b.flags['pro-plan'].reason.code, 'database_error');
      probe.mode = 'normal';
      const again = await postFlags(t, { token: t.project.token, distinct_id: 'stored-user' });
      assert.equal(again.statusCode, 200);
      const ready = await t.app.server.inject({ method: 'GET', url: '/_readiness' });
      assert.equal(ready.statusCode, 200, 'flags are still served from memory');
      const readyBody = json(ready) as { status: string; checks: { database: { ok: boolean; error: string | null } } };
      assert.equal(readyBody.status, 'degraded');
      assert.equal(readyBody.checks.database.ok, false);
      assert.ok(readyBody.checks.database.error, 'it says why');
      const unknownToken = await postFlags(t, { token: 'phc_not_cached', distinct_id: 'u' });
      assert.equal(unknownToken.statusCode, 503, 'an uncached token cannot be checked without the store');
      assert.match(unknownToken.body, /database service is currently unavailable/);
    });
  });
}
