/**
 * @module test/integration/admin/auth.test
 * Personal API key authentication and scopes on the admin API, on both store backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, createFlag, flagBody, openAdmin, type AdminHarness } from './admin-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`admin auth (${kind})`, () => {
    let h: AdminHarness;
    let project: any;
    before(async () => {
      h = await openAdmin(kind);
      project = await h.makeProject('Zebra-Project-Auth');
    });
    after(async () => h.close());

    test('no Authorization header is 401 not_authenticated with a WWW-Authenticate header', async () => {
      const res = await h.call('GET', `/api/projects/${project.id}/feature_flags/`, { key: null });
      assertDrfError(res, 401, { type: 'authentication_error', code: 'not_authenticated', attr: null, detail: 'Authentication credentials were not provided.' });
      assert.ok(res.headers['www-authenticate']);
    });

    test('a non-Bearer Authorization header counts as missing credentials', async () => {
      const res = await h.call('GET', '/api/projects/', { key: null, headers: { authorization: 'Basic abc' } });
      assertDrfError(res, 401, { code: 'not_authenticated' });
    });

    test('an unknown personal key is 401 authentication_failed', async () => {
      const res = await h.call('GET', '/api/projects/', { key: 'phx_doesnotexist' });
      assertDrfError(res, 401, { type: 'authentication_error', code: 'authentication_failed', detail: 'Personal API key found in request Authorization header is invalid.' });
    });

    test('the project token (phc_) and secret (phs_) are refused with the same 401 and no data', async () => {
      for (const token of [project.api_token, project.secret_api_token]) {
        for (const url of ['/api/projects/', `/api/projects/${project.id}/`, `/api/projects/${project.id}/feature_flags/`]) {
          const res = await h.call('GET', url, { key: token });
          assertDrfError(res, 401, { code: 'authentication_failed' });
          assert.ok(!res.raw.includes(project.api_token), 'project token leaked');
          assert.ok(!res.raw.includes(project.name), 'project name leaked');
        }
      }
    });

    test('a key without the scope gets 403 naming the missing scope', async () => {
      const readOnly = await h.makeKey(['feature_flag:read']);
      const res = await h.call('POST', `/api/projects/${project.id}/feature_flags/`, { key: readOnly, body: flagBody('nope') });
      assertDrfError(res, 403, { type: 'authentication_error', code: 'permission_denied', attr: null, detail: "API key missing required scope 'feature_flag:write'" });
      assert.equal((await h.call('GET', `/api/projects/${project.id}/feature_flags/`, { key: readOnly })).status, 200);
    });

    test('a write scope implies the read scope of the same object only', async () => {
      const flagWriter = await h.makeKey(['feature_flag:write']);
      assert.equal((await h.call('GET', `/api/projects/${project.id}/feature_flags/`, { key: flagWriter })).status, 200);
      const cohorts = await h.call('GET', `/api/projects/${project.id}/cohorts/`, { key: flagWriter });
      assertDrfError(cohorts, 403, { code: 'permission_denied', detail: "API key missing required scope 'cohort:read'" });
      const projects = await h.call('GET', '/api/projects/', { key: flagWriter });
      assertDrfError(projects, 403, { detail: "API key missing required scope 'project:read'" });
    });

    const scopeRows: Array<{ method: string; path: string; scope: string }> = [
      { method: 'GET', path: '/feature_flags/', scope: 'feature_flag:read' },
      { method: 'POST', path: '/feature_flags/', scope: 'feature_flag:write' },
      { method: 'GET', path: '/feature_flags/FLAG/', scope: 'feature_flag:read' },
      { method: 'PATCH', path: '/feature_flags/FLAG/', scope: 'feature_flag:write' },
      { method: 'PUT', path: '/feature_flags/FLAG/', scope: 'feature_flag:write' },
      { method: 'GET', path: '/feature_flags/FLAG/activity/', scope: 'feature_flag:read' },
      { method: 'GET', path: '/feature_flags/FLAG/dependent_flags/', scope: 'feature_flag:read' },
      { method: 'GET', path: '/cohorts/', scope: 'cohort:read' },
      { method: 'POST', path: '/cohorts/', scope: 'cohort:write' },
      { method: 'GET', path: '/', scope: 'project:read' },
      { method: 'PATCH', path: '/rotate_secret_token/', scope: 'project:write' },
    ];
    test('each endpoint requires its scope (table)', async () => {
      const flag = await createFlag(h, project.id, flagBody('scoped-flag'));
      const unrelated = await h.makeKey(['person:read']);
      for (const row of scopeRows) {
        const url = `/api/projects/${project.id}${row.path.replace('FLAG', String(flag.id))}`;
        const res = await h.call(row.method, url, { key: unrelated, body: row.method === 'GET' ? undefined : {} });
        assertDrfError(res, 403, { code: 'permission_denied', detail: `'${row.scope}'` });
      }
    });

    test('a key scoped to one project sees only that project, and others are 404', async () => {
      const other = await h.makeProject('Other');
      const scoped = await h.makeKey(['*'], [other.id]);
      const list = await h.call('GET', '/api/projects/', { key: scoped });
      assert.deepEqual(list.body.results.map((p: any) => p.id), [other.id]);
      assertDrfError(await h.call('GET', `/api/projects/${project.id}/`, { key: scoped }), 404, { type: 'invalid_request', code: 'not_found' });
      const current = await h.call('GET', '/api/projects/@current/', { key: scoped });
      assert.equal(current.body.id, other.id);
    });

    test('@current is the first visible project; a key seeing none gets 404', async () => {
      const current = await h.call('GET', '/api/projects/@current/');
      assert.equal(current.status, 200);
      assert.equal(current.body.id, project.id);
      const nowhere = await h.makeKey(['*'], [987654]);
      assertDrfError(await h.call('GET', '/api/projects/@current/', { key: nowhere }), 404, { code: 'not_found' });
    });

    test('non-numeric and unknown project ids are 404', async () => {
      for (const id of ['abc', '999999', '-1', '1e3', '99999999999999999999']) {
        assertDrfError(await h.call('GET', `/api/projects/${id}/feature_flags/`), 404, { code: 'not_found' });
      }
    });

    test('/api/environments/:id/ is an alias of /api/projects/:id/', async () => {
      const flag = await createFlag(h, project.id, flagBody('env-alias'));
      const res = await h.call('GET', `/api/environments/${project.id}/feature_flags/${flag.id}/`);
      assert.equal(res.status, 200);
      assert.equal(res.body.key, 'env-alias');
      assert.equal((await h.call('GET', `/api/environments/${project.id}/`)).body.id, project.id);
    });

    test('routes answer with and without the trailing slash', async () => {
      assert.equal((await h.call('GET', `/api/projects/${project.id}/feature_flags`)).status, 200);
      assert.equal((await h.call('GET', `/api/projects/${project.id}/feature_flags/`)).status, 200);
    });
  });
}
