/**
 * Flag usage after real HTTP traffic (issue 18): /flags answers and `$feature_flag_called`
 * events counted per day and value, flushed to the store, shown by the admin API as usage per
 * day, `last_called_at`, PostHog's status and Vexil's usage staleness, with a moved clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../../src/store/open-store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';
import { startClockedApp, TestClock, type ClockedApp } from './clocked-app.ts';

const KINDS: readonly StoreKind[] = ['embedded', 'postgres'];
// Later than the rows' real created_at/updated_at (database time), so flags are "old" on this clock.
const START = Date.UTC(2030, 2, 10, 12, 0, 0);
const KEY = 'phx_usage_test_key_0123456789';

for (const kind of KINDS) {
  describe(`flag usage (${kind} store)`, () => {
    let db: TestStore;
    let node: ClockedApp;
    const clock = new TestClock(START);
    let token = '';
    let pid = 0;
    const flagIds: Record<string, number> = {};

    const evaluate = async (distinctId: string) => {
      const res = await fetch(`${node.base}/flags?v=2`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, distinct_id: distinctId }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as { flags: Record<string, { enabled: boolean; variant?: string | null }> };
    };

    const mk = async (key: string, filters: unknown) => {
      const res = await node.call('POST', `/api/projects/${pid}/feature_flags/`, { key, filters });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      flagIds[key] = res.body.id;
    };

    before(async () => {
      db = await openTestStore(kind);
      node = await startClockedApp(db.store, clock, KEY);
      pid = node.app.bootstrap.project!.id;
      token = node.app.bootstrap.project!.apiToken;
      await mk('everyone', { groups: [{ properties: [], rollout_percentage: 100 }] });
      await mk('nobody', { groups: [{ properties: [], rollout_percentage: 0 }] });
      await mk('colors', {
        groups: [{ properties: [], rollout_percentage: 100 }],
        multivariate: { variants: [{ key: 'red', rollout_percentage: 50 }, { key: 'blue', rollout_percentage: 50 }] },
      });
    });
    after(async () => {
      await node.app.close();
      await db.cleanup();
    });

    test('evaluations and $feature_flag_called events are counted per day and value', async () => {
      const variants = new Map<string, number>();
      for (let i = 0; i < 20; i++) {
        const body = await evaluate(`user-${i}`);
        const v = body.flags.colors!.variant!;
        variants.set(v, (variants.get(v) ?? 0) + 1);
      }
      const capture = await fetch(`${node.base}/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          api_key: token,
          batch: [
            { event: '$feature_flag_called', distinct_id: 'u1', properties: { $feature_flag: 'everyone', $feature_flag_response: true } },
            { event: '$feature_flag_called', distinct_id: 'u2', properties: { $feature_flag: 'colors', $feature_flag_response: 'red' } },
            { event: 'pageview', distinct_id: 'u2', properties: {} },
          ],
        }),
      });
      assert.equal(capture.status, 200);
      // Nothing reaches the store before a flush: counting is in memory.
      assert.deepEqual(await db.store.listFlagUsage(pid, 'everyone', '2030-01-01'), []);
      await node.app.usage.flush();

      const res = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.colors}/usage/?days=3`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.days, 3);
      assert.equal(res.body.last_called_at, new Date(START).toISOString());
      assert.deepEqual(res.body.results.map((d: any) => d.date), ['2030-03-08', '2030-03-09', '2030-03-10']);
      const today = res.body.results[2];
      assert.equal(today.evaluations.total, 20);
      assert.deepEqual(today.evaluations.values, Object.fromEntries(variants));
      assert.deepEqual(today.called_events, { total: 1, values: { red: 1 } });
      assert.equal(res.body.results[0].evaluations.total, 0);

      const everyone = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/usage/?days=1`);
      assert.deepEqual(everyone.body.results[0].evaluations, { total: 20, values: { true: 20 } });
      assert.deepEqual(everyone.body.results[0].called_events, { total: 1, values: { true: 1 } });
      const nobody = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.nobody}/usage/?days=1`);
      assert.deepEqual(nobody.body.results[0].evaluations, { total: 20, values: { false: 20 } });
    });

    test('counts of the next day go to that day; a second flush adds to the stored counters', async () => {
      clock.advanceDays(1);
      await evaluate('late-user');
      await evaluate('late-user-2');
      await node.app.usage.flush();
      clock.advanceDays(-1);
      await evaluate('same-day-again');
      await node.app.usage.flush();
      clock.advanceDays(1);
      const res = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/usage/?days=2`);
      assert.deepEqual(res.body.results.map((d: any) => d.evaluations.total), [21, 2]);
      assert.equal(res.body.last_called_at, new Date(START + 86_400_000).toISOString());
    });

    test('flags show last_called_at and PostHog status; /status adds usage staleness', async () => {
      // Created after the traffic: never evaluated.
      await mk('unused', { groups: [{ properties: [], rollout_percentage: 100 }] });
      const list = await node.call('GET', `/api/projects/${pid}/feature_flags/`);
      const byKey = Object.fromEntries(list.body.results.map((f: any) => [f.key, f]));
      assert.equal(byKey.everyone.last_called_at, new Date(START + 86_400_000).toISOString());
      assert.equal(byKey.everyone.status, 'ACTIVE');
      assert.equal(byKey.unused.last_called_at, null);
      const status = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/status`);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'active');
      assert.equal(status.body.reason, 'Flag was called today');
      // Rolled out to 100 % and unchanged (on this clock) for 30 days: the same answer for everyone.
      assert.deepEqual(
        { stale: status.body.usage_staleness.stale, reason: status.body.usage_staleness.reason, value: status.body.usage_staleness.value },
        { stale: true, reason: 'single_value', value: 'true' },
      );
      const colors = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.colors}/status/`);
      assert.equal(colors.body.usage_staleness.stale, false);
    });

    test('with the clock 31 days on: stale by PostHog and by usage', async () => {
      clock.advanceDays(31);
      const everyone = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/status/`);
      assert.equal(everyone.body.status, 'stale');
      assert.equal(everyone.body.reason, 'Flag has not been called in 31 days');
      assert.deepEqual(
        { stale: everyone.body.usage_staleness.stale, reason: everyone.body.usage_staleness.reason },
        { stale: true, reason: 'not_evaluated' },
      );
      // Never called, fully rolled out and older than 30 days: PostHog's configuration-based staleness.
      const unused = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.unused}/status/`);
      assert.deepEqual({ status: unused.body.status, reason: unused.body.reason }, { status: 'stale', reason: 'This boolean flag will always evaluate to "true"' });
      const retrieved = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/`);
      assert.equal(retrieved.body.status, 'STALE');
    });

    test('the flags list filters active=STALE by the same status, with search and pagination', async () => {
      // Never called: a partial rollout is not stale by configuration, a disabled flag never is.
      await mk('partial', { groups: [{ properties: [], rollout_percentage: 50 }] });
      await mk('switched-off', { groups: [{ properties: [], rollout_percentage: 100 }] });
      assert.equal((await node.call('PATCH', `/api/projects/${pid}/feature_flags/${flagIds['switched-off']}/`, { active: false })).status, 200);
      const all = await node.call('GET', `/api/projects/${pid}/feature_flags/?limit=100`);
      const staleByField = all.body.results.filter((f: any) => f.status === 'STALE').map((f: any) => f.key).sort();
      assert.deepEqual(staleByField, ['colors', 'everyone', 'nobody', 'unused']);
      const stale = await node.call('GET', `/api/projects/${pid}/feature_flags/?active=STALE`);
      assert.equal(stale.status, 200, JSON.stringify(stale.body));
      assert.equal(stale.body.count, 4);
      assert.deepEqual(stale.body.results.map((f: any) => f.key).sort(), staleByField, 'the filter and the field agree');
      const page = await node.call('GET', `/api/projects/${pid}/feature_flags/?active=STALE&limit=3&offset=3`);
      assert.deepEqual([page.body.count, page.body.results.length, page.body.next, page.body.previous !== null], [4, 1, null, true]);
      const searched = await node.call('GET', `/api/projects/${pid}/feature_flags/?active=STALE&search=O`);
      assert.deepEqual(searched.body.results.map((f: any) => f.key).sort(), ['colors', 'everyone', 'nobody']);
      const bad = await node.call('GET', `/api/projects/${pid}/feature_flags/?active=stale`);
      assert.deepEqual([bad.status, bad.body.attr], [400, 'active']);
    });

    test('a flag returning one value to everyone for N days is stale by usage; varied answers are not', async () => {
      // Thirty days of daily traffic, then ask on the last.
      for (let d = 0; d < 30; d++) {
        await evaluate(`daily-${d}`);
        await node.app.usage.flush();
        clock.advanceDays(1);
      }
      clock.advanceDays(-1);
      const nobody = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.nobody}/status/`);
      assert.equal(nobody.body.status, 'active');
      assert.deepEqual(
        { stale: nobody.body.usage_staleness.stale, reason: nobody.body.usage_staleness.reason, value: nobody.body.usage_staleness.value, days: nobody.body.usage_staleness.days },
        { stale: true, reason: 'single_value', value: 'false', days: 30 },
      );
      const colors = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.colors}/status/`);
      assert.equal(colors.body.usage_staleness.stale, false);
    });

    test('usage and status answer 404 for an unknown flag and 400 for a bad days value', async () => {
      assert.equal((await node.call('GET', `/api/projects/${pid}/feature_flags/999999/usage/`)).status, 404);
      assert.equal((await node.call('GET', `/api/projects/${pid}/feature_flags/999999/status/`)).status, 404);
      const bad = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagIds.everyone}/usage/?days=abc`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.attr, 'days');
    });

    test('counts still in memory are written when the app closes', async () => {
      await evaluate('before-close');
      const day = new Date(clock.ms).toISOString().slice(0, 10);
      const before = (await db.store.listFlagUsage(pid, 'everyone', day)).reduce((n, r) => n + r.count, 0);
      await node.app.close();
      const afterClose = (await db.store.listFlagUsage(pid, 'everyone', day)).reduce((n, r) => n + r.count, 0);
      assert.equal(afterClose, before + 1);
      node = await startClockedApp(db.store, clock, KEY);
    });
  });
}

describe('two nodes on one PostgreSQL schema flush usage at once', () => {
  test('their counts add up', async () => {
    const db = await openTestStore('postgres');
    const second = await openStore(db.options);
    const clock = new TestClock(START);
    const a = await startClockedApp(db.store, clock, KEY);
    const b = await startClockedApp(second, clock, KEY);
    try {
      const pid = a.app.bootstrap.project!.id;
      const token = a.app.bootstrap.project!.apiToken;
      for (const key of ['one', 'two', 'three']) {
        assert.equal((await a.call('POST', `/api/projects/${pid}/feature_flags/`, { key, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } })).status, 201);
      }
      await b.app.notifyDefinitionsChanged(pid);
      for (let i = 0; i < 10; i++) {
        for (const node of [a, b]) {
          const res = await fetch(`${node.base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token, distinct_id: `u${i}` }), signal: AbortSignal.timeout(10_000) });
          assert.equal(res.status, 200);
        }
      }
      await Promise.all([a.app.usage.flush(), b.app.usage.flush()]);
      for (const key of ['one', 'two', 'three']) {
        const rows = await db.store.listFlagUsage(pid, key, '2030-01-01');
        assert.deepEqual(rows.map((r) => [r.value, r.count]), [['true', 20]], key);
      }
    } finally {
      await a.app.close();
      await b.app.close();
      await second.close();
      await db.cleanup();
    }
  });
});
