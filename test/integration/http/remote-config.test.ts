// Remote-configuration flags and encrypted payloads: the admin API stores them as PostHog does
// (Fernet at rest), /remote_config serves them by PostHog's rules, /flags leaves encrypted ones
// out and definitions leave every remote-config flag out. Both backends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPayloadCipher } from '../../../src/auth/payload-cipher.ts';
import { createProject, json, postFlags, startTestApp, type TestApp } from './http-helpers.ts';

const SECRET_KEYS = 'new-key,old-key';

async function admin(t: TestApp, method: 'POST' | 'PATCH' | 'GET', url: string, body?: unknown) {
  return t.app.server.inject({ method, url, headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
}

const remoteFlag = (key: string, payload: unknown, encrypted: boolean) => ({
  key,
  is_remote_configuration: true,
  has_encrypted_payloads: encrypted,
  filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: payload === undefined ? {} : { true: payload } },
});

for (const kind of ['embedded', 'postgres'] as const) {
  describe(`remote config flags (${kind})`, () => {
    let t: TestApp;
    let dataDir: string;
    let encryptedId: number;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'vexil-remote-config-'));
      t = await startTestApp(kind, { VEXIL_FLAGS_SECRET_KEYS: SECRET_KEYS, VEXIL_DATA_DIR: dataDir });
      const enc = await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('secret-config', '{"apiKey":"abc"}', true));
      assert.equal(enc.statusCode, 201, enc.body);
      encryptedId = json(enc).id;
      assert.equal((await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('plain-config', { color: 'blue' }, false))).statusCode, 201);
      assert.equal((await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('empty-config', undefined, false))).statusCode, 201);
      assert.equal((await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, { key: 'normal', filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: '"x"' } } })).statusCode, 201);
    });
    after(async () => {
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const rc = (url: string, authorization?: string, method: 'GET' | 'HEAD' | 'OPTIONS' | 'POST' = 'GET') =>
      t.app.server.inject({ method, url, headers: authorization ? { authorization: `Bearer ${authorization}` } : {} });

    test('the admin API stores Fernet tokens and shows the plaintext', async () => {
      const stored = await t.store.getFlag(t.project.id, encryptedId);
      const token = (stored!.filters as { payloads: Record<string, string> }).payloads.true!;
      assert.match(token, /^gAAAAA/);
      assert.equal(createPayloadCipher(['new-key']).decrypt(token), '{"apiKey":"abc"}', 'the first key encrypts');
      const shown = json(await admin(t, 'GET', `/api/projects/${t.project.id}/feature_flags/${encryptedId}/`));
      assert.equal(shown.is_remote_configuration, true);
      assert.equal(shown.has_encrypted_payloads, true);
      assert.deepEqual(shown.filters.payloads, { true: '{"apiKey":"abc"}' });
      const listed = json(await admin(t, 'GET', `/api/projects/${t.project.id}/feature_flags/`)).results.find((f: { id: number }) => f.id === encryptedId);
      assert.deepEqual(listed.filters.payloads, { true: '{"apiKey":"abc"}' });
    });

    test('turning encryption off and on re-encodes the stored payloads', async () => {
      const created = json(await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('toggled', '{"n":1}', false)));
      const on = await admin(t, 'PATCH', `/api/projects/${t.project.id}/feature_flags/${created.id}/`, { has_encrypted_payloads: true });
      assert.equal(on.statusCode, 200, on.body);
      assert.deepEqual(json(on).filters.payloads, { true: '{"n":1}' });
      assert.match((await t.store.getFlag(t.project.id, created.id))!.filters.payloads!.true as string, /^gAAAAA/);
      const off = await admin(t, 'PATCH', `/api/projects/${t.project.id}/feature_flags/${created.id}/`, { has_encrypted_payloads: false });
      assert.equal((await t.store.getFlag(t.project.id, created.id))!.filters.payloads!.true, '{"n":1}');
      assert.deepEqual(json(off).filters.payloads, { true: '{"n":1}' });
    });

    test('encryption without remote configuration is a 400', async () => {
      const res = await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, { ...remoteFlag('not-remote', '"x"', true), is_remote_configuration: false });
      assert.equal(res.statusCode, 400);
      assert.equal(json(res).attr, 'has_encrypted_payloads');
    });

    test('a personal key gets the decrypted payload, the project secret the redacted marker', async () => {
      const byKey = await rc(`/api/projects/@current/feature_flags/secret-config/remote_config?token=${t.project.token}`, t.personalKey);
      assert.equal(byKey.statusCode, 200);
      assert.match(String(byKey.headers['content-type']), /^application\/json/);
      assert.equal(JSON.parse(byKey.body), '{"apiKey":"abc"}');
      const bySecret = await rc(`/api/projects/@current/feature_flags/secret-config/remote_config/?token=${t.project.token}`, t.project.secret);
      assert.equal(JSON.parse(bySecret.body), '"********* (encrypted)"');
      const byIds = await rc(`/api/projects/${t.project.id}/feature_flags/${encryptedId}/remote_config`, t.personalKey);
      assert.equal(JSON.parse(byIds.body), '{"apiKey":"abc"}', 'numeric project and flag ids');
      const plain = await rc(`/api/projects/${t.project.id}/feature_flags/plain-config/remote_config`, t.project.secret);
      assert.equal(JSON.parse(plain.body), '{"color":"blue"}', 'unencrypted payloads are served to both');
    });

    test('PostHog status rules: 404, 401, 403, empty 200, HEAD, OPTIONS, 405', async () => {
      const other = await createProject(t.store, 'other');
      const base = `/api/projects/${t.project.id}/feature_flags`;
      assert.equal((await rc(`${base}/normal/remote_config`, t.personalKey)).statusCode, 404, 'not a remote-config flag');
      assert.equal((await rc(`${base}/missing/remote_config`, t.personalKey)).statusCode, 404);
      assert.equal((await rc(`/api/projects/@current/feature_flags/plain-config/remote_config`, t.personalKey)).statusCode, 404, '@current needs ?token=');
      assert.equal((await rc(`/api/projects/999999/feature_flags/plain-config/remote_config`, t.personalKey)).statusCode, 404);
      assert.equal((await rc(`/api/projects/@current/feature_flags/plain-config/remote_config?token=phc_nope`, t.personalKey)).statusCode, 401);
      assert.equal((await rc(`${base}/plain-config/remote_config`)).statusCode, 401, 'no credential');
      assert.equal((await rc(`${base}/plain-config/remote_config`, other.secret)).statusCode, 403, "another project's secret");
      assert.equal((await rc(`/api/projects/${other.id}/feature_flags/plain-config/remote_config`, other.secret)).statusCode, 404, 'flag of another project');
      const empty = await rc(`${base}/empty-config/remote_config`, t.personalKey);
      assert.equal(empty.statusCode, 200);
      assert.equal(empty.body, '');
      assert.match(String(empty.headers['content-type']), /^application\/json/);
      const head = await rc(`${base}/plain-config/remote_config`, undefined, 'HEAD');
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      const options = await rc(`${base}/plain-config/remote_config`, undefined, 'OPTIONS');
      assert.equal(options.statusCode, 204);
      assert.equal(options.headers.allow, 'GET, OPTIONS, HEAD');
      assert.equal((await rc(`${base}/plain-config/remote_config`, t.personalKey, 'POST')).statusCode, 405);
    });

    test('/flags leaves encrypted remote-config flags out; definitions leave all remote-config flags out', async () => {
      const flags = json(await postFlags(t, { token: t.project.token, distinct_id: 'u1' })).flags;
      assert.equal(flags['secret-config'], undefined);
      assert.equal(flags['plain-config']?.enabled, true, 'an unencrypted remote-config flag still evaluates');
      assert.equal(flags.normal?.enabled, true);
      const defs = json(await t.app.server.inject({ method: 'GET', url: `/flags/definitions?token=${t.project.token}`, headers: { authorization: `Bearer ${t.project.secret}` } }));
      assert.deepEqual(defs.flags.map((f: { key: string }) => f.key).sort(), ['normal']);
    });
  });
}

describe('encrypted payloads without configured keys', () => {
  test('PostgreSQL refuses them with a 400 naming VEXIL_FLAGS_SECRET_KEYS', async () => {
    const t = await startTestApp('postgres', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    try {
      const res = await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('enc', '"x"', true));
      assert.equal(res.statusCode, 400);
      assert.match(json(res).detail, /VEXIL_FLAGS_SECRET_KEYS/);
      assert.equal((await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('plain', '"x"', false))).statusCode, 201);
    } finally {
      await t.close();
    }
  });

  test('the embedded default generates a key in its data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vexil-remote-config-'));
    const t = await startTestApp('embedded', { VEXIL_DATA_DIR: dataDir });
    try {
      const res = await admin(t, 'POST', `/api/projects/${t.project.id}/feature_flags/`, remoteFlag('enc', '"x"', true));
      assert.equal(res.statusCode, 201, res.body);
      const served = await t.app.server.inject({ method: 'GET', url: `/api/projects/${t.project.id}/feature_flags/enc/remote_config`, headers: { authorization: `Bearer ${t.personalKey}` } });
      assert.equal(JSON.parse(served.body), '"x"');
    } finally {
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
