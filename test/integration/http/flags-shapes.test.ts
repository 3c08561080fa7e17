// /flags and /decide: every response shape and version rule (spec §1.1, §1.2, §1.5–1.8), request fields and filters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, TEST_NOW, addFlag, json, postFlags, rollout, startTestApp, type TestApp } from './http-helpers.ts';

const REQUEST_ID = '0b7e5b7e-1c3a-4f0e-9b7d-2a3c4d5e6f70';
const CONFIG_KEYS = ['hasFeatureFlags', 'supportedCompression', 'sessionRecording', 'surveys', 'heatmaps', 'capturePerformance', 'autocaptureExceptions', 'isAuthenticated', 'toolbarParams', 'config'];

for (const kind of STORE_KINDS) {
  describe(`/flags response shapes (${kind} store)`, () => {
    let t: TestApp;
    let body: Record<string, unknown>;
    const ids: Record<string, number> = {};

    before(async () => {
      t = await startTestApp(kind);
      const pid = t.project.id;
      // Hashes from spec §3.4: beta-feature/some-distinct-id = 0.3435; multivariate/some-distinct-id variant 0.4757 ⇒ control.
      ids.beta = await addFlag(t, pid, 'beta-feature', { ...rollout(35), payloads: { true: '{"color":"blue"}' } });
      ids.off = await addFlag(t, pid, 'beta-off', rollout(0));
      ids.multi = await addFlag(t, pid, 'multivariate-flag', {
        groups: [{ properties: [], rollout_percentage: 100 }],
        multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'test', rollout_percentage: 25 }, { key: 'test2', rollout_percentage: 25 }] },
        payloads: { control: '"plain text"' },
      });
      await addFlag(t, pid, 'inactive-flag', rollout(100), { active: false });
      await addFlag(t, pid, 'server-only', rollout(100), { evaluationRuntime: 'server' });
      await addFlag(t, pid, 'client-only', rollout(100), { evaluationRuntime: 'client' });
      await addFlag(t, pid, 'tagged', rollout(100), { evaluationTags: ['checkout'] });
      await addFlag(t, pid, 'survey-targeting-abc', rollout(100));
      await addFlag(t, pid, 'by-distinct-id', { groups: [{ properties: [{ key: 'distinct_id', type: 'person', operator: 'exact', value: ['8675309'] }] }] });
      body = { token: t.project.token, distinct_id: 'some-distinct-id' };
    });
    after(async () => t.close());

    test('v2: flags with key, enabled, variant, reason, metadata; requestId echoed; evaluatedAt from the clock', async () => {
      const res = await postFlags(t, body, '/flags?v=2', { 'x-request-id': REQUEST_ID });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const b = json(res);
      assert.equal(b.requestId, REQUEST_ID);
      assert.equal(b.evaluatedAt, TEST_NOW);
      assert.equal(b.errorsWhileComputingFlags, false);
      assert.deepEqual(b.flags['beta-feature'], {
        key: 'beta-feature',
        enabled: true,
        variant: null,
        reason: { code: 'condition_match', condition_index: 0, description: 'Matched condition set 1' },
        metadata: { id: ids.beta, version: 1, description: null, payload: { color: 'blue' }, has_experiment: false },
      });
      assert.deepEqual(b.flags['beta-off'].reason, { code: 'out_of_rollout_bound', condition_index: 0, description: 'Out of rollout bound' });
      assert.equal(b.flags['beta-off'].enabled, false);
      assert.equal(b.flags['multivariate-flag'].variant, 'control');
      assert.equal(b.flags['multivariate-flag'].metadata.payload, 'plain text');
      assert.equal(b.flags['inactive-flag'], undefined, 'inactive flags are omitted');
      for (const k of CONFIG_KEYS) assert.ok(!(k in b), `no ${k} without config`);
    });

    test('/flags with neither v nor config answers v2 with config extras', async () => {
      const b = json(await postFlags(t, body, '/flags'));
      assert.ok(b.flags);
      for (const k of CONFIG_KEYS) assert.ok(k in b, `has ${k}`);
      assert.equal(b.hasFeatureFlags, true);
      assert.deepEqual(b.supportedCompression, ['gzip', 'gzip-js']);
      assert.deepEqual(b.config, { enable_collect_everything: true });
    });

    test('only one of v/config present: no defaulting (config=false ⇒ v1; v=1 ⇒ v1 without config)', async () => {
      for (const url of ['/flags?config=false', '/flags?v=1', '/flags?v=abc', '/flags?v=&config=0', '/flags/?v=0']) {
        const b = json(await postFlags(t, body, url));
        assert.ok(b.featureFlags, `${url} is v1`);
        assert.ok(!('hasFeatureFlags' in b), `${url} has no config`);
      }
      const withConfig = json(await postFlags(t, body, '/flags?config=true'));
      assert.ok(withConfig.featureFlags && withConfig.hasFeatureFlags === true);
      const emptyV = json(await postFlags(t, body, '/flags?v='));
      assert.ok(emptyV.flags && emptyV.config, 'an empty v counts as absent');
      const v3 = json(await postFlags(t, body, '/flags?v=3&config=1'));
      assert.ok(v3.flags && v3.config);
    });

    test('v1: all flags with boolean or variant values; payloads as stored, only when set', async () => {
      const b = json(await postFlags(t, body, '/flags/?v=1'));
      assert.equal(b.featureFlags['beta-feature'], true);
      assert.equal(b.featureFlags['beta-off'], false);
      assert.equal(b.featureFlags['multivariate-flag'], 'control');
      assert.deepEqual(b.featureFlagPayloads, { 'beta-feature': '{"color":"blue"}', 'multivariate-flag': '"plain text"' });
      assert.equal(b.errorsWhileComputingFlags, false);
      assert.equal(typeof b.requestId, 'string');
    });

    test('/decide: v1 enabled keys, v2 enabled values, v3 legacy, v4 flags; config on unless config=false', async () => {
      const v1 = json(await postFlags(t, body, '/decide'));
      assert.ok(Array.isArray(v1.featureFlags));
      assert.ok(v1.featureFlags.includes('beta-feature') && !v1.featureFlags.includes('beta-off'));
      assert.ok(!('errorsWhileComputingFlags' in v1));
      assert.equal(v1.hasFeatureFlags, true);
      const v2 = json(await postFlags(t, body, '/decide/?v=2'));
      assert.equal(v2.featureFlags['multivariate-flag'], 'control');
      assert.ok(!('beta-off' in v2.featureFlags));
      const v3 = json(await postFlags(t, body, '/decide?v=3'));
      assert.equal(v3.featureFlags['beta-off'], false);
      assert.ok('featureFlagPayloads' in v3 && v3.config);
      const v4 = json(await postFlags(t, body, '/decide?v=4'));
      assert.equal(v4.flags['beta-feature'].enabled, true);
      const noConfig = json(await postFlags(t, body, '/decide?v=2&config=false'));
      assert.ok(!('config' in noConfig));
    });

    test('GET never evaluates; HEAD is empty; OPTIONS 204; other methods 405 with allow', async () => {
      const get = await t.app.server.inject({ method: 'GET', url: '/flags?v=2' });
      assert.equal(get.statusCode, 200);
      const g = json(get);
      assert.deepEqual(g.flags, {});
      assert.equal(g.errorsWhileComputingFlags, false);
      assert.deepEqual(g.supportedCompression, ['gzip', 'gzip-js']);
      assert.equal(g.isAuthenticated, false);
      assert.deepEqual(json(await t.app.server.inject({ method: 'GET', url: '/decide' })).featureFlags, {});
      const head = await t.app.server.inject({ method: 'HEAD', url: '/flags' });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      assert.match(String(head.headers['content-type']), /application\/json/);
      const options = await t.app.server.inject({ method: 'OPTIONS', url: '/flags/' });
      assert.equal(options.statusCode, 204);
      assert.equal(options.headers.allow, 'GET, POST, OPTIONS, HEAD');
      for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
        const res = await t.app.server.inject({ method, url: '/decide/' });
        assert.equal(res.statusCode, 405);
        assert.equal(res.headers.allow, 'GET, POST, OPTIONS, HEAD');
      }
    });

    test('CORS mirrors the origin with credentials, also on preflight', async () => {
      const res = await postFlags(t, body, '/flags', { origin: 'https://app.example' });
      assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      const pre = await t.app.server.inject({
        method: 'OPTIONS',
        url: '/flags/?v=2',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-custom' },
      });
      assert.equal(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-headers'], 'content-type,x-custom');
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    });

    test('an invalid X-Request-Id is replaced by a fresh UUID', async () => {
      const b = json(await postFlags(t, body, '/flags?v=2', { 'x-request-id': 'not-a-uuid' }));
      assert.match(b.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    test('disable_flags: empty flags, config still present', async () => {
      const b = json(await postFlags(t, { ...body, disable_flags: true }, '/flags'));
      assert.deepEqual(b.flags, {});
      assert.equal(b.hasFeatureFlags, true);
    });

    test('flag_keys_to_evaluate (and its alias flag_keys) restricts the flags', async () => {
      const b = json(await postFlags(t, { ...body, flag_keys_to_evaluate: ['beta-feature'] }));
      assert.deepEqual(Object.keys(b.flags), ['beta-feature']);
      const alias = json(await postFlags(t, { ...body, flag_keys: ['beta-off', 'missing'] }));
      assert.deepEqual(Object.keys(alias.flags), ['beta-off']);
    });

    test('body aliases and the token in the query are accepted', async () => {
      const viaAliases = json(await postFlags(t, { api_key: t.project.token, $distinct_id: 8675309, $properties: {} }));
      assert.equal(viaAliases.flags['by-distinct-id'].enabled, true, 'numeric distinct_id is stringified');
      const dollarToken = json(await postFlags(t, { $token: t.project.token, distinct_id: 'x' }));
      assert.ok(dollarToken.flags);
      const inQuery = json(await postFlags(t, { distinct_id: 'x' }, `/flags?v=2&token=${t.project.token}`));
      assert.ok(inQuery.flags['beta-feature']);
    });

    test('a distinct_id over 200 characters is truncated to its first 200', async () => {
      const long = '😀'.repeat(250);
      await addFlag(t, t.project.id, 'long-id', { groups: [{ properties: [{ key: 'distinct_id', type: 'person', operator: 'exact', value: ['😀'.repeat(200)] }] }] });
      const b = json(await postFlags(t, { token: t.project.token, distinct_id: long }));
      assert.equal(b.flags['long-id'].enabled, true);
    });

    test('evaluation_runtime: explicit value, User-Agent inference, unknown runtime keeps only unrestricted flags', async () => {
      const node = json(await postFlags(t, body, '/flags?v=2', { 'user-agent': 'posthog-node/5.70.0' }));
      assert.ok(node.flags['server-only'] && !node.flags['client-only']);
      const js = json(await postFlags(t, body, '/flags?v=2', { 'user-agent': 'posthog-js/1.200.0' }));
      assert.ok(js.flags['client-only'] && !js.flags['server-only']);
      const browser = json(await postFlags(t, body, '/flags?v=2', { 'user-agent': 'curl/8.0', origin: 'https://x' }));
      assert.ok(browser.flags['server-only'], 'curl counts as a server');
      const unknown = json(await postFlags(t, body, '/flags?v=2', { 'user-agent': 'weird' }));
      assert.ok(!unknown.flags['server-only'] && !unknown.flags['client-only'] && unknown.flags['beta-feature']);
      const explicit = json(await postFlags(t, { ...body, evaluation_runtime: 'client' }, '/flags?v=2', { 'user-agent': 'posthog-node/5' }));
      assert.ok(explicit.flags['client-only'] && !explicit.flags['server-only']);
      const all = json(await postFlags(t, { ...body, evaluation_runtime: 'all' }));
      assert.ok(all.flags['client-only'] && all.flags['server-only']);
    });

    test('evaluation_contexts: tagged flags need a shared tag, untagged flags always evaluate', async () => {
      const other = json(await postFlags(t, { ...body, evaluation_contexts: ['marketing'] }));
      assert.ok(!other.flags.tagged && other.flags['beta-feature']);
      const shared = json(await postFlags(t, { ...body, evaluation_environments: ['checkout'] }));
      assert.ok(shared.flags.tagged);
    });

    test('only_evaluate_survey_feature_flags returns only survey-targeting- flags', async () => {
      const b = json(await postFlags(t, body, '/flags?v=2&only_evaluate_survey_feature_flags=true'));
      assert.deepEqual(Object.keys(b.flags), ['survey-targeting-abc']);
    });

    test('a project without active flags says hasFeatureFlags false', async () => {
      const { createProject } = await import('./http-helpers.ts');
      const empty = await createProject(t.store, 'empty');
      const b = json(await postFlags(t, { token: empty.token, distinct_id: 'x' }, '/flags'));
      assert.deepEqual(b.flags, {});
      assert.equal(b.hasFeatureFlags, false);
    });
  });
}
