// Serving the admin UI: `GET /` answers the page only to clients that accept HTML, PostHog's plain
// text otherwise; hashed assets are cached for a year; no UI build means no UI and nothing else changes.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { postFlags, startTestApp, type TestApp } from './http-helpers.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('admin UI serving', () => {
  let dir: string;
  let t: TestApp;
  let bare: TestApp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vexil-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Vexil</title><script type="module" src="/assets/app-1234.js"></script>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    t = await startTestApp('postgres', {}, { webDir: dir });
    bare = await startTestApp('postgres', {}, { webDir: null });
  });
  after(async () => {
    await t.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GET / answers the page to a browser, with a strict content security policy and no caching', async () => {
    const res = await t.app.server.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<title>Vexil<\/title>/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  test('GET / without Accept: text/html keeps PostHog\'s plain text', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await t.app.server.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });
      assert.equal(res.statusCode, 200, String(accept));
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.equal(res.body, 'Vexil feature flag service');
    }
  });

  test('hashed assets are served and cached as immutable; unknown assets are 404', async () => {
    const res = await t.app.server.inject({ method: 'GET', url: '/assets/app-1234.js' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /javascript/);
    assert.match(String(res.headers['cache-control']), /immutable/);
    assert.equal((await t.app.server.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode, 404);
    assert.equal((await t.app.server.inject({ method: 'GET', url: '/assets/../index.html' })).statusCode, 404);
  });

  test('without a built UI, / is plain text for browsers too and /assets is unknown', async () => {
    const res = await bare.app.server.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.equal((await bare.app.server.inject({ method: 'GET', url: '/assets/app-1234.js' })).statusCode, 404);
  });

  test('the API routes answer as before', async () => {
    const flags = await postFlags(t, { token: t.project.token, distinct_id: 'u' });
    assert.equal(flags.statusCode, 200);
    const api = await t.app.server.inject({ method: 'GET', url: '/api/projects/', headers: { authorization: `Bearer ${t.personalKey}` } });
    assert.equal(api.statusCode, 200);
  });
});
