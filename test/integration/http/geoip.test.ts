// GeoIP on /flags: a country-targeted flag matches from the client IP (trusted X-Forwarded-For),
// geoip_disable and caller-supplied values win, an untrusted header is ignored, and a missing
// database only costs a start-up warning. Through app.inject and the real-socket fast path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { openTestStore } from '../../helpers/db.ts';
import { addFlag, json, postFlags, startTestApp, type TestApp } from './http-helpers.ts';

const GB_IP = '81.2.69.142';
const US_IP = '8.8.8.8';
const gbOnly = { groups: [{ properties: [{ key: '$geoip_country_code', type: 'person', value: ['GB'], operator: 'exact' }], rollout_percentage: 100 }] };

describe('GeoIP person properties on /flags', () => {
  let t: TestApp;
  let untrusted: TestApp;
  let host: string;
  before(async () => {
    t = await startTestApp('embedded', { VEXIL_TRUST_PROXY: 'true' });
    await addFlag(t, t.project.id, 'uk-only', gbOnly as never);
    host = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    untrusted = await startTestApp('embedded');
    await addFlag(untrusted, untrusted.project.id, 'uk-only', gbOnly as never);
  });
  after(async () => {
    await t.close();
    await untrusted.close();
  });

  const ukOnly = async (app: TestApp, body: Record<string, unknown>, xff?: string) =>
    json(await postFlags(app, { token: app.project.token, distinct_id: 'visitor', ...body }, '/flags?v=2', xff ? { 'x-forwarded-for': xff } : {})).flags['uk-only'];

  test('a request from a GB address via trusted X-Forwarded-For matches the country flag', async () => {
    const gb = await ukOnly(t, {}, `${GB_IP}, 10.0.0.1`);
    assert.equal(gb.enabled, true);
    assert.equal(gb.reason.code, 'condition_match');
    assert.equal((await ukOnly(t, {}, US_IP)).enabled, false);
  });

  test('the real-socket fast path derives the same properties', async () => {
    const res = await fetch(`${host}/flags?v=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': GB_IP },
      body: JSON.stringify({ token: t.project.token, distinct_id: 'visitor' }),
    });
    assert.equal(((await res.json()) as any).flags['uk-only'].enabled, true);
  });

  test('geoip_disable leaves the properties out', async () => {
    assert.equal((await ukOnly(t, { geoip_disable: true }, GB_IP)).enabled, false);
  });

  test("the caller's own $geoip_ values win; null ones are filled", async () => {
    assert.equal((await ukOnly(t, { person_properties: { $geoip_country_code: 'US' } }, GB_IP)).enabled, false);
    assert.equal((await ukOnly(t, { person_properties: { $geoip_country_code: 'GB' } }, US_IP)).enabled, true);
    assert.equal((await ukOnly(t, { person_properties: { $geoip_country_code: null } }, GB_IP)).enabled, true);
  });

  test('X-Forwarded-For is ignored unless VEXIL_TRUST_PROXY is set', async () => {
    assert.equal((await ukOnly(untrusted, {}, GB_IP)).enabled, false);
  });
});

describe('GeoIP database missing', () => {
  test('one warning at start; flags still answer, without $geoip_ properties', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const testStore = await openTestStore('embedded');
    const app = await createApp(loadConfig({ VEXIL_GEOIP_DB: '/nonexistent/GeoLite2-City.mmdb', VEXIL_TRUST_PROXY: 'true', VEXIL_SNAPSHOT_POLL_SECONDS: '3600' }), {
      store: testStore.store,
      log: createLogger('warn', sink),
      print: () => undefined,
      defaultMetrics: false,
    });
    try {
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && /GeoIP/.test(l.msg));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].path, '/nonexistent/GeoLite2-City.mmdb');
      const project = app.bootstrap.project!;
      await testStore.store.createFlag(project.id, { key: 'uk-only', name: 'uk-only', active: true, filters: gbOnly as never }, 'test');
      await app.notifyDefinitionsChanged(project.id);
      const res = await app.server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json', 'x-forwarded-for': GB_IP }, payload: JSON.stringify({ token: project.apiToken, distinct_id: 'v' }) });
      assert.equal(res.statusCode, 200);
      assert.equal(json(res).flags['uk-only'].enabled, false);
    } finally {
      await app.close();
      await testStore.cleanup();
    }
  });
});
