// /flags body decoding (spec §1.3) and every kind of bad input (spec §1.4, §10): clear 4xx, never a 5xx.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, addFlag, gzipSync, json, rollout, startTestApp, type TestApp } from './http-helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`/flags decoding and bad input (${kind} store)`, () => {
    let t: TestApp;
    let payload: string;

    before(async () => {
      // A small body limit keeps the oversized-body case cheap.
      t = await startTestApp(kind, { VEXIL_BODY_LIMIT_BYTES: String(256 * 1024), VEXIL_DECOMPRESSED_LIMIT_BYTES: String(4 * 1024 * 1024) });
      await addFlag(t, t.project.id, 'on', rollout(100));
      await addFlag(t, t.project.id, 'by-email', { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'exact', value: 'a@b.c' }] }] });
      payload = JSON.stringify({ token: t.project.token, distinct_id: 'u1', person_properties: { email: 'a@b.c' } });
    });
    after(async () => t.close());

    const ok = (res: { statusCode: number; body: string }) => {
      assert.equal(res.statusCode, 200, res.body);
      const b = json(res);
      assert.equal(b.flags.on.enabled, true);
      assert.equal(b.flags['by-email'].enabled, true);
    };
    const rejected = (res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number, text: RegExp) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.body, text);
    };
    const post = (body: string | Buffer, url = '/flags?v=2', headers: Record<string, string> = {}) =>
      t.app.server.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });

    test('plain JSON, text/plain and a missing content type', async () => {
      ok(await post(payload));
      ok(await post(payload, '/flags?v=2', { 'content-type': 'text/plain;charset=UTF-8' }));
      ok(await t.app.server.inject({ method: 'POST', url: '/flags?v=2', payload }));
    });

    test('gzip by compression=gzip / gzip-js, by Content-Encoding, and by magic bytes', async () => {
      const gz = gzipSync(payload);
      ok(await post(gz, '/flags?v=2&compression=gzip'));
      ok(await post(gz, '/flags?v=2&compression=GZIP-JS', { 'content-type': 'text/plain' }));
      ok(await post(gz, '/flags?v=2', { 'content-encoding': 'gzip' }));
      ok(await post(gz, '/flags?v=2'));
    });

    test('base64: by compression=base64, by fallback, percent-encoded, unpadded', async () => {
      const b64 = Buffer.from(payload).toString('base64');
      ok(await post(b64, '/flags?v=2&compression=base64'));
      ok(await post(b64));
      ok(await post(encodeURIComponent(b64)));
      ok(await post(b64.replace(/=+$/, '')));
    });

    test('form data=<base64> (old posthog-js), with or without the data= prefix', async () => {
      const b64 = Buffer.from(payload).toString('base64');
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      ok(await post(`data=${encodeURIComponent(b64)}`, '/flags?v=2', form));
      ok(await post(b64, '/flags?v=2', form));
      rejected(await post(`data=${b64}`, '/flags?v=2&compression=gzip', form), 400, /^Failed to decode request: Gzip compression not supported for form-urlencoded data/);
      rejected(await post('data=!!!not-base64!!!', '/flags?v=2', form), 400, /^Failed to decode request:/);
      rejected(await post(`data=${Buffer.from('{nope').toString('base64')}`, '/flags?v=2', form), 400, /invalid JSON structure/);
    });

    test('lenient JSON: bare NaN and ±Infinity become null', async () => {
      const body = `{"token":"${t.project.token}","distinct_id":"u1","person_properties":{"email":"a@b.c","n":NaN,"i":Infinity,"j":-Infinity,"s":"NaN"}}`;
      ok(await post(body));
    });

    test('malformed JSON, broken gzip and broken base64 are 400 with PostHog\'s sentence', async () => {
      rejected(await post('{"token": '), 400, /^Failed to decode request: invalid JSON\. Please check your request format and try again\.$/);
      rejected(await post(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3])), 400, /^Failed to decode request: gzip decompression failed/);
      rejected(await post('not gzip', '/flags?v=2&compression=gzip'), 400, /gzip decompression failed/);
      rejected(await post('%%%===', '/flags?v=2&compression=base64'), 400, /invalid JSON/);
      rejected(await post(payload, '/flags?v=2&compression=lz4'), 400, /^Failed to decode request: Unsupported compression type/);
      rejected(await post(payload, '/flags?v=2', { 'content-type': 'application/xml' }), 400, /^Failed to decode request: unsupported content type: application\/xml/);
      rejected(await post(payload, '/flags?v=2', { 'content-type': '///' }), 400, /unsupported content type/);
      assert.match(String((await post('{')).headers['content-type']), /^text\/plain/);
    });

    test('a gzip bomb stops at the decompressed-size cap with 413', async () => {
      const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
      assert.ok(bomb.length < 256 * 1024);
      rejected(await post(bomb, '/flags?v=2&compression=gzip'), 413, /exceeds the limit of 4194304 bytes/);
    });

    test('deep nesting and too many properties are 400, not a crash', async () => {
      const deep = `{"token":"${t.project.token}","distinct_id":"u","person_properties":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
      rejected(await post(deep), 400, /nested more than 64 levels/);
      const props = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`p${i}`, 1]));
      const many = gzipSync(JSON.stringify({ token: t.project.token, distinct_id: 'u', person_properties: props }));
      rejected(await post(many, '/flags?v=2&compression=gzip'), 400, /more than 10000 properties/);
    });

    test('an oversized body is 413 naming the limit', async () => {
      const big = JSON.stringify({ token: t.project.token, distinct_id: 'u', pad: 'x'.repeat(300 * 1024) });
      rejected(await post(big), 413, /limit of 262144 bytes/);
    });

    test('wrong field types are 400 naming the field', async () => {
      const base = { token: t.project.token, distinct_id: 'u' };
      rejected(await post(JSON.stringify({ ...base, person_properties: 'x' })), 400, /^Failed to parse request: person_properties must be an object/);
      rejected(await post(JSON.stringify({ ...base, groups: [1] })), 400, /groups must be an object/);
      rejected(await post(JSON.stringify({ ...base, group_properties: { company: 3 } })), 400, /group_properties\.company must be an object/);
      rejected(await post(JSON.stringify({ ...base, flag_keys_to_evaluate: 'on' })), 400, /flag_keys_to_evaluate must be a list of strings/);
      rejected(await post(JSON.stringify({ ...base, distinct_id: { a: 1 } })), 400, /distinct_id must be a string or a number/);
      rejected(await post(JSON.stringify({ ...base, token: 42 })), 400, /token must be a string/);
      rejected(await post(JSON.stringify({ ...base, disable_flags: 'yes' })), 400, /disable_flags must be a boolean/);
      rejected(await post('[1,2,3]'), 400, /must be a JSON object/);
      rejected(await post('"just a string"'), 400, /must be a JSON object/);
    });

    test('token and distinct_id errors: PostHog\'s plain-text 401/400 sentences, token checked first', async () => {
      rejected(await post(JSON.stringify({ distinct_id: 'u' })), 401, /^No API token provided\. Please include a valid API token in your request\.$/);
      rejected(await post(JSON.stringify({ token: '', distinct_id: 'u' })), 401, /^No API token provided/);
      rejected(await post(JSON.stringify({ token: 'phc_unknown', distinct_id: 'u' })), 401, /^The provided API key is invalid or has expired\. Please check your API key and try again\.$/);
      rejected(await post(JSON.stringify({ token: 'phc_unknown' })), 401, /invalid or has expired/);
      rejected(await post(JSON.stringify({ token: t.project.token })), 400, /^The distinct_id field is missing from the request\. Please include a valid identifier\.$/);
      rejected(await post(JSON.stringify({ token: t.project.token, distinct_id: null })), 400, /distinct_id field is missing/);
      rejected(await post(''), 400, /invalid JSON/);
      const emptyId = json(await post(JSON.stringify({ token: t.project.token, distinct_id: '' })));
      assert.ok(emptyId.flags, 'an empty distinct_id is accepted, as current PostHog does');
    });

    test('unknown routes are 404 JSON', async () => {
      const res = await t.app.server.inject({ method: 'POST', url: '/flagz', payload });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(json(res), { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    });
  });
}
