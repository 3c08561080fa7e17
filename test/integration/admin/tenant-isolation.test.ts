/**
 * @module test/integration/admin/tenant-isolation.test
 * A key scoped to project A can neither read nor change anything of project B, through any
 * admin endpoint, and no B data appears in any response (issue 3, "Keys and tenancy").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, createCohort, createFlag, flagBody, openAdmin, type AdminHarness } from './admin-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`admin tenant isolation (${kind})`, () => {
    let h: AdminHarness;
    let a: any;
    let b: any;
    let keyA: string;
    let flagA: any;
    let flagB: any;
    let cohortB: any;
    let staticB: any;
    let secretsOfB: string[];

    before(async () => {
      h = await openAdmin(kind);
      a = await h.makeProject('Tenant-A');
      b = await h.makeProject('Tenant-B-Secretive');
      keyA = await h.makeKey(['*'], [a.id]);
      flagA = await createFlag(h, a.id, flagBody('flag-of-a'));
      flagB = await createFlag(h, b.id, flagBody('flag-of-b-private', { name: 'B private name' }));
      cohortB = await createCohort(h, b.id, 'Cohort-of-B-private');
      const s = await h.call('POST', `/api/projects/${b.id}/cohorts/`, { body: { name: 'Static-of-B-private', is_static: true } });
      staticB = s.body;
      secretsOfB = [b.api_token, b.secret_api_token, b.uuid, 'flag-of-b-private', 'B private name', 'Cohort-of-B-private', 'Static-of-B-private', 'Tenant-B-Secretive'];
    });
    after(async () => h.close());

    /** Asserts a refusal (403/404) whose body mentions nothing of B. */
    function assertRefusedWithoutLeak(res: { status: number; raw: string }, what: string): void {
      assert.ok(res.status === 404 || res.status === 403, `${what}: expected 403/404, got ${res.status} ${res.raw}`);
      for (const secret of secretsOfB) assert.ok(!res.raw.includes(secret), `${what}: response leaks ${secret}`);
    }

    test('every project-B endpoint refuses a key scoped to A (table)', async () => {
      const P = `/api/projects/${b.id}`;
      const rows: Array<[string, string, unknown?]> = [
        ['GET', `${P}/`],
        ['PATCH', `${P}/rotate_secret_token/`, {}],
        ['GET', `${P}/feature_flags/`],
        ['POST', `${P}/feature_flags/`, flagBody('intruder')],
        ['GET', `${P}/feature_flags/${flagB.id}/`],
        ['PATCH', `${P}/feature_flags/${flagB.id}/`, { name: 'hacked', active: false }],
        ['PUT', `${P}/feature_flags/${flagB.id}/`, flagBody('flag-of-b-private', { active: false })],
        ['PATCH', `${P}/feature_flags/${flagB.id}/`, { deleted: true }],
        ['DELETE', `${P}/feature_flags/${flagB.id}/`],
        ['GET', `${P}/feature_flags/${flagB.id}/activity/`],
        ['GET', `${P}/feature_flags/${flagB.id}/dependent_flags/`],
        ['GET', `${P}/cohorts/`],
        ['POST', `${P}/cohorts/`, { name: 'intruder', is_static: true }],
        ['GET', `${P}/cohorts/${cohortB.id}/`],
        ['PATCH', `${P}/cohorts/${cohortB.id}/`, { name: 'hacked' }],
        ['PATCH', `${P}/cohorts/${staticB.id}/add_persons_to_static_cohort/`, { distinct_ids: ['intruder'] }],
        ['PATCH', `${P}/cohorts/${staticB.id}/remove_person_from_static_cohort/`, { person_id: '00000000-0000-4000-8000-000000000000' }],
        ['GET', `/api/environments/${b.id}/feature_flags/${flagB.id}/`],
      ];
      for (const [method, url, body] of rows) {
        assertRefusedWithoutLeak(await h.call(method, url, { key: keyA, body }), `${method} ${url}`);
      }
      const stillB = await h.call('GET', `${P}/feature_flags/${flagB.id}/`);
      assert.equal(stillB.body.version, 1, 'B flag was changed');
      assert.equal(stillB.body.active, true);
      assert.equal(stillB.body.deleted, false);
      assert.equal((await h.call('GET', `${P}/cohorts/${cohortB.id}/`)).body.name, 'Cohort-of-B-private');
      const bFlags = await h.call('GET', `${P}/feature_flags/`);
      assert.deepEqual(bFlags.body.results.map((f: any) => f.key), ['flag-of-b-private']);
    });

    test('B object ids under A paths are 404, not B data', async () => {
      const P = `/api/projects/${a.id}`;
      for (const url of [
        `${P}/feature_flags/${flagB.id}/`,
        `${P}/feature_flags/${flagB.id}/activity/`,
        `${P}/feature_flags/${flagB.id}/dependent_flags/`,
        `${P}/cohorts/${cohortB.id}/`,
      ]) {
        assertRefusedWithoutLeak(await h.call('GET', url, { key: keyA }), url);
      }
      assertRefusedWithoutLeak(await h.call('PATCH', `${P}/feature_flags/${flagB.id}/`, { key: keyA, body: { name: 'x' } }), 'patch B flag via A');
      assertRefusedWithoutLeak(await h.call('PATCH', `${P}/cohorts/${staticB.id}/add_persons_to_static_cohort/`, { key: keyA, body: { distinct_ids: ['x'] } }), 'add to B cohort via A');
    });

    test('A lists and @current show only A', async () => {
      const projects = await h.call('GET', '/api/projects/', { key: keyA });
      assert.deepEqual(projects.body.results.map((p: any) => p.id), [a.id]);
      assert.equal(projects.body.count, 1);
      const flags = await h.call('GET', `/api/projects/${a.id}/feature_flags/`, { key: keyA });
      assert.deepEqual(flags.body.results.map((f: any) => f.key), ['flag-of-a']);
      const cohorts = await h.call('GET', `/api/projects/${a.id}/cohorts/`, { key: keyA });
      assert.equal(cohorts.body.count, 0);
      const current = await h.call('GET', '/api/projects/@current/', { key: keyA });
      assert.equal(current.body.id, a.id);
      for (const res of [projects, flags, cohorts, current]) for (const s of secretsOfB) assert.ok(!res.raw.includes(s));
    });

    test('A definitions cannot reference B flags or cohorts', async () => {
      const P = `/api/projects/${a.id}`;
      const viaCohort = await h.call('POST', `${P}/feature_flags/`, {
        key: keyA,
        body: flagBody('uses-b-cohort', { filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohortB.id }] }] } }),
      });
      assert.equal(viaCohort.status, 400);
      assert.equal(viaCohort.body.code, 'cohort_does_not_exist');
      const viaFlag = await h.call('POST', `${P}/feature_flags/`, {
        key: keyA,
        body: flagBody('uses-b-flag', { filters: { groups: [{ properties: [{ key: String(flagB.id), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] } }),
      });
      assert.equal(viaFlag.status, 400);
      assert.match(viaFlag.body.detail, /non-existent flag/);
      assert.ok(!viaFlag.raw.includes('flag-of-b-private'));
      const nested = await h.call('POST', `${P}/cohorts/`, {
        key: keyA,
        body: { name: 'nests-b', filters: { properties: { type: 'AND', values: [{ type: 'cohort', key: 'id', value: cohortB.id }] } } },
      });
      assert.equal(nested.status, 400);
      assert.equal(nested.body.detail, 'Invalid Cohort ID in filter');
    });

    test('a key scoped to A can neither create projects nor mint keys for B', async () => {
      const res = await h.call('POST', '/api/projects/', { key: keyA, body: { name: 'new' } });
      assert.equal(res.status, 403);
      const mint = await h.call('POST', '/api/personal_api_keys/', { key: keyA, body: { label: 'x', scopes: ['feature_flag:read'], scoped_teams: [b.id] } });
      assert.equal(mint.status, 403);
      const unscoped = await h.call('POST', '/api/personal_api_keys/', { key: keyA, body: { label: 'x', scopes: ['feature_flag:read'] } });
      assert.equal(unscoped.status, 403);
      const own = await h.call('POST', '/api/personal_api_keys/', { key: keyA, body: { label: 'x', scopes: ['feature_flag:read'], scoped_teams: [a.id] } });
      assert.equal(own.status, 201, own.raw);
      assertRefusedWithoutLeak(await h.call('GET', `/api/projects/${b.id}/feature_flags/`, { key: own.body.value }), 'minted key on B');
    });

    test("A's change notices never name B", async () => {
      const before = h.notices.length;
      await h.call('PATCH', `/api/projects/${a.id}/feature_flags/${flagA.id}/`, { key: keyA, body: { name: 'renamed' } });
      await h.call('PATCH', `/api/projects/${b.id}/feature_flags/${flagB.id}/`, { key: keyA, body: { name: 'renamed' } });
      assert.deepEqual(h.notices.slice(before), [a.id]);
    });
  });
}
