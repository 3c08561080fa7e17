// /array/{token}/config, /config/ and /config.js: PostHog's remote-config shape and headers,
// products Vexil lacks turned off, 400 for a malformed token and 404 for an unknown one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addFlag, rollout, startTestApp, type TestApp } from './http-helpers.ts';

describe('SDK config endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('embedded');
  });
  after(async () => t.close());

  const get = (url: string, method: 'GET' | 'HEAD' | 'OPTIONS' | 'POST' = 'GET') => t.app.server.inject({ method, url, headers: { origin: 'https://site.example' } });

  test('JSON config with cache headers, flags declared and unserved products off', async () => {
    for (const path of ['config', 'config/']) {
      const res = await get(`/array/${t.project.token}/${path}`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'public, max-age=300');
      assert.equal(res.headers.vary, 'Origin, Referer');
      assert.equal(res.headers['access-control-allow-origin'], 'https://site.example');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = res.json();
      assert.equal(body.token, t.project.token);
      assert.deepEqual(body.supportedCompression, ['gzip', 'gzip-js']);
      assert.equal(body.hasFeatureFlags, false);
      assert.deepEqual(body.analytics, { endpoint: '/i/v0/e/' });
      for (const off of ['sessionRecording', 'surveys', 'heatmaps', 'autocaptureExceptions', 'captureDeadClicks', 'capturePerformance', 'conversations', 'productTours']) {
        assert.equal(body[off], false, off);
      }
      assert.deepEqual(body.siteApps, []);
    }
  });

  test('hasFeatureFlags follows the active flags of the snapshot', async () => {
    await addFlag(t, t.project.id, 'on', rollout(100));
    assert.equal((await get(`/array/${t.project.token}/config`)).json().hasFeatureFlags, true);
  });

  test('config.js sets window._POSTHOG_REMOTE_CONFIG[token]', async () => {
    const res = await get(`/array/${t.project.token}/config.js`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    const window: { _POSTHOG_REMOTE_CONFIG?: Record<string, { config: { token: string }; siteApps: unknown[] }> } = {};
    new Function('window', res.body)(window);
    assert.equal(window._POSTHOG_REMOTE_CONFIG?.[t.project.token]?.config.token, t.project.token);
    assert.deepEqual(window._POSTHOG_REMOTE_CONFIG?.[t.project.token]?.siteApps, []);
  });

  test('HEAD is empty, OPTIONS 204, other methods 405; bad token 400, unknown 404', async () => {
    const head = await get(`/array/${t.project.token}/config`, 'HEAD');
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    const options = await get(`/array/${t.project.token}/config.js`, 'OPTIONS');
    assert.equal(options.statusCode, 204);
    assert.equal((await get(`/array/${t.project.token}/config`, 'POST')).statusCode, 405);
    assert.equal((await get('/array/bad.token/config')).statusCode, 400);
    // fastify refuses path parameters over 100 characters before the route runs.
    assert.equal((await get(`/array/${'a'.repeat(201)}/config`)).statusCode, 414);
    assert.equal((await get('/array/phc_unknown/config')).statusCode, 404);
    assert.equal((await get('/array/phc_unknown/config.js', 'HEAD')).statusCode, 404);
  });
});
