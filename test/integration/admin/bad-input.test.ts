/**
 * @module test/integration/admin/bad-input.test
 * Malformed, oversized, deeply nested, mistyped and random bodies on every admin endpoint get a
 * clear 4xx in the DRF shape, never a 5xx, on both store backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, createCohort, createFlag, flagBody, openAdmin, type AdminHarness, type Reply } from './admin-harness.ts';

const BODY_LIMIT = 64 * 1024;

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random JSON value biased towards the shapes the admin API reads. */
function randomValue(rand: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (depth > 4 || r < 0.35) {
    return pick([null, true, false, 0, -1, 1.5, 1e308, '', 'x', 'AND', 'exact', 'flag', 'cohort', '12', '💥', 'a\u0000', '\ud800', 'is_date_before', '-7d', [], {}]);
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const keys = ['key', 'name', 'filters', 'groups', 'properties', 'values', 'type', 'value', 'operator', 'variant', 'multivariate',
    'variants', 'rollout_percentage', 'payloads', 'active', 'deleted', 'is_static', 'person_ids', 'distinct_ids', 'person_id',
    'aggregation_group_type_index', 'scopes', 'label', 'timezone', 'version', 'tags', 'evaluation_tags', '__proto__', 'constructor'];
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) out[pick(keys)] = randomValue(rand, depth + 1);
  return out;
}

/** Mutates a valid body: drops, retypes or replaces one nested value. */
function mutate(rand: () => number, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return randomValue(rand);
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  const keys = Object.keys(copy);
  if (keys.length === 0) return randomValue(rand);
  const k = keys[Math.floor(rand() * keys.length)]!;
  const r = rand();
  if (r < 0.2) delete copy[k];
  else if (r < 0.6) copy[k] = mutate(rand, copy[k]);
  else copy[k] = randomValue(rand);
  return copy;
}

function assertClientError(res: Reply, what: string): void {
  assert.ok(res.status < 500, `${what}: got ${res.status} ${res.raw}`);
  if (res.status >= 400) assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['attr', 'code', 'detail', 'type'], `${what}: ${res.raw}`);
}

for (const kind of STORE_KINDS) {
  describe(`admin bad input (${kind})`, () => {
    let h: AdminHarness;
    let pid: number;
    let flagId: number;
    let cohortId: number;
    let staticId: number;
    before(async () => {
      h = await openAdmin(kind, { bodyLimitBytes: BODY_LIMIT });
      pid = (await h.makeProject('Fuzz')).id;
      flagId = (await createFlag(h, pid, flagBody('fuzz-target'))).id;
      cohortId = (await createCohort(h, pid, 'Fuzz cohort')).id;
      staticId = (await h.call('POST', `/api/projects/${pid}/cohorts/`, { body: { name: 'Fuzz static', is_static: true } })).body.id;
    });
    after(async () => h.close());

    const writeEndpoints = (): Array<[string, string]> => [
      ['POST', '/api/projects/'],
      ['PATCH', `/api/projects/${pid}/rotate_secret_token/`],
      ['POST', '/api/personal_api_keys/'],
      ['POST', `/api/projects/${pid}/feature_flags/`],
      ['PATCH', `/api/projects/${pid}/feature_flags/${flagId}/`],
      ['PUT', `/api/projects/${pid}/feature_flags/${flagId}/`],
      ['POST', `/api/projects/${pid}/cohorts/`],
      ['PATCH', `/api/projects/${pid}/cohorts/${cohortId}/`],
      ['PATCH', `/api/projects/${pid}/cohorts/${staticId}/add_persons_to_static_cohort/`],
      ['PATCH', `/api/projects/${pid}/cohorts/${staticId}/remove_person_from_static_cohort/`],
    ];

    test('malformed JSON is 400 parse_error on every write endpoint', async () => {
      for (const [method, url] of writeEndpoints()) {
        for (const raw of ['{', '{"key": }', 'nul', '{"a":1}}', '\u0000']) {
          const res = await h.call(method, url, { rawBody: raw, headers: { 'content-type': 'application/json' } });
          assertDrfError(res, 400, { type: 'invalid_request', code: 'parse_error', attr: null, detail: /^JSON parse error - / });
        }
      }
    });

    test('multipart bodies, malformed or not, are never a 5xx on any write endpoint', async () => {
      const fd = new FormData();
      fd.append('key', 'from-a-form');
      fd.append('filters', '{"groups": [');
      fd.append('csv', new Blob(['a\nb']), 'x.csv');
      const wellFormed = new Response(fd);
      const bodies: Array<[string, string | Buffer]> = [
        ['multipart/form-data', 'no boundary'],
        ['multipart/form-data; boundary=XYZ', 'garbage'],
        ['multipart/form-data; boundary=XYZ', '--XYZ\r\nContent-Disposition: form-data; name="csv"; filename="a.csv"\r\n\r\nunterminated'],
        [wellFormed.headers.get('content-type')!, Buffer.from(await wellFormed.arrayBuffer())],
      ];
      for (const [method, url] of writeEndpoints()) {
        for (const [contentType, payload] of bodies) {
          const res = await h.app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${h.rootKey}`, 'content-type': contentType } });
          assert.ok(res.statusCode < 500, `${method} ${url} with ${contentType.slice(0, 40)} ⇒ ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) assert.ok(JSON.parse(res.body).detail, res.body);
        }
      }
    });

    test('JSON that is not an object is DRF\'s "Expected a dictionary" error', async () => {
      for (const [raw, type] of [['[]', 'list'], ['"x"', 'str'], ['42', 'int'], ['true', 'bool']]) {
        const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: raw, headers: { 'content-type': 'application/json' } });
        assertDrfError(res, 400, { type: 'validation_error', code: 'invalid_input', attr: null, detail: `Invalid data. Expected a dictionary, but got ${type}.` });
      }
    });

    test('an empty body is no data: required fields are reported', async () => {
      const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: '', headers: { 'content-type': 'application/json' } });
      assertDrfError(res, 400, { code: 'required', attr: 'key' });
      assertDrfError(await h.call('POST', `/api/projects/${pid}/feature_flags/`), 400, { code: 'required', attr: 'key' });
    });

    test('bodies over the limit are 413 payload_too_large', async () => {
      const big = JSON.stringify(flagBody('big', { name: 'x'.repeat(BODY_LIMIT) }));
      const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: big, headers: { 'content-type': 'application/json' } });
      assertDrfError(res, 413, { type: 'invalid_request', code: 'payload_too_large' });
    });

    test('JSON nested thousands of levels deep is a 400, not a crash', async () => {
      const deep = `{"key":"deep","filters":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: deep, headers: { 'content-type': 'application/json' } });
      assertDrfError(res, 400, { code: 'parse_error', detail: /nesting deeper than 64 levels/ });
      const payloadBomb = { ...flagBody('deep-payload'), filters: { groups: [{}], payloads: { true: JSON.parse(`${'['.repeat(60)}${']'.repeat(60)}`) } } };
      assert.ok((await h.call('POST', `/api/projects/${pid}/feature_flags/`, { body: payloadBomb })).status < 500);
    });

    test('NUL characters and unpaired surrogates (which PostgreSQL cannot store) are 400s', async () => {
      const F = `/api/projects/${pid}/feature_flags/`;
      for (const body of [flagBody('nul', { name: 'a\u0000b' }), { key: 'k\u0000' }, flagBody('nul2', { filters: { groups: [{ properties: [{ key: 'e\u0000', value: 'v' }] }] } })]) {
        assertDrfError(await h.call('POST', F, { body }), 400, { type: 'validation_error', code: 'null_characters_not_allowed', detail: 'Null characters are not allowed.' });
      }
      assertDrfError(await h.call('POST', '/api/projects/', { body: { name: '\u0000' } }), 400, { code: 'null_characters_not_allowed' });
      assertDrfError(await h.call('GET', `${F}?search=a%00b`), 400, { code: 'null_characters_not_allowed', attr: 'search' });
      for (const body of [flagBody('sur', { name: 'x\ud800' }), flagBody('sur2', { filters: { groups: [{ properties: [{ key: 'k', value: '\udc00y' }] }] } })]) {
        assertDrfError(await h.call('POST', F, { body }), 400, { code: 'parse_error', detail: /unpaired surrogate/ });
      }
    });

    test('other content types are 415 unsupported_media_type (multipart forms are read: see above)', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: 'key=x', headers: { 'content-type': type } });
        assertDrfError(res, 415, { type: 'invalid_request', code: 'unsupported_media_type', detail: `Unsupported media type "${type}" in request.` });
      }
    });

    test('unknown /api routes are a DRF 404', async () => {
      for (const url of ['/api/nothing', `/api/projects/${pid}/experiments/`, `/api/projects/${pid}/feature_flags/${flagId}/nope/`]) {
        assertDrfError(await h.call('GET', url), 404, { type: 'invalid_request', code: 'not_found', detail: 'Not found.' });
      }
    });

    test('prototype keys in bodies are inert', async () => {
      const raw = '{"key":"proto","__proto__":{"active":false},"constructor":{"prototype":{"x":1}}}';
      const res = await h.call('POST', `/api/projects/${pid}/feature_flags/`, { rawBody: raw, headers: { 'content-type': 'application/json' } });
      assert.ok(res.status === 400 || res.status === 201, res.raw);
      assert.equal(({} as any).x, undefined);
    });

    test('thousands of random and mutated bodies never produce a 5xx', async () => {
      const rand = prng(20240601);
      const seeds: unknown[] = [
        flagBody('seed', { filters: { groups: [{ properties: [{ key: 'email', operator: 'icontains', value: 'x' }], rollout_percentage: 50, variant: 'a' }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] }, payloads: { a: '{}' } } }),
        { name: 'c', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ type: 'person', key: 'k', operator: 'exact', value: 'v' }, { type: 'cohort', key: 'id', value: cohortId }] }] } } },
        { person_ids: ['00000000-0000-4000-8000-000000000000'], distinct_ids: ['a'] },
        { label: 'k', scopes: ['feature_flag:read'], scoped_teams: [pid] },
        { name: 'p', timezone: 'UTC' },
      ];
      const endpoints = writeEndpoints();
      for (let i = 0; i < 1500; i++) {
        const [method, url] = endpoints[i % endpoints.length]!;
        const body = rand() < 0.5 ? randomValue(rand) : mutate(rand, mutate(rand, seeds[Math.floor(rand() * seeds.length)]));
        const res = await h.call(method, url, { rawBody: JSON.stringify(body) ?? 'null', headers: { 'content-type': 'application/json' } });
        assertClientError(res, `#${i} ${method} ${url} ${JSON.stringify(body)}`);
      }
      const still = await h.call('GET', `/api/projects/${pid}/feature_flags/?limit=1000`);
      assert.equal(still.status, 200);
    });
  });
}
