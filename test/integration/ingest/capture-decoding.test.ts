/**
 * @module test/integration/ingest/capture-decoding.test
 * Capture endpoints accept every body PostHog SDKs send (spec §9): single events and batches,
 * JSON, gzip, base64, form `data=`, LZ64, GET `?data=`, the token wherever SDKs put it; and
 * reject bad requests with the capture error shape, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { compressToBase64 } from '../../helpers/lz-string-compress.ts';
import { capture, json, propsOf, startIngestApp, STORE_KINDS, type IngestApp } from './ingest-harness.ts';

/** PostHog's own fixture (posthog/api/test/test_capture.py `test_lz64_with_emoji`): one event named 🤓. */
const POSTHOG_LZ64_FIXTURE =
  'NoKABBYN4EQKYDc4DsAuMBcYaD4NwyLswA0MADgE4D2JcZqAlnAM6bQwAkFzWMAsgIYBjMAHkAymAAaRdgCNKAd0Y0WMAMIALSgFs40tgICuZMilQB9IwBsV61KhIYA9I4CMAJgDsAOgAMvry4YABw+oY4AJnBaFHrqnOjc7t5+foEhoXokfKjqyHw6KhFRMcRschSKNGZIZIx0FMgsQQBspYwCJihm6nB0AOa2LC4+AKw+bR1wXfJ04TlDzSGllnQyKvJwa8ur1TR1DSou/j56dMhKtGaz6wBeAJ4GQagALPJ8buo3I8iLevQFWBczVGIxGAGYPABONxeMGQlzEcJ0Rj0ZACczXbg3OCQgBCyFxAlxAE1iQBBADSAC0ANYAVT4NIAKmDRC4eAA5AwAMUYABkAJIAcQMPCouOeZCCAFotAA1cLNeR6SIIOgCOBXcKHDwjSFBNyQnzA95BZ7SnxuAQjFwuABmYKCAg8bh8MqBYLgzRcIzc0pcfDgfD4Pn9uv1huNPhkwxGegMFy1KmxeIJRNJlNpDOZrPZXN5gpFYpIEqlsoVStOyDo9D4ljMJjtNBMZBsdgcziSxwCwVCPkclgofTOAH5kHAAB6oAC8jirNbodYbcCbxjOfTM4QoWj4Z0Onm7aT70hI8TiG5q+0aiQCzV80nUfEYZkYlkENLMGxkcQoNJYdrrJRSkEegkDMJtsiMTU7TfPouDAUBIGwED6nOaUDAnaVXWGdwYBAABdYhUF/FAVGpKkqTgAUSDuAQ+QACWlVAKQoGQ+VxABRJk3A5YQ+g8eQ+gAKW5NwKQARwAET5EY7gAdTpMwPFQKllQAX2ICg7TtJQEjAMFQmeNSCKAA==';
const FIXTURE_TOKEN = 'KZZZeIpycLH-tKobLBET2NOg7wgJF2KqDL5yWU_7tZw';
const FIXTURE_DISTINCT_ID = 'ze9BnBcBYYAKZkUakT3S1MNuFsLIGuMopB4r8-mVd6w';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');
const form = { 'content-type': 'application/x-www-form-urlencoded' };

for (const kind of STORE_KINDS) {
  describe(`capture decoding (${kind})`, () => {
    let t: IngestApp;
    before(async () => {
      t = await startIngestApp(kind, { bodyLimitBytes: 64 * 1024, maxDecompressedBytes: 1024 * 1024 });
    });
    after(async () => {
      await t?.close();
    });

    const event = (distinctId: string, plan: string) => ({ event: '$set', distinct_id: distinctId, properties: { $set: { plan } } });

    test('a single event on /capture/ with api_key answers 200 {"status":"Ok"} and stores $set', async () => {
      const res = await capture(t, { api_key: t.a.token, ...event('single', 'pro') }, '/capture/');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(json(res), { status: 'Ok' });
      assert.deepEqual(await propsOf(t, t.a.id, 'single'), { plan: 'pro' });
    });

    test('every capture path, with and without the trailing slash', async () => {
      for (const path of ['/capture', '/batch', '/e', '/i/v0/e', '/track', '/engage']) {
        for (const url of [path, `${path}/`]) {
          const id = `path${url.replaceAll('/', '_')}`;
          const res = await capture(t, { api_key: t.a.token, batch: [event(id, url)] }, url);
          assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
          assert.deepEqual(await propsOf(t, t.a.id, id), { plan: url });
        }
      }
    });

    test('a batch object, a bare array with event tokens, and properties.token', async () => {
      assert.equal((await capture(t, { api_key: t.a.token, batch: [event('b1', 'x'), event('b2', 'y')] })).statusCode, 200);
      assert.equal((await capture(t, [{ ...event('arr1', 'x'), token: t.a.token }, { ...event('arr2', 'y'), api_key: t.a.token }], '/e/')).statusCode, 200);
      const inProps = { event: 'x', distinct_id: 'inprops', properties: { token: t.a.token, $set: { k: 1 } } };
      assert.equal((await capture(t, inProps, '/e/')).statusCode, 200);
      for (const id of ['b1', 'b2', 'arr1', 'arr2', 'inprops']) assert.notEqual(await propsOf(t, t.a.id, id), null, id);
    });

    test('token in the query string (?token= and ?api_key=) and $token on /engage', async () => {
      assert.equal((await capture(t, event('q1', 'a'), `/e/?token=${t.a.token}`)).statusCode, 200);
      assert.equal((await capture(t, [event('q2', 'b')], `/batch/?api_key=${t.a.token}`)).statusCode, 200);
      // Legacy engage payload: no event name, $token, $distinct_id and a top-level $set.
      const engage = { $set: { $os: 'Mac OS X' }, $token: t.a.token, $distinct_id: 3 };
      assert.equal((await capture(t, engage, '/engage/')).statusCode, 200);
      assert.deepEqual(await propsOf(t, t.a.id, 'q1'), { plan: 'a' });
      assert.deepEqual(await propsOf(t, t.a.id, 'q2'), { plan: 'b' });
      assert.deepEqual(await propsOf(t, t.a.id, '3'), { $os: 'Mac OS X' });
    });

    test('gzip by header, by ?compression=gzip-js with text/plain, and by magic bytes alone', async () => {
      const body = (id: string) => gzipSync(JSON.stringify({ api_key: t.a.token, batch: [event(id, 'gz')] }));
      const cases: Array<[string, string, Record<string, string>]> = [
        ['gz1', '/batch/', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
        ['gz2', '/e/?compression=gzip-js', { 'content-type': 'text/plain' }],
        ['gz3', '/e/', { 'content-type': 'text/plain' }],
        ['gz4', '/e/', {}],
      ];
      for (const [id, url, headers] of cases) {
        const res = await capture(t, body(id), url, headers);
        assert.equal(res.statusCode, 200, `${id}: ${res.body}`);
        assert.deepEqual(await propsOf(t, t.a.id, id), { plan: 'gz' });
      }
    });

    test('base64 bodies, form data= (base64 with + as space, or plain JSON) with api_key as a form field', async () => {
      assert.equal((await capture(t, b64({ api_key: t.a.token, ...event('b64', 'x') }), '/e/', { 'content-type': 'text/plain' })).statusCode, 200);
      const payload = { event: '$pageview', properties: { distinct_id: 'eeeeeeegϥeeeee', $set: { via: 'form' } } };
      const encoded = b64(payload);
      assert.ok(encoded.includes('+'), 'the fixture must contain a + to test the space substitution');
      for (const data of [encodeURIComponent(encoded), encoded.replaceAll('+', ' ')]) {
        const res = await capture(t, `data=${data}&api_key=${t.a.token}`, '/track/', form);
        assert.equal(res.statusCode, 200, res.body);
      }
      assert.deepEqual(await propsOf(t, t.a.id, 'eeeeeeegϥeeeee'), { via: 'form' });
      const plain = `data=${encodeURIComponent(JSON.stringify([{ event: 'beep', properties: { distinct_id: 'plainform', $set: { a: 1 } } }]))}&api_key=${t.a.token}`;
      assert.equal((await capture(t, plain, '/track/', form)).statusCode, 200);
      assert.deepEqual(await propsOf(t, t.a.id, 'plainform'), { a: 1 });
    });

    test('LZ64: PostHog fixture with Content-Encoding lz64, and posthog-react-native form mode', async () => {
      await t.store.createProject({ name: 'fixture', apiToken: FIXTURE_TOKEN, secretTokenHash: 'b'.repeat(64) });
      const res = await capture(t, POSTHOG_LZ64_FIXTURE, '/batch', { 'content-type': 'application/json', 'content-encoding': 'lz64' });
      assert.equal(res.statusCode, 200, res.body);
      const project = await t.store.getProjectByApiToken(FIXTURE_TOKEN);
      assert.notEqual(await t.store.getPersonByDistinctId(project!.id, FIXTURE_DISTINCT_ID), null);

      const batch = { api_key: t.a.token, batch: [event('lzform', 'lz ü 🤓')] };
      const body = `data=${encodeURIComponent(compressToBase64(JSON.stringify(batch)))}&compression=lz64`;
      assert.equal((await capture(t, body, '/e/?ip=1&_=1700000000000&v=3.0.0', form)).statusCode, 200);
      assert.deepEqual(await propsOf(t, t.a.id, 'lzform'), { plan: 'lz ü 🤓' });
      const q = await capture(t, `data=${encodeURIComponent(compressToBase64(JSON.stringify({ ...event('lzq', 'q'), api_key: t.a.token })))}`, '/e/?compression=lz64', form);
      assert.equal(q.statusCode, 200, q.body);
    });

    test('GET /e/?data= with unpadded base64 or url-encoded JSON', async () => {
      const unpadded = b64({ event: 'x', properties: { token: t.a.token, distinct_id: 'getb64', $set: { g: 1 } } }).replace(/=+$/, '');
      assert.equal((await t.app.inject({ method: 'GET', url: `/e/?data=${encodeURIComponent(unpadded)}` })).statusCode, 200);
      const plain = encodeURIComponent(JSON.stringify({ event: 'x', properties: { token: t.a.token, distinct_id: 'getjson', $set: { g: 2 } } }));
      assert.equal((await t.app.inject({ method: 'GET', url: `/capture/?data=${plain}` })).statusCode, 200);
      assert.deepEqual(await propsOf(t, t.a.id, 'getb64'), { g: 1 });
      assert.deepEqual(await propsOf(t, t.a.id, 'getjson'), { g: 2 });
      assert.equal((await t.app.inject({ method: 'GET', url: '/e/?data=' })).statusCode, 400);
    });

    test('missing, unknown, personal-key and inconsistent tokens are 401 in the capture error shape', async () => {
      const missing = await capture(t, { batch: [event('nt', 'x')] });
      assert.equal(missing.statusCode, 401);
      assert.equal(json(missing).status, 401);
      assert.equal(json(missing).code, 'missing_authorization');
      assert.match(json(missing).error, /No API token/);
      const unknown = await capture(t, { api_key: 'phc_unknown', batch: [event('nt', 'x')] });
      assert.deepEqual([unknown.statusCode, json(unknown).code], [401, 'invalid_api_token']);
      const personal = await capture(t, { api_key: 'phx_secret', batch: [event('nt', 'x')] });
      assert.deepEqual([personal.statusCode, json(personal).code], [401, 'invalid_api_token']);
      const mixed = await capture(t, [{ ...event('m1', 'x'), token: t.a.token }, { ...event('m2', 'x'), token: t.b.token }]);
      assert.deepEqual([mixed.statusCode, json(mixed).code], [401, 'multiple_tokens']);
      assert.equal(await propsOf(t, t.a.id, 'm1'), null);
      assert.equal(await propsOf(t, t.b.id, 'm2'), null);
    });

    test('bad JSON, bad gzip, bad base64, empty batch and non-object bodies are 400; oversize is 413', async () => {
      const cases: Array<[string | Buffer, Record<string, string>, string]> = [
        ['{"event": "trailing comma",}', { 'content-type': 'application/json' }, 'request_decoding_error'],
        [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), { 'content-type': 'text/plain' }, 'request_decoding_error'],
        ['data=%%%not-base64!!', form, 'request_decoding_error'],
        [JSON.stringify({ api_key: t.a.token, batch: [] }), { 'content-type': 'application/json' }, 'empty_batch'],
        [JSON.stringify({ api_key: t.a.token, batch: 'nope' }), { 'content-type': 'application/json' }, 'request_decoding_error'],
        ['42', { 'content-type': 'application/json' }, 'request_decoding_error'],
        ['', { 'content-type': 'application/json' }, 'request_decoding_error'],
      ];
      for (const [body, headers, code] of cases) {
        const res = await capture(t, body, '/e/', headers);
        assert.equal(res.statusCode, 400, `${String(body).slice(0, 20)}: ${res.body}`);
        const b = json(res);
        assert.equal(b.status, 400);
        assert.equal(b.code, code);
        assert.equal(typeof b.error, 'string');
      }
      const big = await capture(t, { api_key: t.a.token, batch: [event('big', 'x'.repeat(70 * 1024))] });
      assert.deepEqual([big.statusCode, json(big).code, json(big).status], [413, 'payload_too_large', 413]);
      // Small on the wire, over the 1 MiB decompressed limit once inflated.
      const bomb = gzipSync(JSON.stringify({ api_key: t.a.token, batch: [event('bomb', '0'.repeat(2 * 1024 * 1024))] }));
      assert.ok(bomb.length < 64 * 1024);
      const bombRes = await capture(t, bomb, '/batch/', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.deepEqual([bombRes.statusCode, json(bombRes).code], [413, 'payload_too_large']);
      assert.equal(await propsOf(t, t.a.id, 'bomb'), null);
    });

    test('counts events by kind in vexil_capture_events_total', async () => {
      await capture(t, { api_key: t.a.token, batch: [{ event: '$pageview', distinct_id: 'metric' }, { event: 'x' }] });
      const text = await t.metrics.registry.getSingleMetricAsString('vexil_capture_events_total');
      assert.match(text, /vexil_capture_events_total\{kind="other"\} \d+/);
      assert.match(text, /vexil_capture_events_total\{kind="invalid"\} \d+/);
    });
  });
}
