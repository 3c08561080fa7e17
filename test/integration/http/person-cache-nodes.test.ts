// Two Vexil nodes on one PostgreSQL schema and one Redis: a person write through one node
// invalidates the other node's cached /flags lookup (person notices on the change bus), and
// static cohort membership changed through the admin API invalidates cached memberships.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createApp, type App } from '../../../src/app.ts';
import { RedisChangeBus } from '../../../src/cache/redis/redis-change-bus.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { TEST_NOW } from './http-helpers.ts';

const silent = createLogger('silent');

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('person cache across nodes (postgres store, real Redis)', () => {
  let testStore: TestStore;
  const apps: App[] = [];
  const buses: RedisChangeBus[] = [];
  const channel = `vexil:test:${randomUUID()}`;
  let token = '';
  let personalKey = '';
  let projectId = 0;
  let cohortId = 0;

  before(async () => {
    await requireRedis();
    testStore = await openTestStore('postgres');
    // One cache entry lives for an hour: only a notice can make it go.
    const config = loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', VEXIL_PERSON_CACHE_SIZE: '1000' });
    for (let i = 0; i < 2; i++) {
      const bus = await RedisChangeBus.open({ url: REDIS_URL, channel, log: silent });
      buses.push(bus);
      apps.push(await createApp(config, { store: testStore.store, bus, log: silent, print: () => undefined, now: () => TEST_NOW, defaultMetrics: false }));
    }
    const project = apps[0]!.bootstrap.project!;
    token = project.apiToken;
    personalKey = apps[0]!.bootstrap.personalApiKey!;
    projectId = project.id;
    const store = testStore.store;
    await store.applyPersonUpdates(projectId, [{ distinctId: 'shared-user', set: { plan: 'pro' } }]);
    cohortId = (await store.createCohort(projectId, { name: 'vip', isStatic: true }, 'test')).id;
    await store.createFlag(projectId, { key: 'pro', name: '', active: true, filters: { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] } }, 'test');
    await store.createFlag(projectId, { key: 'vip', name: '', active: true, filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohortId }] }] } }, 'test');
    for (const app of apps) await app.notifyDefinitionsChanged(projectId);
  });

  after(async () => {
    for (const app of apps) await app.close();
    for (const bus of buses) await bus.close();
    await testStore.cleanup();
  });

  const flagsOn = async (app: App) => {
    const res = await app.server.inject({ method: 'POST', url: '/flags?v=2', payload: { token, distinct_id: 'shared-user' } });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body).flags as Record<string, { enabled: boolean }>;
  };

  test('a capture $set on node A reaches node B’s cached lookup', async () => {
    const [a, b] = apps as [App, App];
    assert.equal((await flagsOn(b)).pro!.enabled, true, 'B caches the person as pro');
    const res = await a.server.inject({ method: 'POST', url: '/capture/', payload: { api_key: token, event: '$set', distinct_id: 'shared-user', properties: { $set: { plan: 'free' } } } });
    assert.equal(res.statusCode, 200, res.body);
    await until(async () => (await flagsOn(b)).pro!.enabled === false, 'node B to see plan=free');
  });

  test('adding a static cohort member through the admin API on A reaches B', async () => {
    const [a, b] = apps as [App, App];
    assert.equal((await flagsOn(b)).vip!.enabled, false, 'B caches no membership');
    const person = await testStore.store.getPersonByDistinctId(projectId, 'shared-user');
    const res = await a.server.inject({
      method: 'PATCH',
      url: `/api/projects/${projectId}/cohorts/${cohortId}/add_persons_to_static_cohort/`,
      headers: { authorization: `Bearer ${personalKey}` },
      payload: { person_ids: [person!.id] },
    });
    assert.equal(res.statusCode, 200, res.body);
    await until(async () => (await flagsOn(b)).vip!.enabled === true, 'node B to see the membership');
    assert.equal((await flagsOn(a)).vip!.enabled, true);
  });
});
