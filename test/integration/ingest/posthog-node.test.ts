/**
 * @module test/integration/ingest/posthog-node.test
 * posthog-node against a listening Vexil (issue 4): identify and capture with $set land in the
 * store and getFeatureFlag reflects them; identify keeps the variant of an experience-continuity
 * flag (spec §6.5); groupIdentify feeds group-targeted flags.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostHog } from 'posthog-node';
import type { FlagFiltersDef } from '../../../src/engine/index.ts';
import { STORE_KINDS } from './ingest-harness.ts';
import { startSdkServer, type SdkServer } from './sdk-server.ts';

const personIs = (key: string, value: string): FlagFiltersDef => ({
  groups: [{ properties: [{ key, value, operator: 'exact', type: 'person' }], rollout_percentage: 100 }],
});
const THREE_VARIANTS: FlagFiltersDef = {
  groups: [{ properties: [], rollout_percentage: 100 }],
  multivariate: { variants: [{ key: 'red', rollout_percentage: 34 }, { key: 'green', rollout_percentage: 33 }, { key: 'blue', rollout_percentage: 33 }] },
};

for (const kind of STORE_KINDS) {
  // PostgreSQL runs with the person cache on: every flag flip below then also proves invalidation.
  const personCacheSize = kind === 'postgres' ? 10_000 : 0;
  describe(`posthog-node against Vexil (${kind}, person cache ${personCacheSize ? 'on' : 'off'})`, () => {
    let s: SdkServer;
    let client: PostHog;
    before(async () => {
      s = await startSdkServer(kind, { personCacheSize });
      client = new PostHog(s.token, { host: s.host, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, disableGeoip: true });
    });
    after(async () => {
      await client?.shutdown();
      await s?.close();
    });

    test('identify and capture with $set are stored; getFeatureFlag then matches on the stored properties', async () => {
      await s.addFlag('pro-users', personIs('plan', 'pro'));
      assert.equal(await client.getFeatureFlag('pro-users', 'node-user-1'), false);
      client.identify({ distinctId: 'node-user-1', properties: { plan: 'pro', $set_once: { first: 'yes' } } });
      client.capture({ distinctId: 'node-user-2', event: 'upgraded', properties: { $set: { plan: 'pro' } } });
      client.capture({ distinctId: 'node-user-3', event: 'viewed', properties: { $set: { plan: 'free' } } });
      await client.flush();
      const p1 = await s.store.getPersonByDistinctId(s.projectId, 'node-user-1');
      assert.deepEqual(p1?.properties, { plan: 'pro', first: 'yes' });
      assert.equal(p1?.isIdentified, true);
      assert.equal(await client.getFeatureFlag('pro-users', 'node-user-1'), true);
      assert.equal(await client.getFeatureFlag('pro-users', 'node-user-2'), true);
      assert.equal(await client.getFeatureFlag('pro-users', 'node-user-3'), false);
      client.capture({ distinctId: 'node-user-2', event: '$set', properties: { $unset: ['plan'] } });
      await client.flush();
      assert.equal(await client.getFeatureFlag('pro-users', 'node-user-2'), false);
    });

    test('alias merges the other id: its properties are then seen through the main id', async () => {
      await s.addFlag('beta', personIs('beta', 'true'));
      client.capture({ distinctId: 'device-42', event: 'opened', properties: { $set: { beta: 'true' } } });
      await client.flush();
      client.alias({ distinctId: 'account-42', alias: 'device-42' });
      await client.flush();
      assert.equal(await client.getFeatureFlag('beta', 'account-42'), true);
    });

    test('an experience-continuity flag keeps the anonymous variant after $identify', async () => {
      await s.addFlag('checkout-color', THREE_VARIANTS, { ensureExperienceContinuity: true });
      const variantOf = async (distinctId: string, anon?: string): Promise<string> => {
        const body = await s.flags({ distinct_id: distinctId, ...(anon === undefined ? {} : { $anon_distinct_id: anon }) });
        assert.equal(body.errorsWhileComputingFlags, false);
        return body.flags['checkout-color'].variant;
      };
      const anon = 'anon-device-7f3a';
      // The anonymous visitor has a person (posthog-js sends events before login).
      client.capture({ distinctId: anon, event: '$pageview' });
      await client.flush();
      const anonVariant = await variantOf(anon);
      // A user id whose own hash gives another variant, so keeping the variant proves continuity.
      let user = '';
      for (let i = 0; i < 50 && user === ''; i++) if ((await variantOf(`user-${i}`)) !== anonVariant) user = `user-${i}`;
      assert.notEqual(user, '', 'no candidate user id hashes to a different variant');

      // Login: posthog-js asks /flags with the new id and $anon_distinct_id, then sends $identify.
      assert.equal(await variantOf(user, anon), anonVariant);
      client.identify({ distinctId: user, properties: { $anon_distinct_id: anon, email: 'u@example.com' } });
      await client.flush();
      const person = await s.store.getPersonByDistinctId(s.projectId, user);
      assert.deepEqual(person?.distinctIds, [anon, user].sort());
      // Later requests carry only the user id; the override moved with the merged person.
      assert.equal(await variantOf(user), anonVariant);
      assert.equal(await client.getFeatureFlag('checkout-color', user), anonVariant);
    });

    test('groupIdentify stores group properties that group-targeted flags then use', async () => {
      client.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { tier: 'enterprise' } });
      client.groupIdentify({ groupType: 'company', groupKey: 'tiny', properties: { tier: 'free' } });
      await client.flush();
      const mapping = await s.store.getGroupTypeMapping(s.projectId);
      const index = Number(Object.entries(mapping).find(([, name]) => name === 'company')![0]);
      await s.addFlag('enterprise-only', {
        aggregation_group_type_index: index,
        groups: [{ properties: [{ key: 'tier', value: 'enterprise', operator: 'exact', type: 'group', group_type_index: index }], rollout_percentage: 100 }],
      });
      assert.equal(await client.getFeatureFlag('enterprise-only', 'someone', { groups: { company: 'acme' } }), true);
      assert.equal(await client.getFeatureFlag('enterprise-only', 'someone', { groups: { company: 'tiny' } }), false);
      assert.equal(await client.getFeatureFlag('enterprise-only', 'someone'), false);
    });
  });
}
