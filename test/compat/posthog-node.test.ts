// The real posthog-node SDK against a listening Vexil: remote evaluation (/flags) and local
// evaluation (definitions from /flags/definitions) give the answers the spec computes (§3.4).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostHog } from 'posthog-node';
import { hashBucket } from '../../src/engine/index.ts';
import { addFlag, rollout, startTestApp, type TestApp } from '../integration/http/http-helpers.ts';

describe('posthog-node 5.x against Vexil', () => {
  let t: TestApp;
  let host: string;
  const clients: PostHog[] = [];

  const client = (options: ConstructorParameters<typeof PostHog>[1] = {}) => {
    const c = new PostHog(t.project.token, { host, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, requestTimeout: 5000, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startTestApp('embedded');
    const pid = t.project.id;
    await t.store.ensureGroupTypeIndex(pid, 'company');
    await t.store.applyPersonUpdates(pid, [{ distinctId: 'member', set: { plan: 'pro' } }]);
    const vips = await t.store.createCohort(pid, { name: 'vips', isStatic: true }, 'test');
    await t.store.addStaticCohortMembers(pid, vips.id, { distinctIds: ['member'] });
    const simple = await t.store.createCohort(
      pid,
      { name: 'examples', isStatic: false, filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }] }] } } },
      'test',
    );

    await addFlag(t, pid, 'beta-feature', rollout(35));
    await addFlag(t, pid, 'test-flag', rollout(1));
    await addFlag(t, pid, 'multivariate-flag', {
      groups: [{ properties: [], rollout_percentage: 100 }],
      multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'test', rollout_percentage: 25 }, { key: 'test2', rollout_percentage: 25 }] },
      payloads: { test2: '{"discount":20}' },
    });
    await addFlag(t, pid, 'payload-flag', { ...rollout(100), payloads: { true: '{"color":"blue"}' } });
    await addFlag(t, pid, 'email-flag', { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }] }] });
    await addFlag(t, pid, 'cohort-flag', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: simple.id }] }] });
    await addFlag(t, pid, 'group-flag', { aggregation_group_type_index: 0, groups: [{ properties: [], rollout_percentage: 100 }] });
    await addFlag(t, pid, 'vip-flag', { groups: [{ properties: [{ key: 'id', type: 'cohort', value: vips.id }] }] });
    await addFlag(t, pid, 'stored-plan', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
    await addFlag(t, pid, 'inactive-flag', rollout(100), { active: false });
    host = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.shutdown()));
    await t.close();
  });

  test('remote evaluation: getFeatureFlag, getAllFlags and payloads match the spec', async () => {
    const ph = client();
    assert.equal(await ph.getFeatureFlag('beta-feature', 'some-distinct-id'), true);
    assert.equal(await ph.getFeatureFlag('test-flag', 'user-1'), true);
    assert.equal(await ph.getFeatureFlag('multivariate-flag', 'user_42'), 'test2');
    assert.equal(await ph.getFeatureFlag('multivariate-flag', 'user-1'), 'control');
    assert.equal(await ph.getFeatureFlag('multivariate-flag', 'b'), 'test2');
    assert.equal(await ph.getFeatureFlag('email-flag', 'x', { personProperties: { email: 'a@example.com' } }), true);
    assert.equal(await ph.getFeatureFlag('email-flag', 'x', { personProperties: { email: 'a@other.org' } }), false);
    assert.equal(await ph.getFeatureFlag('group-flag', 'x', { groups: { company: 'acme-inc' } }), true);
    assert.equal(await ph.getFeatureFlag('group-flag', 'x'), false);
    assert.equal(await ph.getFeatureFlag('vip-flag', 'member'), true, 'static cohort from the store');
    assert.equal(await ph.getFeatureFlag('stored-plan', 'member'), true, 'stored person property');
    assert.equal(await ph.getFeatureFlag('inactive-flag', 'x'), undefined);
    assert.deepEqual(await ph.getFeatureFlagPayload('payload-flag', 'x'), { color: 'blue' });
    assert.deepEqual(await ph.getFeatureFlagPayload('multivariate-flag', 'user_42'), { discount: 20 });
    const all = await ph.getAllFlags('user_42', { personProperties: { email: 'z@example.com' }, groups: { company: 'acme-inc' } });
    assert.equal(all['multivariate-flag'], 'test2');
    assert.equal(all['email-flag'], true);
    assert.equal(all['group-flag'], true);
    assert.equal(all['payload-flag'], true);
    assert.equal(all['beta-feature'], hashAnswer('beta-feature', 'user_42', 0.35));
    const both = await ph.getAllFlagsAndPayloads('user_42');
    assert.deepEqual(both.featureFlagPayloads?.['payload-flag'], { color: 'blue' });
  });

  for (const auth of ['personal API key', 'project secret key'] as const) {
    test(`local evaluation with a ${auth}: definitions from Vexil, same answers without /flags`, async () => {
      const ph = client(auth === 'personal API key' ? { personalApiKey: t.personalKey } : { secretKey: t.project.secret, personalApiKey: undefined });
      assert.equal(await ph.waitForLocalEvaluationReady(5000), true, 'definitions loaded');
      const local = { onlyEvaluateLocally: true };
      assert.equal(await ph.getFeatureFlag('beta-feature', 'some-distinct-id', local), true);
      assert.equal(await ph.getFeatureFlag('multivariate-flag', 'user_42', local), 'test2');
      assert.equal(await ph.getFeatureFlag('multivariate-flag', 'c', local), 'control');
      assert.equal(await ph.getFeatureFlag('email-flag', 'x', { ...local, personProperties: { email: 'a@example.com' } }), true);
      assert.equal(await ph.getFeatureFlag('cohort-flag', 'x', { ...local, personProperties: { email: 'a@example.com' } }), true, 'dynamic cohort sent with the definitions');
      assert.equal(await ph.getFeatureFlag('group-flag', 'x', { ...local, groups: { company: 'acme-inc' } }), true);
      assert.equal(await ph.getFeatureFlag('inactive-flag', 'x', local), false);
      assert.deepEqual(await ph.getFeatureFlagPayload('payload-flag', 'x', undefined, local), { color: 'blue' });
      // Static cohorts are never sent: the SDK cannot decide locally and asks /flags.
      assert.equal(await ph.getFeatureFlag('vip-flag', 'member', local), undefined);
      assert.equal(await ph.getFeatureFlag('vip-flag', 'member'), true);
      for (const id of ['a', 'b', 'c', 'user-1', 'user_42', 'some-distinct-id']) {
        const remote = await client().getAllFlags(id, { groups: { company: 'acme-inc' } });
        const locally = await ph.getAllFlags(id, { groups: { company: 'acme-inc' }, onlyEvaluateLocally: true });
        for (const key of ['beta-feature', 'test-flag', 'multivariate-flag', 'group-flag', 'payload-flag']) {
          assert.equal(locally[key], remote[key], `${key} for ${id}: local ${locally[key]} vs remote ${remote[key]}`);
        }
      }
    });
  }
});

describe('posthog-node 5.x: early_exit, local against remote', () => {
  test('every user gets the same early_exit answer from local evaluation and from /flags', async () => {
    const t = await startTestApp('embedded');
    const clients: PostHog[] = [];
    try {
      await addFlag(t, t.project.id, 'early-exit-flag', {
        early_exit: true,
        groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 30 }, { properties: [], rollout_percentage: 100 }],
      });
      const host = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
      const options = { host, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, requestTimeout: 5000 };
      const remote = new PostHog(t.project.token, options);
      const local = new PostHog(t.project.token, { ...options, personalApiKey: t.personalKey });
      clients.push(remote, local);
      assert.equal(await local.waitForLocalEvaluationReady(5000), true, 'definitions loaded');
      const answers = { true: 0, false: 0 };
      for (let i = 0; i < 60; i++) {
        const id = `user-${i}`;
        for (const plan of ['pro', 'free']) {
          const personProperties = { plan };
          const l = await local.getFeatureFlag('early-exit-flag', id, { personProperties, onlyEvaluateLocally: true });
          const r = await remote.getFeatureFlag('early-exit-flag', id, { personProperties });
          assert.equal(l, r, `${id} (${plan}): local ${l} vs remote ${r}`);
          answers[String(r) as 'true' | 'false']++;
          // The rule itself: a pro user outside the 30 % stops at condition 0; everyone else matches.
          assert.equal(r, plan === 'free' || hashBucket('early-exit-flag', id) <= 0.3, `${id} (${plan})`);
        }
      }
      assert.ok(answers.false > 0 && answers.true > 0, 'both answers occur');
    } finally {
      await Promise.all(clients.map((c) => c.shutdown()));
      await t.close();
    }
  });
});

/** The spec's rollout rule (§3.1) via the engine's hash, for flags the test did not pin. */
function hashAnswer(key: string, id: string, rolloutFraction: number): boolean {
  return hashBucket(key, id) <= rolloutFraction;
}
