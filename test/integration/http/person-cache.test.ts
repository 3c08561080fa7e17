// VEXIL_PERSON_CACHE_SIZE > 0: repeated /flags lookups come from memory, and every local write
// path (capture $set, group identify, person deletion, definitions changes) invalidates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, StoreProbe, addFlag, json, postFlags, startTestApp, type TestApp } from './http-helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`person cache (${kind} store)`, () => {
    let t: TestApp;
    const probe = new StoreProbe();
    let cohortId = 0;
    const lookups = () => probe.calls.get('loadEvaluationData') ?? 0;
    const flags = async (body: Record<string, unknown> = {}) => json(await postFlags(t, { token: t.project.token, distinct_id: 'cached-user', ...body })).flags;
    const capture = async (event: Record<string, unknown>) => {
      const res = await t.app.server.inject({ method: 'POST', url: '/capture/', payload: { api_key: t.project.token, ...event } });
      assert.equal(res.statusCode, 200, res.body);
    };

    before(async () => {
      t = await startTestApp(kind, { VEXIL_PERSON_CACHE_SIZE: '1000' }, { wrapStore: (s) => probe.wrap(s) });
      const pid = t.project.id;
      await t.store.applyPersonUpdates(pid, [{ distinctId: 'cached-user', set: { plan: 'pro' } }]);
      await t.store.ensureGroupTypeIndex(pid, 'company');
      await t.store.upsertGroup(pid, 0, 'acme', { tier: 'gold' });
      cohortId = (await t.store.createCohort(pid, { name: 'vip', isStatic: true }, 'test')).id;
      await addFlag(t, pid, 'pro', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
      await addFlag(t, pid, 'gold', { aggregation_group_type_index: 0, groups: [{ properties: [{ key: 'tier', type: 'group', group_type_index: 0, operator: 'exact', value: ['gold'] }] }] });
      await addFlag(t, pid, 'vip', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohortId }] }] });
    });
    after(async () => t.close());

    test('a repeated lookup is served from memory', async () => {
      assert.equal((await flags()).pro.enabled, true);
      const before = lookups();
      assert.equal((await flags()).pro.enabled, true);
      assert.equal(lookups(), before, 'no second store lookup');
      const metrics = await t.app.server.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /vexil_person_cache_lookups_total\{result="hit"\} [1-9]/);
    });

    test('capture $set invalidates the person', async () => {
      await flags();
      await capture({ event: '$set', distinct_id: 'cached-user', properties: { $set: { plan: 'free' } } });
      assert.equal((await flags()).pro.enabled, false);
    });

    test('group identify invalidates the group', async () => {
      assert.equal((await flags({ groups: { company: 'acme' } })).gold.enabled, true);
      await capture({ event: '$groupidentify', distinct_id: 'cached-user', properties: { $group_type: 'company', $group_key: 'acme', $group_set: { tier: 'silver' } } });
      assert.equal((await flags({ groups: { company: 'acme' } })).gold.enabled, false);
    });

    test('deleting the person through the person API invalidates the project', async () => {
      await capture({ event: '$set', distinct_id: 'cached-user', properties: { $set: { plan: 'pro' } } });
      assert.equal((await flags()).pro.enabled, true);
      const person = await t.store.getPersonByDistinctId(t.project.id, 'cached-user');
      const res = await t.app.server.inject({
        method: 'DELETE',
        url: `/api/projects/${t.project.id}/persons/${person!.id}/`,
        headers: { authorization: `Bearer ${t.personalKey}` },
      });
      assert.equal(res.statusCode, 204, res.body);
      assert.equal((await flags()).pro.enabled, false);
    });

    test('a definitions change (e.g. static cohort membership written directly) invalidates the project', async () => {
      await t.store.applyPersonUpdates(t.project.id, [{ distinctId: 'cached-user', set: {} }]);
      assert.equal((await flags()).vip.enabled, false);
      await t.store.addStaticCohortMembers(t.project.id, cohortId, { distinctIds: ['cached-user'] });
      await t.app.notifyDefinitionsChanged(t.project.id);
      assert.equal((await flags()).vip.enabled, true);
    });
  });
}
