// SDKs poll /flags/definitions every few seconds with the same key: a successful authorization
// is reused briefly instead of querying the database on every poll; failures never are.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreProbe, startTestApp, type TestApp } from './http-helpers.ts';

describe('definitions authorization reuse (postgres store)', () => {
  let t: TestApp;
  const probe = new StoreProbe();
  const keyLookups = () => probe.calls.get('getPersonalApiKeyByHash') ?? 0;
  const get = (key: string) =>
    t.app.server.inject({ method: 'GET', url: `/flags/definitions?token=${t.project.token}`, headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    t = await startTestApp('postgres', {}, { wrapStore: (s) => probe.wrap(s) });
  });
  after(async () => t.close());

  test('a repeated poll with a valid key does not look the key up again', async () => {
    assert.equal((await get(t.personalKey)).statusCode, 200);
    const before = keyLookups();
    const second = await get(t.personalKey);
    assert.equal(second.statusCode, 200);
    assert.equal(keyLookups(), before);
  });

  test('an invalid key is checked (and refused) every time', async () => {
    const before = keyLookups();
    assert.equal((await get('phx_not_a_real_key_0000000000')).statusCode, 401);
    assert.equal((await get('phx_not_a_real_key_0000000000')).statusCode, 401);
    assert.equal(keyLookups(), before + 2);
  });

  test('a valid key for one project is not reused for another', async () => {
    const res = await t.app.server.inject({ method: 'GET', url: '/api/projects/999999/feature_flags/local_evaluation/', headers: { authorization: `Bearer ${t.personalKey}` } });
    assert.equal(res.statusCode, 404);
  });
});
