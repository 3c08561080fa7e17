// Per-key admin rate limit (VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE): 429 throttled with Retry-After
// once a key's minute of burst is spent; other keys keep their own budget; persons routes share it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../http/http-helpers.ts';

describe('admin API rate limit per personal API key', () => {
  let t: TestApp;
  // 3 per minute: a token comes back every 20 s, far longer than this test takes.
  before(async () => {
    t = await startTestApp('embedded', { VEXIL_ADMIN_RATE_LIMIT_PER_MINUTE: '3' });
  });
  after(async () => t.close());

  const get = (url: string, key: string) => t.app.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  test('the fourth request within the minute is 429 with Retry-After; another key is unaffected', async () => {
    const other = await t.app.server.inject({
      method: 'POST',
      url: '/api/personal_api_keys/',
      headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ label: 'second', scopes: ['*'] }),
    });
    assert.equal(other.statusCode, 201, other.body);
    const secondKey = JSON.parse(other.body).value as string;
    // One request spent above; two more allowed, one on the persons routes (the same budget).
    assert.equal((await get('/api/projects/', t.personalKey)).statusCode, 200);
    assert.equal((await get(`/api/projects/${t.project.id}/persons/`, t.personalKey)).statusCode, 200);
    const limited = await get(`/api/projects/${t.project.id}/feature_flags/`, t.personalKey);
    assert.equal(limited.statusCode, 429);
    const retry = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 20, `Retry-After ${limited.headers['retry-after']}`);
    const body = JSON.parse(limited.body);
    assert.equal(body.type, 'throttled_error');
    assert.equal(body.code, 'throttled');
    assert.match(body.detail, /^Request was throttled\. Expected available in \d+ seconds?\.$/);
    assert.equal((await get(`/api/projects/${t.project.id}/persons/`, t.personalKey)).statusCode, 429);
    assert.equal((await get('/api/projects/', secondKey)).statusCode, 200, 'the other key has its own bucket');
    assert.equal((await t.app.server.inject({ method: 'GET', url: '/api/schema/' })).statusCode, 200, 'no key, no limit');
  });
});
