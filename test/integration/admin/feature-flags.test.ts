/**
 * @module test/integration/admin/feature-flags.test
 * Feature-flag endpoints: create, list, retrieve, PATCH/PUT, soft delete, 405 on DELETE,
 * versions and activity, change notices, on both store backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, createCohort, createFlag, flagBody, openAdmin, type AdminHarness } from './admin-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`admin feature flags (${kind})`, () => {
    let h: AdminHarness;
    let pid: number;
    let P: string;
    before(async () => {
      h = await openAdmin(kind);
      pid = (await h.makeProject('Flags')).id;
      P = `/api/projects/${pid}/feature_flags`;
    });
    after(async () => h.close());

    test('create returns 201 with PostHog fields and defaults, version 1, and notifies', async () => {
      const before = h.notices.length;
      const res = await h.call('POST', `${P}/`, { body: { key: 'new-checkout' } });
      assert.equal(res.status, 201, res.raw);
      const f = res.body;
      assert.equal(f.key, 'new-checkout');
      assert.equal(f.name, '');
      assert.equal(f.active, true);
      assert.equal(f.deleted, false);
      assert.equal(f.version, 1);
      assert.equal(f.ensure_experience_continuity, false);
      assert.equal(f.evaluation_runtime, 'all');
      assert.equal(f.bucketing_identifier, null);
      assert.equal(f.is_remote_configuration, false);
      assert.equal(f.has_encrypted_payloads, false);
      assert.deepEqual(f.tags, []);
      assert.deepEqual(f.evaluation_tags, []);
      assert.deepEqual(f.filters, { groups: [{ properties: [], rollout_percentage: null }] }, 'omitted filters ⇒ PostHog default');
      for (const field of ['id', 'created_by', 'created_at', 'updated_at', 'last_modified_by', 'experiment_set', 'surveys', 'features', 'can_edit', 'status', 'last_called_at']) {
        assert.ok(field in f, `missing ${field}`);
      }
      assert.deepEqual(h.notices.slice(before), [pid]);
    });

    test('all writable fields round-trip', async () => {
      const body = flagBody('full', {
        name: 'Full flag', active: false, ensure_experience_continuity: true, tags: ['a', 'b'], evaluation_tags: ['a'],
        evaluation_runtime: 'server', bucketing_identifier: 'device_id',
        filters: {
          groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@x.com' }], rollout_percentage: 50, variant: 'blue' }],
          multivariate: { variants: [{ key: 'blue', rollout_percentage: 60 }, { key: 'red', name: 'Red', rollout_percentage: 40 }] },
          payloads: { blue: { color: 'blue' }, red: '"red"' },
        },
      });
      const f = await createFlag(h, pid, body);
      assert.equal(f.name, 'Full flag');
      assert.equal(f.active, false);
      assert.equal(f.ensure_experience_continuity, true);
      assert.deepEqual(f.tags, ['a', 'b']);
      assert.deepEqual(f.evaluation_tags, ['a']);
      assert.equal(f.evaluation_runtime, 'server');
      assert.equal(f.bucketing_identifier, 'device_id');
      assert.equal(f.filters.groups[0].variant, 'blue');
      assert.deepEqual(f.filters.payloads, { blue: '{"color":"blue"}', red: '"red"' }, 'object payloads become JSON text');
      const got = await h.call('GET', `${P}/${f.id}/`);
      assert.deepEqual(got.body, f);
    });

    test('PATCH bumps the version, records activity with who and before/after, and notifies', async () => {
      const f = await createFlag(h, pid, flagBody('patched'));
      const before = h.notices.length;
      const res = await h.call('PATCH', `${P}/${f.id}/`, { body: { name: 'Renamed', filters: { groups: [{ properties: [], rollout_percentage: 30 }] } } });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.version, 2);
      assert.equal(res.body.name, 'Renamed');
      assert.equal(res.body.filters.groups[0].rollout_percentage, 30);
      assert.deepEqual(h.notices.slice(before), [pid]);
      const act = await h.call('GET', `${P}/${f.id}/activity/`);
      assert.equal(act.status, 200);
      assert.equal(act.body.total_count, 2);
      const [latest, created] = act.body.results;
      assert.equal(latest.activity, 'updated');
      assert.equal(latest.user.first_name, 'key-*');
      assert.equal(latest.scope, 'FeatureFlag');
      assert.equal(latest.item_id, String(f.id));
      const nameChange = latest.detail.changes.find((c: any) => c.field === 'name');
      assert.deepEqual([nameChange.before, nameChange.after], ['Flag patched', 'Renamed']);
      assert.ok(latest.detail.changes.some((c: any) => c.field === 'filters'));
      assert.equal(created.activity, 'created');
      assert.ok(!Number.isNaN(Date.parse(latest.created_at)));
    });

    test('activity is paginated by page and limit', async () => {
      const f = await createFlag(h, pid, flagBody('busy'));
      for (let i = 0; i < 3; i++) await h.call('PATCH', `${P}/${f.id}/`, { body: { name: `n${i}` } });
      const first = await h.call('GET', `${P}/${f.id}/activity/?limit=2`);
      assert.equal(first.body.results.length, 2);
      assert.equal(first.body.total_count, 4);
      assert.match(first.body.next, /page=2/);
      assert.equal(first.body.previous, null);
      const second = await h.call('GET', `${P}/${f.id}/activity/?limit=2&page=2`);
      assert.equal(second.body.results.length, 2);
      assert.equal(second.body.next, null);
      assert.match(second.body.previous, /page=1/);
    });

    test('PUT replaces the given fields and requires key', async () => {
      const f = await createFlag(h, pid, flagBody('put-me'));
      const res = await h.call('PUT', `${P}/${f.id}/`, { body: flagBody('put-me-2', { active: false }) });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.key, 'put-me-2');
      assert.equal(res.body.version, 2);
      assertDrfError(await h.call('PUT', `${P}/${f.id}/`, { body: { name: 'x' } }), 400, { code: 'required', attr: 'key' });
    });

    test('a PATCH without filters.groups leaves filters alone (PostHog quirk)', async () => {
      const f = await createFlag(h, pid, flagBody('quirk'));
      const res = await h.call('PATCH', `${P}/${f.id}/`, { body: { filters: { payloads: { nope: 1 } } } });
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual(res.body.filters, f.filters);
    });

    test('DELETE is 405; soft delete via PATCH hides the flag and frees the key', async () => {
      const f = await createFlag(h, pid, flagBody('short-lived'));
      assertDrfError(await h.call('DELETE', `${P}/${f.id}/`), 405, { type: 'invalid_request', code: 'method_not_allowed', detail: 'Method "DELETE" not allowed.' });
      assertDrfError(await h.call('POST', `${P}/`, { body: flagBody('short-lived') }), 400, { code: 'unique', attr: 'key', detail: 'There is already a feature flag with this key.' });
      const del = await h.call('PATCH', `${P}/${f.id}/`, { body: { deleted: true } });
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      const list = await h.call('GET', `${P}/?search=short-lived`);
      assert.equal(list.body.count, 0);
      const reborn = await createFlag(h, pid, flagBody('short-lived'));
      assert.notEqual(reborn.id, f.id);
      assert.equal(reborn.version, 1);
    });

    test('restoring a soft-deleted flag whose key was reused is refused', async () => {
      const f = await createFlag(h, pid, flagBody('twice'));
      await h.call('PATCH', `${P}/${f.id}/`, { body: { deleted: true } });
      const g = await h.call('PATCH', `${P}/${f.id}/`, { body: { name: 'still here' } });
      assert.equal(g.status, 200, 'a deleted flag can still be read and patched');
      await createFlag(h, pid, flagBody('other-twice'));
      const renamedTaken = await h.call('PATCH', `${P}/${f.id}/`, { body: { key: 'other-twice', deleted: false } });
      assertDrfError(renamedTaken, 400, { code: 'unique', attr: 'key' });
    });

    test('list: search, active filter, pagination with absolute next/previous', async () => {
      const p2 = (await h.makeProject('Listing')).id;
      for (let i = 0; i < 5; i++) await createFlag(h, p2, flagBody(`list-${i}`, { active: i % 2 === 0, name: i === 3 ? 'Special Name' : `n${i}` }));
      const L = `/api/projects/${p2}/feature_flags/`;
      const all = await h.call('GET', L);
      assert.equal(all.body.count, 5);
      assert.deepEqual(all.body.results.map((f: any) => f.key), ['list-4', 'list-3', 'list-2', 'list-1', 'list-0'], 'newest first');
      assert.equal((await h.call('GET', `${L}?search=SPECIAL`)).body.results[0].key, 'list-3');
      assert.equal((await h.call('GET', `${L}?search=list-1`)).body.count, 1);
      assert.equal((await h.call('GET', `${L}?active=true`)).body.count, 3);
      assert.equal((await h.call('GET', `${L}?active=false`)).body.count, 2);
      assert.equal((await h.call('GET', `${L}?active=STALE`)).body.count, 0, 'new flags are not stale (test/integration/usage/flag-usage.test.ts has stale ones)');
      assertDrfError(await h.call('GET', `${L}?active=maybe`), 400, { attr: 'active' });
      const page = await h.call('GET', `${L}?limit=2&offset=2&search=list`);
      assert.equal(page.body.results.length, 2);
      assert.equal(page.body.next, `http://localhost/api/projects/${p2}/feature_flags/?limit=2&offset=4&search=list`);
      assert.equal(page.body.previous, `http://localhost/api/projects/${p2}/feature_flags/?limit=2&search=list`);
      assertDrfError(await h.call('GET', `${L}?limit=abc`), 400, { attr: 'limit' });
      assertDrfError(await h.call('GET', `${L}?offset=-1`), 400, { attr: 'offset' });
    });

    test('a stale version in PATCH is 409 conflict; the current one succeeds', async () => {
      const f = await createFlag(h, pid, flagBody('contended'));
      await h.call('PATCH', `${P}/${f.id}/`, { body: { name: 'first' } });
      assertDrfError(await h.call('PATCH', `${P}/${f.id}/`, { body: { name: 'second', version: 1 } }), 409, { code: 'conflict' });
      const ok = await h.call('PATCH', `${P}/${f.id}/`, { body: { name: 'second', version: 2 } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.version, 3);
    });

    test('unknown flag ids are 404 in the DRF shape', async () => {
      for (const id of ['999999', 'abc', '0']) {
        assertDrfError(await h.call('GET', `${P}/${id}/`), 404, { type: 'invalid_request', code: 'not_found', detail: 'Not found.' });
        assertDrfError(await h.call('PATCH', `${P}/${id}/`, { body: { name: 'x' } }), 404, { code: 'not_found' });
      }
    });

    test('cohort filters are served with cohort_name', async () => {
      const cohort = await createCohort(h, pid, 'Paying users');
      const f = await createFlag(h, pid, flagBody('cohorted', { filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohort.id }] }] } }));
      assert.equal(f.filters.groups[0].properties[0].cohort_name, 'Paying users');
      const listed = await h.call('GET', `${P}/?search=cohorted`);
      assert.equal(listed.body.results[0].filters.groups[0].properties[0].cohort_name, 'Paying users');
    });

    test('dependent_flags lists active flags that depend on the flag', async () => {
      const base = await createFlag(h, pid, flagBody('base-dep'));
      const child = await createFlag(h, pid, flagBody('child-dep', {
        name: '',
        filters: { groups: [{ properties: [{ key: String(base.id), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] },
      }));
      const res = await h.call('GET', `${P}/${base.id}/dependent_flags/`);
      assert.deepEqual(res.body, [{ id: child.id, key: 'child-dep', name: 'child-dep' }]);
      assert.deepEqual((await h.call('GET', `${P}/${child.id}/dependent_flags/`)).body, []);
    });

    test('a failing change listener does not fail the write', async () => {
      const { registerAdminRoutes } = await import('../../../src/admin/routes.ts');
      const Fastify = (await import('fastify')).default;
      const app = Fastify();
      await registerAdminRoutes(app, { store: h.db.store, onDefinitionsChanged: () => { throw new Error('bus down'); } });
      const res = await app.inject({ method: 'POST', url: `${P}/`, headers: { authorization: `Bearer ${h.rootKey}`, 'content-type': 'application/json' }, payload: JSON.stringify({ key: 'listener-fails' }) });
      assert.equal(res.statusCode, 201);
      await app.close();
    });
  });
}
