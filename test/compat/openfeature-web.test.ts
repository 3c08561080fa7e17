// The real OpenFeature web SDK with the OFREP web provider, run in Node against a listening
// Vexil: it asks the bulk endpoint once per context, then answers synchronously from that.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFeature, type Client } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { addFlag, rollout, startTestApp, type TestApp } from '../integration/http/http-helpers.ts';

describe('OpenFeature web provider (OFREP bulk) against Vexil', () => {
  let t: TestApp;
  let client: Client;

  before(async () => {
    t = await startTestApp('embedded');
    const pid = t.project.id;
    await addFlag(t, pid, 'everyone', rollout(100));
    await addFlag(t, pid, 'pro-only', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
    await addFlag(t, pid, 'multivariate-flag', {
      groups: [{ properties: [], rollout_percentage: 100 }],
      multivariate: { variants: [{ key: 'control', rollout_percentage: 0 }, { key: 'test', rollout_percentage: 100 }] },
      payloads: { test: '{"discount":20}' },
    });
    const base = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    await OpenFeature.setContext({ targetingKey: 'web-user', plan: 'free' });
    await OpenFeature.setProviderAndWait(
      new OFREPWebProvider({
        baseUrl: base,
        headers: [['Authorization', `Bearer ${t.project.token}`]],
        cacheMode: 'disabled',
        changeDetection: 'none',
        disableVisibilityRefresh: true,
      }),
    );
    client = OpenFeature.getClient();
  });

  after(async () => {
    await OpenFeature.close();
    await t.close();
  });

  test('answers boolean and string flags for the context, from one bulk evaluation', () => {
    assert.equal(client.getBooleanValue('everyone', false), true);
    assert.equal(client.getBooleanValue('pro-only', true), false);
    assert.equal(client.getStringValue('multivariate-flag', 'none'), 'test');
    const d = client.getBooleanDetails('missing-flag', false);
    assert.equal(d.value, false);
    assert.equal(d.errorCode, 'FLAG_NOT_FOUND');
  });

  test('a new context is evaluated again: the person property now matches', async () => {
    await OpenFeature.setContext({ targetingKey: 'web-user', plan: 'pro' });
    assert.equal(client.getBooleanValue('pro-only', false), true);
  });
});
