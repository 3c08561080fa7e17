// The real posthog-node SDK's getRemoteConfigPayload against a listening Vexil: a plain and an
// encrypted remote-configuration payload come back parsed, as from PostHog.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostHog } from 'posthog-node';
import { startTestApp, type TestApp } from '../integration/http/http-helpers.ts';

describe('posthog-node getRemoteConfigPayload against Vexil', () => {
  let t: TestApp;
  let host: string;
  let dataDir: string;
  let ph: PostHog;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vexil-posthog-node-rc-'));
    t = await startTestApp('embedded', { VEXIL_FLAGS_SECRET_KEYS: 'compat-secret', VEXIL_DATA_DIR: dataDir });
    const create = (key: string, payload: string, encrypted: boolean) =>
      t.app.server.inject({
        method: 'POST',
        url: `/api/projects/${t.project.id}/feature_flags/`,
        headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ key, is_remote_configuration: true, has_encrypted_payloads: encrypted, filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: payload } } }),
      });
    assert.equal((await create('plain-settings', '{"theme":"dark","limit":5}', false)).statusCode, 201);
    assert.equal((await create('vault-settings', '{"apiKey":"s3cr3t"}', true)).statusCode, 201);
    host = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    ph = new PostHog(t.project.token, { host, personalApiKey: t.personalKey, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, requestTimeout: 5000 });
  });

  after(async () => {
    await ph?.shutdown();
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('returns the plain payload', async () => {
    assert.deepEqual(await ph.getRemoteConfigPayload('plain-settings'), { theme: 'dark', limit: 5 });
  });

  test('returns the encrypted payload decrypted', async () => {
    assert.deepEqual(await ph.getRemoteConfigPayload('vault-settings'), { apiKey: 's3cr3t' });
  });
});
