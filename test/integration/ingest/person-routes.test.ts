/**
 * @module test/integration/ingest/person-routes.test
 * Admin read API for persons and groups: personal-key auth and scopes, lookups by distinct id
 * and group key, delete with cascade, bulk import (JSON array, JSON lines, CSV, gzip).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { capture, json, propsOf, startIngestApp, STORE_KINDS, type IngestApp } from './ingest-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`person and group read API (${kind})`, () => {
    let t: IngestApp;
    before(async () => {
      t = await startIngestApp(kind);
    });
    after(async () => {
      await t?.close();
    });
    const auth = (key = t.key) => ({ authorization: `Bearer ${key}` });
    const get = (url: string, key?: string) => t.app.inject({ method: 'GET', url, headers: auth(key) });
    const newKey = async (scopes: string[], scopedProjects: number[] | null = null) => {
      const key = generateToken('phx');
      await t.store.createPersonalApiKey({ label: 'k', keyHash: hashSecret(key), scopes, scopedProjects });
      return key;
    };

    test('GET persons/?distinct_id= returns the PostHog person shape with every distinct id', async () => {
      await capture(t, { api_key: t.a.token, batch: [{ event: '$identify', distinct_id: 'p-user', properties: { $anon_distinct_id: 'p-anon', $set: { email: 'p@x.io' } } }] });
      for (const url of [`/api/projects/${t.a.id}/persons/?distinct_id=p-anon`, `/api/environments/${t.a.id}/persons?distinct_id=p-anon`]) {
        const res = await get(url);
        assert.equal(res.statusCode, 200, res.body);
        const body = json(res);
        assert.equal(body.count, 1);
        assert.equal(body.next, null);
        const p = body.results[0];
        assert.deepEqual(p.distinct_ids, ['p-anon', 'p-user']);
        assert.deepEqual(p.properties, { email: 'p@x.io' });
        assert.equal(p.is_identified, true);
        assert.equal(p.name, 'p@x.io');
        assert.equal(p.id, p.uuid);
        assert.match(p.created_at, /^\d{4}-\d\d-\d\dT/);
      }
      assert.deepEqual(json(await get(`/api/projects/${t.a.id}/persons/?distinct_id=nobody`)).results, []);
      assert.equal(json(await get(`/api/projects/${t.b.id}/persons/?distinct_id=p-anon`)).count, 0);
    });

    test('auth: no key 401, project token 401, missing scope 403, other project 404, unsupported properties filter 400', async () => {
      const url = `/api/projects/${t.a.id}/persons/?distinct_id=p-anon`;
      const none = await t.app.inject({ method: 'GET', url });
      assert.deepEqual([none.statusCode, json(none).code], [401, 'not_authenticated']);
      assert.equal((await get(url, t.a.token)).statusCode, 401);
      const flagsOnly = await newKey(['feature_flag:read']);
      const denied = await get(url, flagsOnly);
      assert.deepEqual([denied.statusCode, json(denied).code], [403, 'permission_denied']);
      assert.match(json(denied).detail, /person:read/);
      const onlyB = await newKey(['person:read'], [t.b.id]);
      assert.equal((await get(url, onlyB)).statusCode, 404);
      const filtered = await get(`/api/projects/${t.a.id}/persons/?properties=${encodeURIComponent('[{"key":"plan","value":"pro"}]')}`);
      assert.deepEqual([filtered.statusCode, json(filtered).attr], [400, 'properties']);
      assert.match(json(filtered).detail, /not supported/);
      const badLimit = await get(`/api/projects/${t.a.id}/persons/?limit=0`);
      assert.deepEqual([badLimit.statusCode, json(badLimit).attr], [400, 'limit']);
      const readOnly = await newKey(['person:read']);
      const del = await t.app.inject({ method: 'DELETE', url: `/api/projects/${t.a.id}/persons/00000000-0000-0000-0000-000000000000/`, headers: auth(readOnly) });
      assert.equal(del.statusCode, 403);
    });

    test('GET persons/ without distinct_id lists the project\'s persons newest first, with next/previous pages, email and search', async () => {
      const project = await t.store.createProject({ name: 'listing', apiToken: generateToken('phc'), secretTokenHash: hashSecret(generateToken('phs')) });
      for (const [i, email] of ['ann@x.io', 'bob@y.io', 'cat@x.io'].entries()) {
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/projects/${project.id}/persons/bulk/`,
          headers: { ...auth(), 'content-type': 'application/json' },
          payload: JSON.stringify([{ distinct_id: `list-${i}`, properties: { email } }]),
        });
        assert.equal(res.statusCode, 200, res.body);
      }
      const base = `/api/projects/${project.id}/persons/`;
      const page1 = json(await get(`${base}?limit=2`));
      assert.deepEqual(page1.results.map((p: { distinct_ids: string[] }) => p.distinct_ids[0]), ['list-2', 'list-1']);
      assert.equal(page1.previous, null);
      assert.equal(page1.results[0].name, 'cat@x.io');
      const next = new URL(page1.next);
      assert.deepEqual([next.pathname, next.searchParams.get('limit'), next.searchParams.get('offset')], [base, '2', '2']);
      const page2 = json(await get(`${next.pathname}${next.search}`));
      assert.deepEqual(page2.results.map((p: { distinct_ids: string[] }) => p.distinct_ids[0]), ['list-0']);
      assert.equal(page2.next, null);
      assert.equal(new URL(page2.previous).searchParams.get('offset'), null, 'the first page has no offset');
      const byEmail = json(await get(`${base}?email=bob@y.io`));
      assert.deepEqual(byEmail.results.map((p: { distinct_ids: string[] }) => p.distinct_ids[0]), ['list-1']);
      const search = json(await get(`/api/environments/${project.id}/persons?search=X.IO`));
      assert.deepEqual(search.results.map((p: { distinct_ids: string[] }) => p.distinct_ids[0]), ['list-2', 'list-0']);
      assert.deepEqual(json(await get(`${base}?search=list-1`)).results.length, 1);
      const otherProject = json(await get(`/api/projects/${t.b.id}/persons/?search=list-1`));
      assert.deepEqual(otherProject.results, []);
    });

    test('DELETE persons/:uuid/ removes the person with all its distinct ids and overrides; 404 after', async () => {
      await capture(t, { api_key: t.a.token, batch: [{ event: '$identify', distinct_id: 'd-user', properties: { $anon_distinct_id: 'd-anon', $set: { x: 1 } } }] });
      await t.store.writeHashKeyOverrides(t.a.id, ['d-user'], 'd-anon', ['continuity-flag']);
      const before = await t.store.loadEvaluationData({ projectId: t.a.id, distinctId: 'd-user', groups: [], overrideDistinctIds: ['d-user'] });
      assert.equal(before.hashKeyOverrides.get('continuity-flag'), 'd-anon');
      const uuid = (await t.store.getPersonByDistinctId(t.a.id, 'd-user'))!.id;
      const wrongProject = await t.app.inject({ method: 'DELETE', url: `/api/projects/${t.b.id}/persons/${uuid}/`, headers: auth() });
      assert.equal(wrongProject.statusCode, 404);
      const res = await t.app.inject({ method: 'DELETE', url: `/api/projects/${t.a.id}/persons/${uuid}/`, headers: auth() });
      assert.equal(res.statusCode, 204);
      assert.equal(res.body, '');
      assert.equal(await t.store.getPersonByDistinctId(t.a.id, 'd-user'), null);
      assert.equal(await t.store.getPersonByDistinctId(t.a.id, 'd-anon'), null);
      const afterData = await t.store.loadEvaluationData({ projectId: t.a.id, distinctId: 'd-user', groups: [], overrideDistinctIds: ['d-user', 'd-anon'] });
      assert.equal(afterData.hashKeyOverrides.size, 0);
      assert.equal(afterData.personProperties, null);
      assert.ok(t.notices.allPersons.includes(t.a.id));
      const again = await t.app.inject({ method: 'DELETE', url: `/api/projects/${t.a.id}/persons/${uuid}/`, headers: auth() });
      assert.equal(again.statusCode, 404);
      const notUuid = await t.app.inject({ method: 'DELETE', url: `/api/projects/${t.a.id}/persons/not-a-uuid/`, headers: auth() });
      assert.equal(notUuid.statusCode, 404);
    });

    test('groups/?group_type_index=&group_key= and groups/find/ return the group; bad index is 400', async () => {
      await capture(t, { api_key: t.a.token, batch: [{ event: '$groupidentify', distinct_id: 'x', properties: { $group_type: 'company', $group_key: 'acme', $group_set: { size: 10 } } }] });
      const idx = Object.entries(await t.store.getGroupTypeMapping(t.a.id)).find(([, n]) => n === 'company')![0];
      const list = json(await get(`/api/projects/${t.a.id}/groups/?group_type_index=${idx}&group_key=acme`));
      assert.equal(list.count, 1);
      assert.deepEqual(list.results[0].group_properties, { size: 10 });
      assert.equal(list.results[0].group_key, 'acme');
      assert.equal(list.results[0].group_type_index, Number(idx));
      const found = await get(`/api/projects/${t.a.id}/groups/find/?group_type_index=${idx}&group_key=acme`);
      assert.equal(found.statusCode, 200);
      assert.deepEqual(json(found).group_properties, { size: 10 });
      assert.equal((await get(`/api/projects/${t.a.id}/groups/find?group_type_index=${idx}&group_key=nope`)).statusCode, 404);
      assert.equal(json(await get(`/api/projects/${t.b.id}/groups/?group_type_index=${idx}&group_key=acme`)).count, 0);
      const bad = await get(`/api/projects/${t.a.id}/groups/?group_type_index=7&group_key=acme`);
      assert.deepEqual([bad.statusCode, json(bad).attr], [400, 'group_type_index']);
    });

    test('bulk import: JSON array, JSON lines, CSV and gzip; existing persons get properties merged', async () => {
      const post = (payload: string | Buffer, headers: Record<string, string> = {}) =>
        t.app.inject({ method: 'POST', url: `/api/projects/${t.a.id}/persons/bulk/`, headers: { ...auth(), 'content-type': 'application/json', ...headers }, payload });
      const arr = await post(JSON.stringify([{ distinct_id: 'bulk-1', properties: { plan: 'free' } }, { distinct_id: 2, properties: { plan: 'pro' } }]));
      assert.equal(arr.statusCode, 200, arr.body);
      assert.deepEqual(json(arr), { imported: 2 });
      const lines = '{"distinct_id":"bulk-1","properties":{"seats":3}}\n\n{"distinct_id":"bulk-3","email":"flat@x.io"}\n';
      assert.deepEqual(json(await post(lines, { 'content-type': 'application/x-ndjson' })), { imported: 2 });
      const csv = 'distinct_id,plan,note\nbulk-4,team,"a, b"\nbulk-5,,"multi\nline"\n';
      assert.deepEqual(json(await post(csv, { 'content-type': 'text/csv' })), { imported: 2 });
      assert.deepEqual(json(await post(gzipSync('[{"distinct_id":"bulk-6"}]'), { 'content-encoding': 'gzip' })), { imported: 1 });
      assert.deepEqual(await propsOf(t, t.a.id, 'bulk-1'), { plan: 'free', seats: 3 });
      assert.deepEqual(await propsOf(t, t.a.id, '2'), { plan: 'pro' });
      assert.deepEqual(await propsOf(t, t.a.id, 'bulk-3'), { email: 'flat@x.io' });
      assert.deepEqual(await propsOf(t, t.a.id, 'bulk-4'), { plan: 'team', note: 'a, b' });
      assert.deepEqual(await propsOf(t, t.a.id, 'bulk-5'), { note: 'multi\nline' });
      assert.deepEqual(await propsOf(t, t.a.id, 'bulk-6'), {});
      assert.equal(await propsOf(t, t.b.id, 'bulk-1'), null);
      assert.ok(t.notices.persons.some((n) => n.projectId === t.a.id && n.distinctIds.includes('bulk-1')));
    });

    test('bulk import without a valid personal key is refused before its body is read', async () => {
      const payload = JSON.stringify([{ distinct_id: 'never' }]);
      for (const authorization of [undefined, 'Bearer phx_not_a_real_key_0000000000000000000', `Bearer ${t.a.token}`]) {
        const res = await t.app.inject({ method: 'POST', url: `/api/projects/${t.a.id}/persons/bulk/`, payload, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });
        assert.equal(res.statusCode, 401, res.body);
        assert.ok(json(res).detail, res.body);
      }
      assert.equal(await propsOf(t, t.a.id, 'never'), null);
    });

    test('bulk import validates every row first: one bad row imports nothing and names the line', async () => {
      const post = (payload: string) =>
        t.app.inject({ method: 'POST', url: `/api/projects/${t.a.id}/persons/bulk/`, headers: { ...auth(), 'content-type': 'application/json' }, payload });
      const res = await post('{"distinct_id":"v-1"}\n{"properties":{}}\n');
      assert.equal(res.statusCode, 400);
      assert.match(json(res).detail, /line 2: distinct_id/);
      assert.equal(await propsOf(t, t.a.id, 'v-1'), null);
      assert.match(json(await post('[{"distinct_id":"v-2","properties":[1]}]')).detail, /item 0: properties/);
      assert.match(json(await post('distinct_id,a\nv-3,1,2\n')).detail, /line 2: expected 2 columns/);
      assert.match(json(await post('[not json')).detail, /invalid JSON/);
      assert.equal((await post('')).statusCode, 400);
      const noScope = await newKey(['person:read']);
      const denied = await t.app.inject({ method: 'POST', url: `/api/projects/${t.a.id}/persons/bulk/`, headers: { ...auth(noScope), 'content-type': 'application/json' }, payload: '[]' });
      assert.equal(denied.statusCode, 403);
    });
  });
}
