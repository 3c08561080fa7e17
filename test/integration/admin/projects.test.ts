/**
 * @module test/integration/admin/projects.test
 * Projects and personal API keys through the admin API, on both store backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../../../src/auth/keys.ts';
import { STORE_KINDS, assertDrfError, openAdmin, type AdminHarness } from './admin-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`admin projects (${kind})`, () => {
    let h: AdminHarness;
    before(async () => {
      h = await openAdmin(kind);
    });
    after(async () => h.close());

    test('POST /api/projects/ creates a project with both tokens and shows the secret once', async () => {
      const notices = h.notices.length;
      const res = await h.call('POST', '/api/projects/', { body: { name: 'Shop', timezone: 'Europe/Paris' } });
      assert.equal(res.status, 201, res.raw);
      const p = res.body;
      assert.equal(p.name, 'Shop');
      assert.equal(p.timezone, 'Europe/Paris');
      assert.ok(Number.isInteger(p.id));
      assert.match(p.uuid, /^[0-9a-f-]{36}$/);
      assert.match(p.api_token, /^phc_/);
      assert.match(p.secret_api_token, /^phs_/);
      assert.deepEqual(await h.db.store.getProjectSecretHashes(p.id).then((x) => x.includes(hashSecret(p.secret_api_token))), true);
      const again = await h.call('GET', `/api/projects/${p.id}/`);
      assert.equal(again.status, 200);
      assert.equal(again.body.secret_api_token, null, 'the secret is shown only once');
      assert.equal(again.body.api_token, p.api_token);
      assert.ok(!again.raw.includes(p.secret_api_token));
      assert.deepEqual(h.notices.slice(notices), [p.id]);
    });

    test('unknown top-level fields are ignored, as DRF ignores them (projects and personal keys)', async () => {
      const project = await h.call('POST', '/api/projects/', { body: { name: 'Extras', owner: 'me', organization: 'x' } });
      assert.equal(project.status, 201, project.raw);
      assert.equal(project.body.owner, undefined);
      const key = await h.call('POST', '/api/personal_api_keys/', { body: { label: 'extras', scopes: ['feature_flag:read'], note: 'ignored' } });
      assert.equal(key.status, 201, key.raw);
      assert.equal(key.body.note, undefined);
    });

    test('a personal key records when it was last used', async () => {
      const token = await h.makeKey(['project:read']);
      const stored = () => h.db.store.getPersonalApiKeyByHash(hashSecret(token));
      assert.equal((await stored())?.lastUsedAt, null);
      const before = Date.now();
      assert.equal((await h.call('GET', '/api/projects/', { key: token })).status, 200);
      // Written off the request path: give it a moment.
      let used: Date | null | undefined = null;
      for (let i = 0; i < 50 && !used; i++) {
        used = (await stored())?.lastUsedAt;
        if (!used) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(used && used.getTime() >= before - 1000, 'last_used_at is set');
    });

    test('PATCH /api/projects/:id/ renames and changes the time zone, bumping the revision', async () => {
      const p = await h.makeProject('Before');
      const notices = h.notices.length;
      const revision = (await h.db.store.listProjectRevisions()).get(p.id)!;
      const res = await h.call('PATCH', `/api/projects/${p.id}/`, { body: { name: 'After', timezone: 'Asia/Tokyo' } });
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual([res.body.name, res.body.timezone, res.body.secret_api_token], ['After', 'Asia/Tokyo', null]);
      assert.equal((await h.call('GET', `/api/projects/${p.id}/`)).body.timezone, 'Asia/Tokyo');
      assert.equal((await h.db.store.listProjectRevisions()).get(p.id), revision + 1, 'snapshots rebuild: date filters use the zone');
      assert.deepEqual(h.notices.slice(notices), [p.id]);
      assert.equal((await h.call('PATCH', `/api/projects/${p.id}/`, { body: { name: 'Only name' } })).body.timezone, 'Asia/Tokyo');
      assertDrfError(await h.call('PATCH', `/api/projects/${p.id}/`, { body: { timezone: 'Mars/Olympus' } }), 400, { code: 'invalid_choice', attr: 'timezone' });
      assertDrfError(await h.call('PATCH', `/api/projects/${p.id}/`, { body: { name: '' } }), 400, { code: 'blank', attr: 'name' });
      const readOnly = await h.makeKey(['project:read']);
      assertDrfError(await h.call('PATCH', `/api/projects/${p.id}/`, { body: { name: 'x' }, key: readOnly }), 403, {});
    });

    test('timezone defaults to UTC; an unknown timezone is a 400 invalid_choice', async () => {
      const res = await h.call('POST', '/api/projects/', { body: { name: 'Plain' } });
      assert.equal(res.body.timezone, 'UTC');
      assertDrfError(await h.call('POST', '/api/projects/', { body: { name: 'Bad', timezone: 'Mars/Olympus' } }), 400, {
        type: 'validation_error', code: 'invalid_choice', attr: 'timezone', detail: '"Mars/Olympus" is not a valid choice.',
      });
    });

    const invalidRows: Array<[string, unknown, string, string]> = [
      ['missing name', {}, 'required', 'name'],
      ['blank name', { name: '' }, 'blank', 'name'],
      ['null name', { name: null }, 'null', 'name'],
      ['numeric name', { name: 5 }, 'invalid_input', 'name'],
      ['name too long', { name: 'x'.repeat(201) }, 'max_length', 'name'],
    ];
    for (const [label, body, code, attr] of invalidRows) {
      test(`project create rejects ${label}`, async () => {
        assertDrfError(await h.call('POST', '/api/projects/', { body }), 400, { type: 'validation_error', code, attr });
      });
    }

    test('GET /api/projects/ is paginated like DRF', async () => {
      for (let i = 0; i < 3; i++) await h.makeProject(`Paged ${i}`);
      const all = await h.call('GET', '/api/projects/');
      const total = all.body.count;
      assert.ok(total >= 3);
      const first = await h.call('GET', '/api/projects/?limit=2');
      assert.equal(first.body.results.length, 2);
      assert.equal(first.body.previous, null);
      assert.match(first.body.next, /^http:\/\/localhost(:80)?\/api\/projects\/\?limit=2&offset=2$/);
      const second = await h.call('GET', '/api/projects/?limit=2&offset=2');
      assert.match(second.body.previous, /\/api\/projects\/\?limit=2$/);
      assert.notDeepEqual(second.body.results[0].id, first.body.results[0].id);
    });

    test('PATCH rotate_secret_token returns a new secret once and replaces the stored hash', async () => {
      const p = await h.makeProject('Rotating');
      const before = h.notices.length;
      const res = await h.call('PATCH', `/api/projects/${p.id}/rotate_secret_token/`);
      assert.equal(res.status, 200, res.raw);
      assert.match(res.body.secret_api_token, /^phs_/);
      assert.notEqual(res.body.secret_api_token, p.secret_api_token);
      const hashes = await h.db.store.getProjectSecretHashes(p.id);
      assert.ok(hashes.includes(hashSecret(res.body.secret_api_token)));
      assert.equal((await h.call('GET', `/api/projects/${p.id}/`)).body.secret_api_token, null);
      assert.deepEqual(h.notices.slice(before), [p.id]);
      assertDrfError(await h.call('GET', `/api/projects/${p.id}/rotate_secret_token/`), 405, { code: 'method_not_allowed' });
    });

    test('DELETE /api/projects/:id/ removes the project and its data: 204, then 404; @current and keys without access are refused', async () => {
      const p = await h.makeProject('Doomed');
      const other = await h.makeProject('Kept');
      assert.equal((await h.call('POST', `/api/projects/${p.id}/feature_flags/`, { body: { key: 'f', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } } })).status, 201);
      await h.db.store.applyPersonUpdates(p.id, [{ distinctId: 'u', set: { a: 1 } }]);
      const readOnly = await h.makeKey(['project:read']);
      assertDrfError(await h.call('DELETE', `/api/projects/${p.id}/`, { key: readOnly }), 403, { detail: "API key missing required scope 'project:write'" });
      const elsewhere = await h.makeKey(['*'], [other.id]);
      assertDrfError(await h.call('DELETE', `/api/projects/${p.id}/`, { key: elsewhere }), 404, { code: 'not_found' });
      assertDrfError(await h.call('DELETE', '/api/projects/@current/'), 400, { detail: 'by its id' });
      const before = h.notices.length;
      const res = await h.call('DELETE', `/api/projects/${p.id}/`);
      assert.deepEqual([res.status, res.raw], [204, '']);
      assert.deepEqual(h.notices.slice(before), [p.id], 'snapshots are told, so every node drops it');
      assertDrfError(await h.call('GET', `/api/projects/${p.id}/`), 404, { code: 'not_found' });
      assertDrfError(await h.call('GET', `/api/projects/${p.id}/feature_flags/`), 404, { code: 'not_found' });
      assertDrfError(await h.call('DELETE', `/api/projects/${p.id}/`), 404, { code: 'not_found' });
      assert.equal(await h.db.store.getPersonByDistinctId(p.id, 'u'), null);
      assert.equal((await h.call('GET', `/api/projects/${other.id}/`)).status, 200);
    });

    test('unsupported project methods are 405', async () => {
      const p = await h.makeProject('Fixed');
      for (const method of ['PUT']) {
        assertDrfError(await h.call(method, `/api/projects/${p.id}/`, { body: {} }), 405, { code: 'method_not_allowed', detail: `Method "${method}" not allowed.` });
      }
    });

    test('POST /api/personal_api_keys/ returns the key once; it authenticates with its scopes', async () => {
      const p = await h.makeProject('Keyed');
      const res = await h.call('POST', '/api/personal_api_keys/', { body: { label: 'ci', scopes: ['feature_flag:read'], scoped_teams: [p.id] } });
      assert.equal(res.status, 201, res.raw);
      assert.match(res.body.value, /^phx_/);
      assert.deepEqual(res.body.scopes, ['feature_flag:read']);
      assert.deepEqual(res.body.scoped_teams, [p.id]);
      assert.equal((await h.call('GET', `/api/projects/${p.id}/feature_flags/`, { key: res.body.value })).status, 200);
      assert.equal((await h.call('POST', `/api/projects/${p.id}/feature_flags/`, { key: res.body.value, body: { key: 'x' } })).status, 403);
      assert.ok(await h.db.store.getPersonalApiKeyByHash(hashSecret(res.body.value)));
    });

    test('personal API key validation and escalation rules', async () => {
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { body: { label: 'x', scopes: ['flags:everything'] } }), 400, { attr: 'scopes', detail: 'Invalid scope: flags:everything' });
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { body: { label: 'x', scopes: [] } }), 400, { attr: 'scopes' });
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { body: { scopes: ['*'] } }), 400, { code: 'required', attr: 'label' });
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { body: { label: 'x', scopes: ['*'], scoped_teams: [999999] } }), 400, { attr: 'scoped_teams' });
      const limited = await h.makeKey(['personal_api_key:write', 'feature_flag:read']);
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { key: limited, body: { label: 'x', scopes: ['feature_flag:write'] } }), 403, { code: 'permission_denied' });
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { key: limited, body: { label: 'x', scopes: ['*'] } }), 403, { code: 'permission_denied' });
      assert.equal((await h.call('POST', '/api/personal_api_keys/', { key: limited, body: { label: 'x', scopes: ['feature_flag:read'] } })).status, 201);
      const noScope = await h.makeKey(['feature_flag:write']);
      assertDrfError(await h.call('POST', '/api/personal_api_keys/', { key: noScope, body: { label: 'x', scopes: ['feature_flag:read'] } }), 403, {
        detail: "API key missing required scope 'personal_api_key:write'",
      });
    });

    test('personal API keys: list newest first with masks, get by id or @current, DELETE revokes; a key manages only keys within its own access', async () => {
      const p = await h.makeProject('Keys');
      const created = await h.call('POST', '/api/personal_api_keys/', { body: { label: 'reader', scopes: ['feature_flag:read', 'personal_api_key:read'], scoped_teams: [p.id] } });
      assert.equal(created.status, 201, created.raw);
      const reader = created.body.value as string;
      assert.equal(created.body.mask_value, `${reader.slice(0, 4)}...${reader.slice(-4)}`);

      const list = await h.call('GET', '/api/personal_api_keys/');
      assert.equal(list.status, 200, list.raw);
      assert.ok(Array.isArray(list.body), 'a plain array, as PostHog answers');
      const listed = list.body.find((k: { id: string }) => k.id === created.body.id);
      assert.deepEqual([listed.label, listed.value, listed.mask_value, listed.scoped_teams], ['reader', null, created.body.mask_value, [p.id]]);
      const times = list.body.map((k: { created_at: string }) => Date.parse(k.created_at));
      assert.deepEqual(times, [...times].sort((a: number, b: number) => b - a), 'newest first');

      // The reader sees only keys within its own access: itself, not the full-access root key.
      const own = await h.call('GET', '/api/personal_api_keys/', { key: reader });
      assert.deepEqual(own.body.map((k: { id: string }) => k.id), [created.body.id]);
      assert.equal((await h.call('GET', `/api/personal_api_keys/${created.body.id}/`, { key: reader })).body.label, 'reader');
      const rootId = list.body.find((k: { scopes: string[]; scoped_teams: unknown }) => k.scopes.includes('*') && k.scoped_teams === null).id;
      assertDrfError(await h.call('GET', `/api/personal_api_keys/${rootId}/`, { key: reader }), 404, { code: 'not_found' });
      assertDrfError(await h.call('DELETE', `/api/personal_api_keys/${created.body.id}/`, { key: reader }), 403, { detail: "API key missing required scope 'personal_api_key:write'" });

      // Any key reads itself through @current, even without personal_api_key:read.
      const flagsOnly = await h.makeKey(['feature_flag:read']);
      const current = await h.call('GET', '/api/personal_api_keys/@current/', { key: flagsOnly });
      assert.equal(current.status, 200, current.raw);
      assert.deepEqual(current.body.scopes, ['feature_flag:read']);
      assertDrfError(await h.call('GET', '/api/personal_api_keys/', { key: flagsOnly }), 403, { code: 'permission_denied' });

      // DELETE revokes at once; a second DELETE and unknown ids are 404.
      const del = await h.call('DELETE', `/api/personal_api_keys/${created.body.id}/`);
      assert.deepEqual([del.status, del.raw], [204, '']);
      assert.equal((await h.call('GET', `/api/projects/${p.id}/feature_flags/`, { key: reader })).status, 401);
      assertDrfError(await h.call('DELETE', `/api/personal_api_keys/${created.body.id}/`), 404, { code: 'not_found' });
      assertDrfError(await h.call('DELETE', '/api/personal_api_keys/not-a-uuid/'), 404, { code: 'not_found' });
      assertDrfError(await h.call('PATCH', `/api/personal_api_keys/${rootId}/`, { body: {} }), 405, { code: 'method_not_allowed' });
    });

    test('a project-scoped key cannot create projects', async () => {
      const p = await h.makeProject('Owned');
      const scoped = await h.makeKey(['*'], [p.id]);
      assertDrfError(await h.call('POST', '/api/projects/', { key: scoped, body: { name: 'more' } }), 403, { code: 'permission_denied' });
    });

    test('group types appear on the project', async () => {
      const p = await h.makeProject('Groups');
      await h.db.store.ensureGroupTypeIndex(p.id, 'company');
      const res = await h.call('GET', `/api/projects/${p.id}/`);
      assert.deepEqual(res.body.group_types, [{ group_type: 'company', group_type_index: 0, name_singular: null, name_plural: null }]);
    });
  });
}
