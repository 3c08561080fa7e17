// Operations: first-start bootstrap and VEXIL_BOOTSTRAP_KEY, health checks, /metrics, rate limiting, log redaction.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { STORE_KINDS, addFlag, json, postFlags, rollout, startTestApp, type TestApp } from './http-helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`bootstrap (${kind} store)`, () => {
    let ts: TestStore;
    before(async () => {
      ts = await openTestStore(kind);
    });
    after(async () => ts.cleanup());

    test('first start prints a project and key once; VEXIL_BOOTSTRAP_KEY is an idempotent full-access key', async () => {
      const bootstrapKey = 'automation-key-0123456789';
      const config = loadConfig({ VEXIL_BOOTSTRAP_KEY: bootstrapKey, LOG_LEVEL: 'silent' });
      const printed: string[] = [];
      const start = () => createApp(config, { store: ts.store, log: createLogger('silent'), print: (s) => printed.push(s), defaultMetrics: false });
      const first = await start();
      assert.ok(first.bootstrap.project);
      assert.equal(first.bootstrap.personalApiKey, null, 'the bootstrap key replaces a generated one');
      assert.equal(printed.length, 1);
      assert.ok(printed[0]!.includes(first.bootstrap.project.apiToken) && printed[0]!.includes(first.bootstrap.project.secretToken));
      assert.ok(!printed[0]!.includes(bootstrapKey), 'the configured key is not echoed');
      const token = first.bootstrap.project.apiToken;
      await first.close();

      const second = await start();
      assert.equal(second.bootstrap.project, null, 'an existing store is left alone');
      assert.equal(printed.length, 1, 'secrets are printed only once');
      const defs = await second.server.inject({ method: 'GET', url: `/flags/definitions?token=${token}`, headers: { authorization: `Bearer ${bootstrapKey}` } });
      assert.equal(defs.statusCode, 200);
      const admin = await second.server.inject({ method: 'GET', url: '/api/projects/', headers: { authorization: `Bearer ${bootstrapKey}` } });
      assert.equal(admin.statusCode, 200, admin.body);
      assert.equal(await ts.store.countPersonalApiKeys(), 1, 'ensured, not duplicated');
      await second.close();
    });
  });
}

describe('health, metrics, rate limit and logs', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('embedded', { VEXIL_RATE_LIMIT_PER_SECOND: '5' });
    await addFlag(t, t.project.id, 'on', rollout(100));
  });
  after(async () => t.close());

  test('liveness and GET / answer in plain text; readiness in JSON with its checks', async () => {
    for (const url of ['/_liveness', '/']) {
      const res = await t.app.server.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
    }
    const ready = await t.app.server.inject({ method: 'GET', url: '/_readiness' });
    assert.equal(ready.statusCode, 200);
    const body = JSON.parse(ready.body) as { status: string; checks: { database: { ok: boolean; latencyMs: number; error: null } } };
    assert.equal(body.status, 'ok');
    assert.equal(body.checks.database.ok, true);
    assert.equal(body.checks.database.error, null);
    assert.equal(typeof body.checks.database.latencyMs, 'number');
  });

  test('/metrics exposes request counters and durations with route labels, never tokens', async () => {
    await postFlags(t, { token: t.project.token, distinct_id: 'm' });
    const res = await t.app.server.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /vexil_http_requests_total\{route="\/flags",method="POST",status_class="2xx"\} \d+/);
    assert.match(res.body, /vexil_http_request_duration_seconds_bucket\{le="0.001",route="\/flags"\}/);
    assert.match(res.body, /vexil_flag_evaluations_total\{outcome="enabled"\} \d+/);
    assert.match(res.body, /vexil_snapshot_rebuilds_total\{result="ok"\} \d+/);
    assert.ok(!res.body.includes(t.project.token));
  });

  test('over the per-token rate: 429 with PostHog\'s JSON body', async () => {
    let limited: { statusCode: number; body: string } | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await postFlags(t, { token: t.project.token, distinct_id: 'r' });
      if (res.statusCode === 429) limited = res;
    }
    assert.ok(limited, 'some request was limited');
    assert.deepEqual(json(limited), { type: 'validation_error', code: 'rate_limit_exceeded', detail: 'Rate limit exceeded', attr: null });
  });

  test('logs never carry tokens, keys or person properties', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const app = await createApp(loadConfig({}), { store: t.store, log, print: () => undefined, defaultMetrics: false });
    try {
      const token = t.project.token;
      await app.server.inject({ method: 'POST', url: `/flags?token=${token}`, payload: { token, distinct_id: 'u', person_properties: { email: 'secret@example.com' } } });
      await app.server.inject({ method: 'GET', url: `/flags/definitions?token=${token}`, headers: { authorization: `Bearer ${t.personalKey}` } });
      await app.server.inject({ method: 'POST', url: '/flags', payload: { token: 'phc_unknown_token_zz', distinct_id: 'u' } });
      const all = lines.join('');
      assert.ok(all.length > 0, 'something was logged at debug');
      for (const secret of [token, t.personalKey, 'secret@example.com', 'phc_unknown_token_zz']) assert.ok(!all.includes(secret), `log leaks ${secret.slice(0, 6)}…`);
    } finally {
      await app.close();
    }
  });
});
