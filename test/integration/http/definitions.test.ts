// Local-evaluation definitions (spec §7): auth matrix, body rules, cohorts, dependency chains, ETag/304, tenant isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { STORE_KINDS, addFlag, createProject, json, postFlags, rollout, startTestApp, type TestApp, type TestProject } from './http-helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`local-evaluation definitions (${kind} store)`, () => {
    let t: TestApp;
    let b: TestProject;
    const ids: Record<string, number> = {};
    const keys: Record<string, string> = {};

    const get = (url: string, auth?: string, headers: Record<string, string> = {}) =>
      t.app.server.inject({ method: 'GET', url, headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers } });
    const defsUrl = () => `/flags/definitions?token=${t.project.token}&send_cohorts`;
    const addKey = async (scopes: string[], scopedProjects: number[] | null) => {
      const key = generateToken('phx');
      await t.store.createPersonalApiKey({ label: scopes.join(','), keyHash: hashSecret(key), scopes, scopedProjects });
      return key;
    };

    before(async () => {
      t = await startTestApp(kind);
      b = await createProject(t.store, 'project B');
      const pid = t.project.id;
      await t.store.ensureGroupTypeIndex(pid, 'company');
      const email = (v: string) => ({ key: 'email', type: 'person', operator: 'icontains', value: v, negation: false });
      const inner = await t.store.createCohort(pid, { name: 'inner', isStatic: false, filters: { properties: { type: 'AND', values: [{ type: 'AND', values: [email('@inner')] }] } } }, 'test');
      const outer = await t.store.createCohort(
        pid,
        { name: 'outer', isStatic: false, filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [email('@outer'), { key: 'id', type: 'cohort', value: inner.id, negation: false }] }] } } },
        'test',
      );
      const simple = await t.store.createCohort(
        pid,
        { name: 'simple', isStatic: false, filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [email('@simple'), { key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] } } },
        'test',
      );
      const stat = await t.store.createCohort(pid, { name: 'static', isStatic: true }, 'test');
      Object.assign(ids, { inner: inner.id, outer: outer.id, simple: simple.id, stat: stat.id });

      ids.on = await addFlag(t, pid, 'a-on', rollout(100));
      ids.inactive = await addFlag(t, pid, 'a-inactive', rollout(100), { active: false });
      ids.parent = await addFlag(t, pid, 'a-parent', { groups: [{ properties: [{ key: String(ids.on), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] });
      ids.grand = await addFlag(t, pid, 'a-grand', { groups: [{ properties: [{ key: String(ids.parent), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] });
      ids.cyc1 = await addFlag(t, pid, 'cyc-1', rollout(100));
      ids.cyc2 = await addFlag(t, pid, 'cyc-2', { groups: [{ properties: [{ key: String(ids.cyc1), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] });
      await t.store.updateFlag(pid, ids.cyc1, { filters: { groups: [{ properties: [{ key: String(ids.cyc2), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] } }, 'test');
      ids.cohortFlag = await addFlag(t, pid, 'a-cohort', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: outer.id }] }] });
      ids.simpleFlag = await addFlag(t, pid, 'a-simple', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: simple.id }], rollout_percentage: 40 }] });
      ids.staticFlag = await addFlag(t, pid, 'a-static', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: String(stat.id) }] }] });
      const deleted = await addFlag(t, pid, 'a-deleted', rollout(100));
      await t.store.updateFlag(pid, deleted, { deleted: true }, 'test');
      await addFlag(t, b.id, 'b-secret-flag', rollout(100));
      await t.app.notifyDefinitionsChanged(pid);
      keys.readOnly = await addKey(['feature_flag:read'], null);
      keys.cohortsOnly = await addKey(['cohort:read'], null);
      keys.onlyB = await addKey(['*'], [b.id]);
    });
    after(async () => t.close());

    test('body: non-deleted flags incl. inactive, group type mapping, reachable dynamic cohorts only', async () => {
      const res = await get(defsUrl(), t.personalKey);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'private, must-revalidate');
      const body = json(res);
      const flagKeys = body.flags.map((f: { key: string }) => f.key).sort();
      assert.deepEqual(flagKeys, ['a-cohort', 'a-grand', 'a-inactive', 'a-on', 'a-parent', 'a-simple', 'a-static', 'cyc-1', 'cyc-2']);
      const inactive = body.flags.find((f: { key: string }) => f.key === 'a-inactive');
      assert.equal(inactive.active, false);
      assert.equal(inactive.team_id, t.project.id);
      assert.equal(inactive.deleted, false);
      assert.ok('ensure_experience_continuity' in inactive && 'version' in inactive && 'evaluation_runtime' in inactive);
      assert.deepEqual(body.group_type_mapping, { '0': 'company' });
      assert.deepEqual(Object.keys(body.cohorts).sort(), [String(ids.inner), String(ids.outer), String(ids.simple)].sort());
      assert.equal(body.cohorts[String(ids.outer)].type, 'OR');
      assert.ok(!(String(ids.stat) in body.cohorts), 'static cohorts are never sent');
    });

    test('flag dependencies are rewritten to keys with a dependency_chain; cycles get []', async () => {
      const body = json(await get(defsUrl(), t.personalKey));
      const filterOf = (key: string) => body.flags.find((f: { key: string }) => f.key === key).filters.groups[0].properties[0];
      assert.deepEqual(filterOf('a-parent'), { key: 'a-on', type: 'flag', operator: 'flag_evaluates_to', value: true, dependency_chain: ['a-on'] });
      assert.deepEqual(filterOf('a-grand').dependency_chain, ['a-on', 'a-parent']);
      assert.equal(filterOf('a-grand').key, 'a-parent');
      assert.deepEqual(filterOf('cyc-1').dependency_chain, []);
      assert.deepEqual(filterOf('cyc-2').dependency_chain, []);
    });

    test('Django endpoint: cohorts only with send_cohorts; without, a single simple cohort is inlined', async () => {
      const withCohorts = json(await get(`/api/feature_flag/local_evaluation?token=${t.project.token}&send_cohorts`, t.personalKey));
      assert.equal(Object.keys(withCohorts.cohorts).length, 3);
      const res = await get(`/api/feature_flag/local_evaluation/?token=${t.project.token}`, t.personalKey);
      assert.equal(res.statusCode, 200);
      const without = json(res);
      assert.deepEqual(without.cohorts, {});
      const simple = without.flags.find((f: { key: string }) => f.key === 'a-simple');
      assert.deepEqual(simple.filters.groups, [
        {
          properties: [
            { key: 'email', type: 'person', operator: 'icontains', value: '@simple', negation: false },
            { key: 'plan', type: 'person', operator: 'exact', value: ['pro'] },
          ],
          rollout_percentage: 40,
        },
      ]);
      const nested = without.flags.find((f: { key: string }) => f.key === 'a-cohort');
      assert.equal(nested.filters.groups[0].properties[0].type, 'cohort', 'nested cohorts stay references');
    });

    test('project-scoped Django path: personal key or the project secret', async () => {
      const url = `/api/projects/${t.project.id}/feature_flags/local_evaluation/?send_cohorts`;
      assert.equal((await get(url, t.personalKey)).statusCode, 200);
      assert.equal((await get(url, t.project.secret)).statusCode, 200);
      assert.equal((await get(url.replace('/?', '?'), keys.readOnly)).statusCode, 200);
      assert.equal((await get(url)).statusCode, 401);
      assert.equal((await get(`/api/projects/999999/feature_flags/local_evaluation/`, t.personalKey)).statusCode, 404);
    });

    test('auth matrix: each failure is 401/403 JSON and leaks no definitions', async () => {
      const cases: Array<[string | undefined, number, string]> = [
        [undefined, 401, 'not_authenticated'],
        [t.project.token, 401, 'authentication_failed'],
        [b.token, 401, 'authentication_failed'],
        [b.secret, 401, 'authentication_failed'],
        ['phs_wrong', 401, 'authentication_failed'],
        ['phx_unknown', 401, 'authentication_failed'],
        [keys.cohortsOnly, 403, 'permission_denied'],
        [keys.onlyB, 403, 'permission_denied'],
      ];
      for (const [auth, status, code] of cases) {
        const res = await get(defsUrl(), auth);
        assert.equal(res.statusCode, status, `${auth?.slice(0, 4)} → ${res.body}`);
        const body = json(res);
        assert.equal(body.code, code);
        assert.equal(body.type, 'authentication_error');
        assert.equal(body.attr, null);
        assert.ok(!res.body.includes('a-on') && !('flags' in body), 'nothing leaked');
      }
      assert.equal(json(await get(defsUrl(), b.secret)).detail, 'Secret API token is invalid.');
      assert.equal((await get(defsUrl(), t.project.secret)).statusCode, 200);
      assert.equal((await get(defsUrl(), keys.readOnly)).statusCode, 200);
      assert.equal((await t.app.server.inject({ method: 'GET', url: defsUrl(), headers: { authorization: 'Basic abc' } })).statusCode, 401);
    });

    test('token errors: missing 400 and unknown 401, in plain text', async () => {
      const missing = await get('/flags/definitions', t.personalKey);
      assert.equal(missing.statusCode, 400);
      assert.match(String(missing.headers['content-type']), /^text\/plain/);
      const unknown = await get('/flags/definitions?token=phc_nope', t.personalKey);
      assert.equal(unknown.statusCode, 401);
      assert.match(unknown.body, /^The provided API key is invalid or has expired/);
    });

    test('ETag from the bytes; If-None-Match (weak, strong, bare) ⇒ 304; a change ⇒ new ETag', async () => {
      const first = await get(defsUrl(), t.personalKey);
      const etag = String(first.headers.etag);
      assert.match(etag, /^W\/"[0-9a-f]+"$/);
      const bare = etag.slice(3, -1);
      for (const inm of [etag, `"${bare}"`, bare, `"other", ${etag}`]) {
        const res = await get(defsUrl(), t.personalKey, { 'if-none-match': inm });
        assert.equal(res.statusCode, 304, inm);
        assert.equal(res.body, '');
        assert.equal(res.headers.etag, etag);
        assert.equal(res.headers['cache-control'], 'private, must-revalidate');
        assert.equal(res.headers['x-vexil-timezone'], 'UTC', "Vexil's header: the zone naive dates are read in");
      }
      assert.equal((await get(defsUrl(), t.personalKey)).body, first.body, 'same revision, same bytes');
      assert.equal((await get(defsUrl(), t.personalKey, { 'if-none-match': 'W/"stale"' })).statusCode, 200);
      await addFlag(t, t.project.id, 'a-new', rollout(100));
      const changed = await get(defsUrl(), t.personalKey, { 'if-none-match': etag });
      assert.equal(changed.statusCode, 200);
      assert.notEqual(changed.headers.etag, etag);
      assert.ok(changed.body.includes('"a-new"'));
    });

    test('HEAD 200 empty, OPTIONS 204, other methods 405', async () => {
      const head = await t.app.server.inject({ method: 'HEAD', url: defsUrl() });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      const options = await t.app.server.inject({ method: 'OPTIONS', url: '/flags/definitions/' });
      assert.equal(options.statusCode, 204);
      assert.equal(options.headers.allow, 'GET, OPTIONS, HEAD');
      const post = await t.app.server.inject({ method: 'POST', url: defsUrl(), headers: { authorization: `Bearer ${t.personalKey}` } });
      assert.equal(post.statusCode, 405);
    });

    test('tenant isolation: project B sees only its own flags everywhere', async () => {
      const bDefs = json(await get(`/flags/definitions?token=${b.token}`, b.secret));
      assert.deepEqual(bDefs.flags.map((f: { key: string }) => f.key), ['b-secret-flag']);
      assert.deepEqual(bDefs.cohorts, {});
      assert.equal((await get(`/flags/definitions?token=${b.token}`, keys.onlyB)).statusCode, 200);
      assert.equal((await get(`/flags/definitions?token=${b.token}`, t.project.secret)).statusCode, 401);
      assert.equal((await get(`/api/projects/${t.project.id}/feature_flags/local_evaluation`, keys.onlyB)).statusCode, 403);
      assert.equal((await get(`/api/projects/${b.id}/feature_flags/local_evaluation`, t.project.secret)).statusCode, 401);
      const bFlags = json(await postFlags(t, { token: b.token, distinct_id: 'u' }));
      assert.deepEqual(Object.keys(bFlags.flags), ['b-secret-flag']);
      const aFlags = json(await postFlags(t, { token: t.project.token, distinct_id: 'u' }));
      assert.ok(!('b-secret-flag' in aFlags.flags));
    });
  });
}
