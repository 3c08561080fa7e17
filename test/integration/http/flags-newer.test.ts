// /flags and definitions: PostHog's newer server behaviour (spec posthog-newer.md §1, §4, §7, §8, §11, issue #14):
// early_exit through the admin API and definitions, device id typing and fallback, $group_key and $os
// with stored data, metadata.has_experiment, detailed_analysis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, addFlag, json, postFlags, startTestApp, type TestApp } from './http-helpers.ts';

const plan = { key: 'plan', type: 'person', operator: 'exact', value: ['pro'] };

for (const kind of STORE_KINDS) {
  describe(`/flags newer PostHog behaviour (${kind} store)`, () => {
    let t: TestApp;

    before(async () => {
      t = await startTestApp(kind);
      const pid = t.project.id;
      await t.store.applyPersonUpdates(pid, [{ distinctId: 'mobile-user', set: { $os_name: 'iOS' } }]);
      await t.store.ensureGroupTypeIndex(pid, 'company');
      await addFlag(t, pid, 'device-flag', { groups: [{ properties: [], rollout_percentage: 100 }] }, { bucketingIdentifier: 'device_id' });
      await addFlag(t, pid, 'device-half', { groups: [{ properties: [], rollout_percentage: 50 }] }, { bucketingIdentifier: 'device_id' });
      await addFlag(t, pid, 'ios', { groups: [{ properties: [{ key: '$os', type: 'person', operator: 'exact', value: ['iOS'] }] }] });
      await addFlag(t, pid, 'acme-only', {
        aggregation_group_type_index: 0,
        groups: [{ properties: [{ key: '$group_key', type: 'group', group_type_index: 0, operator: 'exact', value: ['acme'] }] }],
      });
    });
    after(async () => t.close());

    test('early_exit is accepted by the admin API, served in definitions, and stops at the excluding condition', async () => {
      const created = await t.app.server.inject({
        method: 'POST',
        url: `/api/projects/${t.project.id}/feature_flags`,
        headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' },
        // beta-feature/some-distinct-id hashes to 0.3435 (spec §3.4): outside 34 %.
        payload: { key: 'beta-feature', filters: { early_exit: true, groups: [{ properties: [plan], rollout_percentage: 34 }, { properties: [], rollout_percentage: 100 }] } },
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(json(created).filters.early_exit, true);
      const bad = await t.app.server.inject({
        method: 'POST',
        url: `/api/projects/${t.project.id}/feature_flags`,
        headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' },
        payload: { key: 'bad-early-exit', filters: { early_exit: 'yes', groups: [] } },
      });
      assert.equal(bad.statusCode, 400);

      const defs = json(await t.app.server.inject({ method: 'GET', url: `/flags/definitions?token=${t.project.token}`, headers: { authorization: `Bearer ${t.personalKey}` } }));
      const served = defs.flags.find((f: { key: string }) => f.key === 'beta-feature');
      assert.equal(served.filters.early_exit, true);
      assert.deepEqual(served.evaluation_contexts, served.evaluation_tags, 'evaluation_contexts alongside evaluation_tags');

      const pro = json(await postFlags(t, { token: t.project.token, distinct_id: 'some-distinct-id', person_properties: { plan: 'pro' } }));
      assert.deepEqual(pro.flags['beta-feature'].reason, { code: 'out_of_rollout_bound', condition_index: 0, description: 'Out of rollout bound' });
      assert.equal(pro.flags['beta-feature'].enabled, false);
      const free = json(await postFlags(t, { token: t.project.token, distinct_id: 'some-distinct-id', person_properties: { plan: 'free' } }));
      assert.equal(free.flags['beta-feature'].enabled, true, 'a property mismatch falls through');
    });

    test('metadata.has_experiment is always false', async () => {
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: 'u' }));
      for (const f of Object.values(b.flags) as { metadata: { has_experiment: unknown } }[]) assert.equal(f.metadata.has_experiment, false);
    });

    test('a non-string $device_id or $anon_distinct_id is a 400; strings are accepted', async () => {
      for (const field of ['$device_id', 'device_id', '$anon_distinct_id', 'anon_distinct_id']) {
        const res = await postFlags(t, { token: t.project.token, distinct_id: 'u', [field]: 12345 });
        assert.equal(res.statusCode, 400, field);
        assert.match(res.body, /must be a string/);
      }
      assert.equal((await postFlags(t, { token: t.project.token, distinct_id: 'u', $device_id: 'd-1', $anon_distinct_id: 'a-1' })).statusCode, 200);
    });

    test('device bucketing: 100 % without variants answers without a device id; 50 % is withheld', async () => {
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: 'server-side-user' }));
      assert.equal(b.flags['device-flag'].enabled, true);
      assert.equal(b.flags['device-half'].reason.code, 'out_of_rollout_bound');
    });

    test('an empty top-level device id falls back to person_properties.$device_id', async () => {
      const viaProps = json(await postFlags(t, { token: t.project.token, distinct_id: 'x', person_properties: { $device_id: 'device-1' } }));
      const viaEmpty = json(await postFlags(t, { token: t.project.token, distinct_id: 'x', $device_id: '', person_properties: { $device_id: 'device-1' } }));
      const direct = json(await postFlags(t, { token: t.project.token, distinct_id: 'x', $device_id: 'device-1' }));
      assert.deepEqual(viaEmpty.flags['device-half'], direct.flags['device-half']);
      assert.deepEqual(viaProps.flags['device-half'], direct.flags['device-half']);
      assert.notEqual(direct.flags['device-half'].reason.code, 'out_of_rollout_bound', 'device-1 is inside 50 %');
    });

    test('stored $os_name matches a condition on $os', async () => {
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: 'mobile-user' }));
      assert.equal(b.flags.ios.enabled, true);
    });

    test('$group_key comes from the request groups', async () => {
      const acme = json(await postFlags(t, { token: t.project.token, distinct_id: 'u', groups: { company: 'acme' }, group_properties: { company: { $group_key: 'spoofed' } } }));
      assert.equal(acme.flags['acme-only'].enabled, true);
      const other = json(await postFlags(t, { token: t.project.token, distinct_id: 'u', groups: { company: 'globex' } }));
      assert.equal(other.flags['acme-only'].enabled, false);
    });

    test('detailed_analysis=true adds per-condition explanations; absent otherwise', async () => {
      const plain = json(await postFlags(t, { token: t.project.token, distinct_id: 'some-distinct-id', person_properties: { plan: 'pro' } }));
      assert.equal(plain.flags['beta-feature'].conditions, undefined);
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: 'some-distinct-id', person_properties: { plan: 'pro' } }, '/flags?v=2&detailed_analysis=true'));
      const conditions = b.flags['beta-feature'].conditions;
      assert.equal(conditions.length, 2);
      assert.deepEqual(conditions[0].properties, [
        { key: 'plan', operator: 'exact', value: ['pro'], type: 'person', actual_value: 'pro', matched: true, explanation: 'The property value matches' },
      ]);
      assert.equal(conditions[0].properties_matched, true);
      assert.equal(conditions[0].rollout_excluded, true);
      assert.equal(conditions[0].matched, false);
      assert.equal(conditions[0].rollout_percentage, 34);
      assert.equal(conditions[1].matched, true);
      assert.deepEqual(b.flags['beta-feature'].reason.code, 'out_of_rollout_bound', 'the answer itself is unchanged');
      assert.deepEqual(b.flags.ios.conditions[0].properties[0].actual_value, null);
      const v1 = json(await postFlags(t, { token: t.project.token, distinct_id: 'u' }, '/flags?v=1&detailed_analysis=true'));
      assert.ok(v1.featureFlags, 'v1 shape has no per-flag objects and is unchanged');
    });
  });
}
