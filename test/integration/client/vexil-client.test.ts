// vexil/client and its OpenFeature provider against a running Vexil (PostgreSQL store, listening
// on loopback): local answers equal /flags (naive dates read in the project's time zone, as the
// server reads them), edits arrive through the definitions stream, flags that need stored data
// go to /flags, and polling takes over when the stream is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { VexilClient } from '../../../src/client/index.ts';
import { VexilProvider } from '../../../src/client/openfeature-provider.ts';
import { postFlags, json, startTestApp, type TestApp } from '../http/http-helpers.ts';

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('vexil/client against a running Vexil', () => {
  let t: TestApp;
  let host = '';
  let client: VexilClient;
  let betaId = 0;
  const errors: unknown[] = [];

  /** `signed_up` values around 12:00 in New York (16:00 UTC in June) and in Tokyo (03:00 UTC). */
  const SIGNUPS = ['2024-06-01T14:00:00Z', '2024-06-01T17:00:00Z', '2024-06-01 13:00:00', '2024-06-01 11:30:00', '2024-06-01T02:00:00Z', '2024-06-01T04:00:00Z'];
  /** The `late-signup` answer of the client and of /flags for each value of SIGNUPS. */
  const dateAnswers = async () => {
    const local: unknown[] = [];
    const server: unknown[] = [];
    for (const signedUp of SIGNUPS) {
      local.push(client.getFlagLocally('late-signup', 'u', { personProperties: { signed_up: signedUp } })?.enabled);
      server.push(json(await postFlags(t, { token: t.project.token, distinct_id: 'u', person_properties: { signed_up: signedUp } })).flags['late-signup']?.enabled ?? false);
    }
    return { local, server };
  };
  const setTimezone = async (timezone: string) => {
    await t.store.updateProject(t.project.id, { timezone });
    await t.app.notifyDefinitionsChanged(t.project.id);
  };

  const setRollout = async (pct: number) => {
    await t.store.updateFlag(t.project.id, betaId, { filters: { groups: [{ properties: [], rollout_percentage: pct }] } }, 'test');
    await t.app.notifyDefinitionsChanged(t.project.id);
  };

  before(async () => {
    t = await startTestApp('postgres');
    const { id } = t.project;
    betaId = (await t.store.createFlag(id, { key: 'beta', name: '', active: true, filters: { groups: [{ properties: [], rollout_percentage: 50 }] } }, 'test')).id;
    await t.store.createFlag(id, { key: 'pro', name: '', active: true, filters: { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] } }, 'test');
    await t.store.createFlag(id, {
      key: 'colour',
      name: '',
      active: true,
      filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'red', rollout_percentage: 100 }] }, payloads: { red: '{"shade": 3}' } },
    }, 'test');
    const cohort = await t.store.createCohort(id, { name: 'vip', isStatic: true }, 'test');
    await t.store.createFlag(id, { key: 'vip', name: '', active: true, filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohort.id }] }] } }, 'test');
    await t.store.applyPersonUpdates(id, [{ distinctId: 'stored-pro', set: { plan: 'pro' } }]);
    // A naive date: 12:00 in the project's time zone, on the filter side and the property side alike.
    await t.store.createFlag(id, {
      key: 'late-signup', name: '', active: true,
      filters: { groups: [{ properties: [{ key: 'signed_up', type: 'person', operator: 'is_date_after', value: '2024-06-01 12:00:00' }], rollout_percentage: 100 }] },
    }, 'test');
    await t.store.updateProject(id, { timezone: 'America/New_York' });
    await t.app.notifyDefinitionsChanged(id);
    await t.app.server.listen({ host: '127.0.0.1', port: 0 });
    host = `http://127.0.0.1:${(t.app.server.server.address() as AddressInfo).port}`;
    client = new VexilClient({ host, projectToken: t.project.token, definitionsKey: t.project.secret, pollIntervalMs: 50, reconnectDelayMs: 20, now: () => t.now, onError: (e) => errors.push(e) });
    await client.ready();
  });

  after(async () => {
    client.close();
    await OpenFeature.close();
    await t.close();
  });

  test('local answers equal /flags for many users, decided in process', async () => {
    for (let i = 0; i < 40; i++) {
      const distinctId = `user-${i}`;
      const server = json(await postFlags(t, { token: t.project.token, distinct_id: distinctId })).flags;
      const local = client.getFlagLocally('beta', distinctId);
      assert.equal(local?.source, 'local');
      assert.equal(local.enabled, server.beta.enabled, distinctId);
    }
    const colour = await client.getFlag('colour', 'u');
    assert.deepEqual([colour?.value, colour?.payload, colour?.source], ['red', { shade: 3 }, 'local']);
    assert.equal((await client.getFlag('pro', 'u', { personProperties: { plan: 'pro' } }))?.enabled, true);
    assert.equal(await client.getFlag('no-such-flag', 'u'), undefined);
  });

  test('what needs stored data goes to /flags', async () => {
    assert.equal(client.getFlagLocally('pro', 'stored-pro'), undefined, 'no plan given: stored person needed');
    const pro = await client.getFlag('pro', 'stored-pro');
    assert.deepEqual([pro?.enabled, pro?.source], [true, 'remote']);
    const vip = await client.getFlag('vip', 'stored-pro');
    assert.deepEqual([vip?.enabled, vip?.source], [false, 'remote']);
  });

  test('an edit reaches the client through the stream', async () => {
    assert.ok(client.streaming);
    let changes = 0;
    const off = client.onChange(() => changes++);
    await setRollout(0);
    await until(() => client.getFlagLocally('beta', 'user-1')?.enabled === false, 'rollout 0 in the client');
    await setRollout(100);
    await until(() => client.getFlagLocally('beta', 'user-1')?.enabled === true, 'rollout 100 in the client');
    off();
    assert.ok(changes >= 2);
  });

  test("naive dates are read in the project's time zone, as /flags reads them, and follow a zone change", async () => {
    const ny = await dateAnswers();
    assert.deepEqual(ny.server, [false, true, true, false, false, false], '12:00 New York = 16:00 UTC');
    assert.deepEqual(ny.local, ny.server);
    await setTimezone('Asia/Tokyo');
    await until(async () => JSON.stringify((await dateAnswers()).local) === JSON.stringify([true, true, true, false, false, true]), 'the Tokyo zone in the client');
    const tokyo = await dateAnswers();
    assert.deepEqual(tokyo.local, tokyo.server, '12:00 Tokyo = 03:00 UTC');
  });

  test('the OpenFeature provider answers in process and follows edits', async () => {
    const provider = new VexilProvider(client);
    await OpenFeature.setProviderAndWait(provider);
    const of = OpenFeature.getClient();
    assert.equal(await of.getBooleanValue('beta', false, { targetingKey: 'user-1' }), true);
    assert.equal(await of.getStringValue('colour', 'none', { targetingKey: 'user-1' }), 'red');
    assert.deepEqual(await of.getObjectValue('colour', {}, { targetingKey: 'user-1' }), { shade: 3 });
    assert.equal(await of.getBooleanValue('pro', false, { targetingKey: 'x', plan: 'pro' }), true);
    const missing = await of.getBooleanDetails('nope', false, { targetingKey: 'x' });
    assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
    let changed = 0;
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, () => changed++);
    await setRollout(0);
    await until(async () => (await of.getBooleanValue('beta', true, { targetingKey: 'user-1' })) === false, 'provider to follow the edit');
    await until(() => changed > 0, 'ConfigurationChanged');
  });

  test('when the stream is refused the client polls with ETags', async () => {
    // Ends every stream and refuses new ones (503), as a node does on shutdown.
    t.app.server.closeStreams();
    await until(() => !client.streaming, 'the client to notice');
    await setRollout(100);
    await until(() => client.getFlagLocally('beta', 'user-1')?.enabled === true, 'the poll to pick up the edit');
    assert.ok(errors.some((e) => String(e).includes('503')), 'stream refusals reported to onError');
  });

  test('a time zone change alone reaches a polling client (same body and ETag, 304 with the zone header)', async () => {
    assert.equal(client.streaming, false);
    await setTimezone('America/New_York');
    await until(async () => {
      const { local, server } = await dateAnswers();
      return JSON.stringify(local) === JSON.stringify(server) && server[0] === false;
    }, 'the poll to pick up the zone');
  });
});
