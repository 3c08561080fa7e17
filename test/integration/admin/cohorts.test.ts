/**
 * @module test/integration/admin/cohorts.test
 * Cohort endpoints: dynamic and static cohorts, filter validation rows, nested references and
 * loops, soft delete rules, and static membership (person ids and distinct ids), on both backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, createCohort, createFlag, flagBody, openAdmin, type AdminHarness } from './admin-harness.ts';

const group = (...values: unknown[]) => ({ properties: { type: 'OR', values: [{ type: 'AND', values }] } });
const person = (extra: Record<string, unknown> = {}) => ({ type: 'person', key: 'email', operator: 'icontains', value: '@x.com', ...extra });
const nest = (id: number) => ({ type: 'cohort', key: 'id', value: id });

const invalidFilters: Array<[string, unknown, string | RegExp]> = [
  ['no filters on a dynamic cohort', undefined, "Must contain a 'properties' key with type and values"],
  ['filters without properties', { groups: [] }, "Must contain a 'properties' key with type and values"],
  ['an extra top-level key', { properties: { type: 'AND', values: [] }, extra: 1 }, 'filters.extra: unknown field'],
  ['a group type other than AND/OR', { properties: { type: 'XOR', values: [] } }, "filters.properties.type: must be 'AND' or 'OR'"],
  ['values not a list', { properties: { type: 'AND', values: {} } }, 'filters.properties.values: expected a list'],
  ['a person filter without value', group({ type: 'person', key: 'email', operator: 'exact' }), 'Missing required keys for person filter: value'],
  ['a person filter without operator', group({ type: 'person', key: 'email', value: 'x' }), 'Missing required keys for person filter: operator'],
  ['a person filter without both', group({ type: 'person', key: 'email' }), 'Missing required keys for person filter: value, operator'],
  ['a person filter without key', group({ type: 'person', operator: 'exact', value: 'x' }), 'Missing required keys for person filter: key'],
  ['an unknown operator', group(person({ operator: 'resembles' })), /filters\.properties\.values\[0\]\.values\[0\]\.operator: unknown operator 'resembles'/],
  ['an unknown field on a filter', group(person({ colour: 1 })), 'filters.properties.values[0].values[0].colour: unknown field'],
  ['an unknown filter type', group({ type: 'event', key: 'x', value: 'y' }), "unknown filter type 'event'"],
  ['a cohort filter with a bad value', group({ type: 'cohort', key: 'id', value: 'abc' }), 'value must be a cohort id'],
  ['a reference to a missing cohort', group(nest(999999)), 'Invalid Cohort ID in filter'],
  ['a filter that is not an object', group('email'), 'expected a filter or a group'],
];

for (const kind of STORE_KINDS) {
  describe(`admin cohorts (${kind})`, () => {
    let h: AdminHarness;
    let pid: number;
    let P: string;
    before(async () => {
      h = await openAdmin(kind);
      pid = (await h.makeProject('Cohorts')).id;
      P = `/api/projects/${pid}/cohorts`;
    });
    after(async () => h.close());

    test('create a dynamic cohort: 201, PostHog fields, notifies', async () => {
      const before = h.notices.length;
      const res = await h.call('POST', `${P}/`, { body: { name: 'Internal', description: 'staff', filters: group(person()) } });
      assert.equal(res.status, 201, res.raw);
      const c = res.body;
      assert.equal(c.name, 'Internal');
      assert.equal(c.description, 'staff');
      assert.equal(c.is_static, false);
      assert.equal(c.deleted, false);
      assert.equal(c.cohort_type, 'person_property');
      assert.deepEqual(c.filters, group(person()));
      for (const field of ['id', 'groups', 'query', 'version', 'is_calculating', 'created_by', 'created_at', 'count', 'experiment_set']) assert.ok(field in c, field);
      assert.deepEqual(h.notices.slice(before), [pid]);
      assert.deepEqual((await h.call('GET', `${P}/${c.id}/`)).body, c);
    });

    for (const [label, filters, detail] of invalidFilters) {
      test(`rejects ${label}`, async () => {
        const res = await h.call('POST', `${P}/`, { body: { name: 'bad', filters } });
        assertDrfError(res, 400, { type: 'validation_error', code: 'invalid_input', attr: 'filters', detail });
      });
    }

    test('body field rules', async () => {
      assertDrfError(await h.call('POST', `${P}/`, { body: { name: 'x', is_static: 'yes' } }), 400, { attr: 'is_static', detail: 'Must be a valid boolean.' });
      // Unknown top-level fields are ignored, as DRF ignores them.
      const extra = await h.call('POST', `${P}/`, { body: { name: 'x', is_static: true, shape: 1 } });
      assert.equal(extra.status, 201, extra.raw);
      assert.equal(extra.body.shape, undefined);
      assertDrfError(await h.call('POST', `${P}/`, { body: { name: 'x', is_static: true, groups: [{ properties: {} }] } }), 400, { attr: 'groups' });
      assertDrfError(await h.call('POST', `${P}/`, { body: { name: 'x', is_static: true, query: { kind: 'HogQLQuery' } } }), 400, { attr: 'query' });
      assertDrfError(await h.call('POST', `${P}/`, { body: { name: 'x'.repeat(401), is_static: true } }), 400, { code: 'max_length', attr: 'name' });
    });

    test('list is paginated and hides deleted cohorts', async () => {
      const p2 = (await h.makeProject('Cohort list')).id;
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await createCohort(h, p2, `c${i}`));
      await h.call('PATCH', `/api/projects/${p2}/cohorts/${made[0].id}/`, { body: { deleted: true } });
      const list = await h.call('GET', `/api/projects/${p2}/cohorts/?limit=1`);
      assert.equal(list.body.count, 2);
      assert.equal(list.body.results.length, 1);
      assert.match(list.body.next, /offset=1/);
    });

    test('PATCH updates name and filters, bumps the version, notifies', async () => {
      const c = await createCohort(h, pid, 'Editable');
      const before = h.notices.length;
      const res = await h.call('PATCH', `${P}/${c.id}/`, { body: { name: 'Edited', filters: group(person({ value: '@y.com' })) } });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.name, 'Edited');
      assert.equal(res.body.version, c.version + 1);
      assert.equal(res.body.filters.properties.values[0].values[0].value, '@y.com');
      assert.deepEqual(h.notices.slice(before), [pid]);
      assertDrfError(await h.call('PATCH', `${P}/${c.id}/`, { body: { is_static: true } }), 400, { attr: 'is_static' });
    });

    test('nested cohorts: references must exist and must not loop', async () => {
      const a = await createCohort(h, pid, 'Loop A');
      const b = await createCohort(h, pid, 'Loop B', group(nest(a.id)));
      const c = await createCohort(h, pid, 'Loop C', group(nest(b.id)));
      assertDrfError(await h.call('PATCH', `${P}/${a.id}/`, { body: { filters: group(nest(c.id)) } }), 400, { attr: 'filters', detail: 'Cohorts cannot reference other cohorts in a loop.' });
      assertDrfError(await h.call('PATCH', `${P}/${a.id}/`, { body: { filters: group(nest(a.id)) } }), 400, { detail: 'Cohorts cannot reference other cohorts in a loop.' });
      await h.call('PATCH', `${P}/${c.id}/`, { body: { deleted: true } });
      assertDrfError(await h.call('POST', `${P}/`, { body: { name: 'd', filters: group(nest(c.id)) } }), 400, { detail: 'Invalid Cohort ID in filter' });
    });

    test('a cohort used by an active flag or another cohort cannot be deleted', async () => {
      const used = await createCohort(h, pid, 'Used');
      const flag = await createFlag(h, pid, flagBody('uses-cohort', { name: 'Beta rollout', filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: used.id }] }] } }));
      assertDrfError(await h.call('PATCH', `${P}/${used.id}/`, { body: { deleted: true } }), 400, {
        code: 'invalid_input', attr: null,
        detail: 'This cohort is used in 1 active feature flag(s): Beta rollout. Please remove the cohort from these feature flags before deleting it.',
      });
      await h.call('PATCH', `/api/projects/${pid}/feature_flags/${flag.id}/`, { body: { active: false } });
      const parent = await createCohort(h, pid, 'Parent', group(nest(used.id)));
      assertDrfError(await h.call('PATCH', `${P}/${used.id}/`, { body: { deleted: true } }), 400, { detail: 'This cohort is used in 1 other cohort(s): Parent.' });
      await h.call('PATCH', `${P}/${parent.id}/`, { body: { deleted: true } });
      const del = await h.call('PATCH', `${P}/${used.id}/`, { body: { deleted: true } });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
    });

    test('behavioral filters cannot enter a cohort active flags use', async () => {
      const c = await createCohort(h, pid, 'Flagged');
      await createFlag(h, pid, flagBody('uses-flagged', { filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: c.id }] }] } }));
      const behavioral = { type: 'behavioral', key: 'signup', value: 'performed_event', event_type: 'events' };
      assertDrfError(await h.call('PATCH', `${P}/${c.id}/`, { body: { filters: group(behavioral) } }), 400, {
        code: 'behavioral_cohort_found', detail: 'Behavioral filters cannot be added to cohorts used in feature flags.',
      });
      const ev = await createCohort(h, pid, 'Events', group(behavioral));
      assert.equal(ev.cohort_type, 'behavioral');
      assertDrfError(await h.call('PATCH', `${P}/${c.id}/`, { body: { filters: group(nest(ev.id)) } }), 400, {
        code: 'behavioral_cohort_found', detail: "A cohort dependency (Events) has filters based on events. These cohorts can't be used in feature flags.",
      });
    });

    test('DELETE is 405; unknown cohorts are 404', async () => {
      const c = await createCohort(h, pid, 'Permanent');
      assertDrfError(await h.call('DELETE', `${P}/${c.id}/`), 405, { code: 'method_not_allowed' });
      assertDrfError(await h.call('GET', `${P}/999999/`), 404, { code: 'not_found' });
      assertDrfError(await h.call('PATCH', `${P}/x/`, { body: {} }), 404, { code: 'not_found' });
    });

    test('static cohorts: add by person id and by distinct id, remove by person id', async () => {
      await h.db.store.applyPersonUpdates(pid, [{ distinctId: 'alice', set: { plan: 'pro' } }, { distinctId: 'bob', set: {} }]);
      const alice = (await h.db.store.getPersonByDistinctId(pid, 'alice'))!.id;
      const res = await h.call('POST', `${P}/`, { body: { name: 'Beta testers', is_static: true, _create_static_person_ids: [alice] } });
      assert.equal(res.status, 201, res.raw);
      const c = res.body;
      assert.equal(c.cohort_type, 'static');
      const member = async (distinctId: string) =>
        (await h.db.store.loadEvaluationData({ projectId: pid, distinctId, groups: [] })).staticCohortIds.includes(c.id);
      assert.equal(await member('alice'), true, 'created with a member');
      const add = await h.call('PATCH', `${P}/${c.id}/add_persons_to_static_cohort/`, { body: { distinct_ids: ['bob', 'carol-new'] } });
      assert.deepEqual([add.status, add.body], [200, { success: true }]);
      assert.equal(await member('bob'), true);
      assert.equal(await member('carol-new'), true, 'an unknown distinct id gets a person');
      const bob = (await h.db.store.getPersonByDistinctId(pid, 'bob'))!.id;
      const rm = await h.call('PATCH', `${P}/${c.id}/remove_person_from_static_cohort/`, { body: { person_id: bob } });
      assert.deepEqual([rm.status, rm.body], [200, { success: true }]);
      assert.equal(await member('bob'), false);
      assertDrfError(await h.call('PATCH', `${P}/${c.id}/remove_person_from_static_cohort/`, { body: { person_id: bob } }), 404, { detail: 'Person is not part of the cohort' });
      const again = await h.call('PATCH', `${P}/${c.id}/add_persons_to_static_cohort/`, { body: { person_ids: [bob, alice] } });
      assert.equal(again.status, 200);
      assert.equal(await member('bob'), true);
    });

    test('static membership input rules', async () => {
      const dynamic = await createCohort(h, pid, 'Dynamic');
      const s = (await h.call('POST', `${P}/`, { body: { name: 'Static', is_static: true } })).body;
      const add = (id: number, body: unknown, key?: string) => h.call('PATCH', `${P}/${id}/add_persons_to_static_cohort/`, { body, key });
      const remove = (id: number, body: unknown) => h.call('PATCH', `${P}/${id}/remove_person_from_static_cohort/`, { body });
      assertDrfError(await add(dynamic.id, { person_ids: [] }), 400, { detail: 'Can only add users to static cohorts' });
      assertDrfError(await remove(dynamic.id, { person_id: 'x' }), 400, { detail: 'Can only remove users from static cohorts' });
      assertDrfError(await add(s.id, {}), 400, { detail: 'person_ids must be a list', attr: null });
      assertDrfError(await add(s.id, { person_ids: [] }), 400, { detail: 'person_ids cannot be empty' });
      assertDrfError(await add(s.id, { person_ids: ['not-a-uuid'] }), 400, { attr: 'person_ids', detail: "'not-a-uuid' is not a valid UUID." });
      assertDrfError(await add(s.id, { person_ids: Array.from({ length: 1001 }, () => '00000000-0000-4000-8000-000000000000') }), 400, { detail: 'List size exceeds limit' });
      assertDrfError(await add(s.id, { distinct_ids: [''] }), 400, { attr: 'distinct_ids' });
      // Unknown fields are ignored (as PostHog does): what is missing is person_ids.
      assertDrfError(await add(s.id, { persons: ['a'] }), 400, { detail: 'person_ids must be a list', attr: null });
      assertDrfError(await remove(s.id, {}), 400, { detail: 'person_id is required' });
      assertDrfError(await remove(s.id, { person_id: 5 }), 400, { detail: 'person_id must be a string' });
      assertDrfError(await remove(s.id, { person_id: 'abc' }), 400, { detail: 'person_id must be a valid UUID' });
      const cohortOnly = await h.makeKey(['cohort:write']);
      assertDrfError(await add(s.id, { distinct_ids: ['x'] }, cohortOnly), 403, { detail: "API key missing required scope 'person:write'" });
      assert.equal((await add(s.id, { person_ids: ['00000000-0000-4000-8000-000000000000'] }, cohortOnly)).status, 200);
    });
  });
}
