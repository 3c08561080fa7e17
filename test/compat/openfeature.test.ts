// The real OpenFeature server SDK with the OFREP provider against a listening Vexil: boolean,
// string and object evaluations, context mapping, the error codes, and — the same inputs — the
// answers of /flags. Raw HTTP checks the exact OFREP shapes (400/401/403/404, ETag ⇒ 304).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFeature, ErrorCode, type Client } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { addFlag, rollout, startTestApp, type TestApp } from '../integration/http/http-helpers.ts';

describe('OpenFeature (OFREP provider) against Vexil', () => {
  let t: TestApp;
  let base: string;
  let client: Client;
  let wrongKey: Client;
  let bearer: Client;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': t.project.token, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    t = await startTestApp('postgres');
    const pid = t.project.id;
    await t.store.ensureGroupTypeIndex(pid, 'company');
    await t.store.applyPersonUpdates(pid, [{ distinctId: 'member', set: { plan: 'pro' } }]);
    await addFlag(t, pid, 'beta-feature', rollout(35));
    await addFlag(t, pid, 'everyone', rollout(100));
    await addFlag(t, pid, 'multivariate-flag', {
      groups: [{ properties: [], rollout_percentage: 100 }],
      multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'test', rollout_percentage: 25 }, { key: 'test2', rollout_percentage: 25 }] },
      payloads: { test2: '{"discount":20}' },
    });
    await addFlag(t, pid, 'payload-flag', { ...rollout(100), payloads: { true: '{"color":"blue"}' } });
    await addFlag(t, pid, 'email-flag', { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }] }] });
    await addFlag(t, pid, 'group-flag', { aggregation_group_type_index: 0, groups: [{ properties: [], rollout_percentage: 100 }] });
    await addFlag(t, pid, 'stored-plan', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
    await addFlag(t, pid, 'inactive-flag', rollout(100), { active: false });
    base = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    await OpenFeature.setProviderAndWait('vexil', new OFREPProvider({ baseUrl: base, headers: { 'X-API-Key': t.project.token } }));
    await OpenFeature.setProviderAndWait('vexil-bearer', new OFREPProvider({ baseUrl: base, headers: { Authorization: `Bearer ${t.project.token}` } }));
    await OpenFeature.setProviderAndWait('wrong-key', new OFREPProvider({ baseUrl: base, headers: { Authorization: 'Bearer phc_notarealtoken000000000000000000000000000' } }));
    client = OpenFeature.getClient('vexil');
    bearer = OpenFeature.getClient('vexil-bearer');
    wrongKey = OpenFeature.getClient('wrong-key');
  });

  after(async () => {
    await OpenFeature.close();
    await t.close();
  });

  test('boolean evaluation: value, OpenFeature reason and PostHog reason in metadata', async () => {
    const d = await client.getBooleanDetails('everyone', false, { targetingKey: 'user-1' });
    assert.equal(d.value, true);
    assert.equal(d.reason, 'TARGETING_MATCH');
    assert.equal(d.errorCode, undefined);
    assert.equal(d.flagMetadata.reason, 'condition_match');
    assert.equal(d.flagMetadata.conditionIndex, 0);
    const miss = await bearer.getBooleanDetails('beta-feature', true, { targetingKey: 'user-1' });
    assert.equal(miss.value, false, 'out of the 35 % rollout');
    assert.equal(miss.reason, 'DEFAULT');
    assert.equal(miss.flagMetadata.reason, 'out_of_rollout_bound');
    // /flags leaves inactive flags out of its answer; OFREP says so: the default, FLAG_NOT_FOUND.
    const off = await bearer.getBooleanDetails('inactive-flag', true, { targetingKey: 'user-1' });
    assert.equal(off.value, true);
    assert.equal(off.errorCode, ErrorCode.FLAG_NOT_FOUND);
  });

  test('string evaluation of a multivariate flag gives the variant', async () => {
    const d = await client.getStringDetails('multivariate-flag', 'none', { targetingKey: 'user_42' });
    assert.equal(d.value, 'test2');
    assert.equal(d.variant, 'test2');
    assert.equal(d.flagMetadata.payload, '{"discount":20}');
    assert.equal(await client.getStringValue('multivariate-flag', 'none', { targetingKey: 'user-1' }), 'control');
  });

  test('object evaluation with $payload: true gives the payload; metadata carries it as JSON text', async () => {
    assert.deepEqual(await client.getObjectValue('payload-flag', {}, { targetingKey: 'x', $payload: true }), { color: 'blue' });
    const d = await client.getBooleanDetails('payload-flag', false, { targetingKey: 'x' });
    assert.equal(d.value, true);
    assert.equal(d.flagMetadata.payload, '{"color":"blue"}');
    // No payload for this outcome: the boolean stays, so an object evaluation falls back to the default.
    const none = await client.getObjectDetails('everyone', { fallback: 1 }, { targetingKey: 'x', $payload: true });
    assert.deepEqual(none.value, { fallback: 1 });
    assert.equal(none.errorCode, ErrorCode.TYPE_MISMATCH);
  });

  test('context: attributes become person properties, $groups the groups, stored persons are read', async () => {
    assert.equal(await client.getBooleanValue('email-flag', false, { targetingKey: 'x', email: 'a@example.com' }), true);
    assert.equal(await client.getBooleanValue('email-flag', true, { targetingKey: 'x', email: 'a@other.org' }), false);
    assert.equal(await client.getBooleanValue('group-flag', false, { targetingKey: 'x', $groups: { company: 'acme' } }), true);
    assert.equal(await client.getBooleanValue('group-flag', true, { targetingKey: 'x' }), false);
    assert.equal(await client.getBooleanValue('stored-plan', false, { targetingKey: 'member' }), true);
  });

  test('a missing flag, a missing targeting key, a bad context and a wrong key give the default with the error', async () => {
    const missing = await client.getBooleanDetails('no-such-flag', true, { targetingKey: 'x' });
    assert.equal(missing.value, true);
    assert.equal(missing.errorCode, ErrorCode.FLAG_NOT_FOUND);
    const noKey = await client.getBooleanDetails('everyone', false, { email: 'a@example.com' });
    assert.equal(noKey.value, false);
    assert.equal(noKey.errorCode, ErrorCode.TARGETING_KEY_MISSING);
    const badCtx = await client.getBooleanDetails('everyone', false, { targetingKey: 'x', $groups: 'acme' });
    assert.equal(badCtx.errorCode, ErrorCode.INVALID_CONTEXT);
    const wrong = await wrongKey.getBooleanDetails('everyone', false, { targetingKey: 'x' });
    assert.equal(wrong.value, false);
    assert.equal(wrong.reason, 'ERROR');
    assert.notEqual(wrong.errorCode, undefined);
  });

  test('answers equal /flags for the same inputs (one evaluation path)', async () => {
    for (const [id, props] of [['user_42', {}], ['user-1', { email: 'b@example.com' }], ['member', {}], ['someone', { plan: 'free' }]] as const) {
      const flagsRes = await post('/flags?v=2', { token: t.project.token, distinct_id: id, person_properties: props, groups: { company: 'acme' } }, { 'x-api-key': '' });
      const viaFlags = (await flagsRes.json()) as { flags: Record<string, { enabled: boolean; variant: string | null }> };
      const res = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: id, ...props, $groups: { company: 'acme' } } });
      assert.equal(res.status, 200);
      const bulk = (await res.json()) as { flags: { key: string; value: unknown }[] };
      assert.equal(bulk.flags.length, Object.keys(viaFlags.flags).length);
      for (const f of bulk.flags) {
        const v = viaFlags.flags[f.key]!;
        assert.equal(f.value, v.enabled && v.variant !== null ? v.variant : v.enabled, `${id} ${f.key}`);
      }
    }
  });

  test('bulk: ETag and If-None-Match ⇒ 304; a different context ⇒ 200', async () => {
    const first = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u1' } });
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal(first.headers.get('content-type'), 'application/json; charset=utf-8');
    const again = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u1' } }, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    const other = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u2-other', email: 'z@example.com' } }, { 'if-none-match': etag });
    assert.equal(other.status, 200);
  });

  test('error shapes: 400 PARSE_ERROR / TARGETING_KEY_MISSING / INVALID_CONTEXT, 404, 401, 403', async () => {
    const parse = await post('/ofrep/v1/evaluate/flags/everyone', '{not json');
    assert.equal(parse.status, 400);
    assert.deepEqual(await parse.json(), { key: 'everyone', errorCode: 'PARSE_ERROR', errorDetails: 'The request body is not valid JSON.' });
    const bulkParse = await post('/ofrep/v1/evaluate/flags', { context: 'x' });
    assert.equal(bulkParse.status, 400);
    assert.deepEqual(Object.keys((await bulkParse.json()) as object).sort(), ['errorCode', 'errorDetails']);
    const noKey = await post('/ofrep/v1/evaluate/flags/everyone', { context: {} });
    assert.equal(noKey.status, 400);
    assert.equal(((await noKey.json()) as { errorCode: string }).errorCode, 'TARGETING_KEY_MISSING');
    const badCtx = await post('/ofrep/v1/evaluate/flags/everyone', { context: { targetingKey: { a: 1 } } });
    assert.equal(((await badCtx.json()) as { errorCode: string }).errorCode, 'INVALID_CONTEXT');
    const notFound = await post('/ofrep/v1/evaluate/flags/nope', { context: { targetingKey: 'x' } });
    assert.equal(notFound.status, 404);
    assert.deepEqual(await notFound.json(), { key: 'nope', errorCode: 'FLAG_NOT_FOUND', errorDetails: "Flag 'nope' was not found." });
    const noToken = await post('/ofrep/v1/evaluate/flags/everyone', { context: { targetingKey: 'x' } }, { 'x-api-key': '' });
    assert.equal(noToken.status, 401);
    const badToken = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'x' } }, { 'x-api-key': 'phc_nope' });
    assert.equal(badToken.status, 401);
    const personal = await post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'x' } }, { 'x-api-key': t.personalKey });
    assert.equal(personal.status, 403);
  });
});
