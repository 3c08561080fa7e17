/**
 * Scheduled changes (issue 18): the PostHog-shaped API, a due change applied exactly once when
 * two nodes on one PostgreSQL schema race for it, a recurring change applied on each occurrence
 * (interval and cron in the time zone captured at creation), a failing change closed with its reason,
 * and state that survives a restart. Clocks are passed in; nodes run their scheduler on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryChangeBus } from '../../../src/cache/memory/memory-change-bus.ts';
import { openStore } from '../../../src/store/open-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';
import { startClockedApp, TestClock, type ClockedApp } from './clocked-app.ts';
import { clockedNode, createFlag, flagValue, iso, schedule, scheduledActivity, storedChange } from './schedule-helpers.ts';

const KEY = 'phx_schedule_test_key_0123456789';
const T0 = Date.UTC(2030, 5, 1, 8, 0, 0);

/**
 * The flag's value on `node` once it is `expected`, or the last value seen: the node that did not
 * apply a change rebuilds its snapshot when the notice arrives, asynchronously. Bounded wait.
 */
async function servedSoon(node: ClockedApp, token: string, key: string, expected: unknown): Promise<unknown> {
  const deadline = Date.now() + 10_000;
  let value = await flagValue(node, token, key);
  for (let i = 0; i < 500 && Date.now() < deadline && value !== expected; i++) {
    await new Promise((r) => setTimeout(r, 20));
    value = await flagValue(node, token, key);
  }
  return value;
}

for (const kind of ['embedded', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`scheduled changes API and scheduler (${kind} store)`, () => {
    const clock = new TestClock(T0);
    const t = clockedNode(kind, KEY, clock);

    test('create, list, retrieve, delete in PostHog shape; bad input is a 400 naming the field', async () => {
      const flagId = await createFlag(t.node, t.pid, 'api-flag');
      const created = await schedule(t.node, t.pid, { record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(T0 + 3_600_000) });
      assert.equal(created.record_id, String(flagId));
      assert.equal(created.model_name, 'FeatureFlag');
      assert.equal(created.executed_at, null);
      assert.equal(created.failure_reason, null);
      assert.equal(created.is_recurring, false);
      assert.equal(created.timezone, 'UTC', "the project's zone, captured at creation");
      assert.deepEqual(Object.keys(created).sort(), [
        'created_at', 'created_by', 'cron_expression', 'end_date', 'executed_at', 'failure_reason', 'id', 'is_recurring', 'last_executed_at',
        'model_name', 'payload', 'record_id', 'recurrence_interval', 'scheduled_at', 'team_id', 'timezone', 'updated_at',
      ], "PostHog's serializer fields");
      const list = await t.node.call('GET', `/api/projects/${t.pid}/scheduled_changes/?model_name=FeatureFlag&record_id=${flagId}`);
      assert.equal(list.body.count, 1);
      assert.equal(list.body.results[0].id, created.id);
      assert.equal((await t.node.call('GET', `/api/projects/${t.pid}/scheduled_changes/${created.id}/`)).body.id, created.id);

      const bad = async (body: Record<string, unknown>, attr: string | null, detail?: string) => {
        const res = await t.node.call('POST', `/api/projects/${t.pid}/scheduled_changes/`, {
          model_name: 'FeatureFlag', record_id: flagId, payload: { operation: 'update_status', value: true }, scheduled_at: iso(T0), ...body,
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.attr, attr, JSON.stringify(res.body));
        if (detail !== undefined) assert.equal(res.body.detail, detail);
      };
      await bad({ payload: { operation: 'explode', value: 1 } }, 'payload');
      await bad({ record_id: 999999 }, null, 'Feature flag not found');
      await bad({ model_name: 'Survey' }, 'model_name', '"Survey" is not a valid choice.');
      await bad({ scheduled_at: 'tomorrow' }, 'scheduled_at');
      await bad({ payload: undefined }, 'payload', 'This field is required.');
      await bad({ is_recurring: true }, 'recurrence_interval', 'Either recurrence_interval or cron_expression is required when is_recurring is true.');
      await bad({ is_recurring: true, cron_expression: '0 0 9 * * *' }, 'cron_expression', "Only standard 5-field cron expressions are supported (minute hour day month weekday). Example: '0 9 * * 1-5'.");
      await bad({ is_recurring: true, cron_expression: '99 99 99 99 99' }, 'cron_expression', "Invalid cron expression. Use standard 5-field cron syntax (e.g., '0 9 * * 1-5').");
      await bad({ is_recurring: true, cron_expression: '0 9 * * *', recurrence_interval: 'daily' }, 'cron_expression', 'Cannot set both cron_expression and recurrence_interval. Use one or the other.');
      await bad({ is_recurring: true, recurrence_interval: 'hourly' }, 'recurrence_interval', '"hourly" is not a valid choice.');
      await bad({ recurrence_interval: 'daily' }, 'recurrence_interval', 'Cannot set recurrence_interval when is_recurring is false for new schedules.');
      await bad({ cron_expression: '0 9 * * *' }, 'cron_expression', 'Cannot set cron_expression when is_recurring is false for new schedules.');
      await bad({ is_recurring: true, recurrence_interval: 'daily', end_date: iso(T0 - 1000) }, 'end_date', 'End date must be after the scheduled start date.');
      await bad(
        { is_recurring: true, recurrence_interval: 'daily', payload: { operation: 'add_release_condition', value: { groups: [{ properties: [] }] } } },
        'payload',
        'Recurring schedules are not supported for add_release_condition because it appends conditions on each run, creating duplicates.',
      );
      // A record_id written another way names the same flag and is stored canonically.
      const padded = await schedule(t.node, t.pid, { record_id: ` ${flagId}`, payload: { operation: 'update_status', value: true }, scheduled_at: iso(T0 + 7_200_000) });
      assert.equal(padded.record_id, String(flagId));
      assert.equal((await t.node.call('DELETE', `/api/projects/${t.pid}/scheduled_changes/${padded.id}/`)).status, 204);

      assert.equal((await t.node.call('DELETE', `/api/projects/${t.pid}/scheduled_changes/${created.id}/`)).status, 204);
      assert.equal((await t.node.call('GET', `/api/projects/${t.pid}/scheduled_changes/${created.id}/`)).status, 404);
    });

    test('a due change is applied once, logged in the flag activity and served at once', async () => {
      const flagId = await createFlag(t.node, t.pid, 'switch-off');
      const change = await schedule(t.node, t.pid, { record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(T0 + 60_000) });
      assert.deepEqual(await t.node.app.scheduler.runDue(), [], 'not due yet');
      assert.equal(await flagValue(t.node, t.token, 'switch-off'), true);
      clock.ms = T0 + 60_000;
      const outcomes = await t.node.app.scheduler.runDue();
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0]!.failure, null);
      assert.deepEqual(await t.node.app.scheduler.runDue(), []);
      assert.equal(await flagValue(t.node, t.token, 'switch-off'), false);
      const stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.executed_at, iso(T0 + 60_000));
      assert.equal(stored.last_executed_at, null, 'as PostHog: a one-time change records executed_at only');
      assert.equal((await scheduledActivity(t.node, t.pid, flagId)).length, 1);
    });

    test('add_release_condition appends groups; update_variants replaces variants and payloads', async () => {
      const flagId = await createFlag(t.node, t.pid, 'multi', {
        groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 100 }],
        multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] },
      });
      await schedule(t.node, t.pid, { record_id: flagId, payload: { operation: 'add_release_condition', value: { groups: [{ properties: [], rollout_percentage: 100 }] } }, scheduled_at: iso(clock.ms) });
      await schedule(t.node, t.pid, {
        record_id: flagId,
        payload: { operation: 'update_variants', value: { variants: [{ key: 'b', rollout_percentage: 100 }], payloads: { b: '{"x":1}' } } },
        scheduled_at: iso(clock.ms),
      });
      const outcomes = await t.node.app.scheduler.runDue();
      assert.deepEqual(outcomes.map((o) => o.failure), [null, null]);
      const flag = (await t.node.call('GET', `/api/projects/${t.pid}/feature_flags/${flagId}/`)).body;
      assert.equal(flag.filters.groups.length, 2);
      assert.deepEqual(flag.filters.multivariate.variants.map((v: any) => v.key), ['b']);
      assert.deepEqual(flag.filters.payloads, { b: '{"x":1}' });
      assert.equal(await flagValue(t.node, t.token, 'multi'), 'b');
    });

    test('a failing change is recorded with its reason and not retried', async () => {
      const flagId = await createFlag(t.node, t.pid, 'bad-variants');
      const change = await schedule(t.node, t.pid, {
        record_id: flagId,
        payload: { operation: 'update_variants', value: { variants: [{ key: 'x', rollout_percentage: 60 }, { key: 'y', rollout_percentage: 30 }] } },
        scheduled_at: iso(clock.ms),
      });
      const [outcome] = await t.node.app.scheduler.runDue();
      assert.equal(outcome!.failure, 'Invalid variant rollout percentages: sum is 90, must be 100 (permanent error)');
      assert.equal(outcome!.change.failureCount, 1);
      assert.deepEqual(await t.node.app.scheduler.runDue(), []);
      const stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.failure_reason, 'Invalid variant rollout percentages: sum is 90, must be 100 (permanent error)');
      assert.notEqual(stored.executed_at, null);
      assert.equal((await scheduledActivity(t.node, t.pid, flagId)).length, 0);

      // A flag deleted after scheduling: the change fails with a reason, too.
      const goneId = await createFlag(t.node, t.pid, 'gone');
      const gone = await schedule(t.node, t.pid, { record_id: goneId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(clock.ms + 1000) });
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/feature_flags/${goneId}/`, { deleted: true })).status, 200);
      clock.ms += 1000;
      const [goneOutcome] = await t.node.app.scheduler.runDue();
      assert.equal(goneOutcome!.change.id, gone.id);
      assert.equal(goneOutcome!.failure, 'FeatureFlag matching query does not exist. (permanent error)');
    });

    test('a recurring daily change is applied on each occurrence until its end_date', async () => {
      const flagId = await createFlag(t.node, t.pid, 'daily-off');
      const start = clock.ms + 60_000;
      const change = await schedule(t.node, t.pid, {
        record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(start),
        is_recurring: true, recurrence_interval: 'daily', end_date: iso(start + 2.5 * 86_400_000),
      });
      for (let day = 0; day < 3; day++) {
        clock.ms = start + day * 86_400_000;
        // Re-enable between occurrences so each one has something to do.
        assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/feature_flags/${flagId}/`, { active: true })).status, 200);
        const outcomes = await t.node.app.scheduler.runDue();
        assert.equal(outcomes.length, 1, `day ${day}`);
        assert.equal(await flagValue(t.node, t.token, 'daily-off'), false);
        assert.deepEqual(await t.node.app.scheduler.runDue(), [], `day ${day}: once per occurrence`);
      }
      const stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.last_executed_at, iso(start + 2 * 86_400_000));
      assert.notEqual(stored.executed_at, null, 'the next occurrence is past end_date: done');
      clock.ms = start + 3 * 86_400_000;
      assert.deepEqual(await t.node.app.scheduler.runDue(), []);
      assert.equal((await scheduledActivity(t.node, t.pid, flagId)).length, 3);
    });

    test('a cron change runs at its times in the time zone the project had when it was created', async () => {
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/`, { timezone: 'America/New_York' })).status, 200);
      const flagId = await createFlag(t.node, t.pid, 'cron-flag');
      // 09:00 New York on weekdays; 2030-06-03 is a Monday, New York is UTC-4 in June.
      clock.ms = Date.UTC(2030, 5, 3, 0, 0, 0);
      const change = await schedule(t.node, t.pid, {
        record_id: flagId, payload: { operation: 'update_status', value: false },
        scheduled_at: iso(Date.UTC(2030, 5, 3, 13, 0, 0)), is_recurring: true, cron_expression: '0 9 * * 1-5',
      });
      assert.equal(change.timezone, 'America/New_York');
      // A later change of the project's zone does not move the change (PostHog captures it at creation).
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/`, { timezone: 'Asia/Tokyo' })).status, 200);
      clock.ms = Date.UTC(2030, 5, 3, 13, 0, 0);
      assert.equal((await t.node.app.scheduler.runDue()).length, 1);
      let stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.scheduled_at, iso(Date.UTC(2030, 5, 4, 13, 0, 0)));
      assert.equal(stored.executed_at, null);
      assert.equal(stored.last_executed_at, iso(clock.ms));
      // Friday's run is followed by Monday's.
      clock.ms = Date.UTC(2030, 5, 7, 13, 0, 0);
      assert.equal((await t.node.app.scheduler.runDue()).length, 1, 'missed occurrences are skipped, not replayed');
      stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.scheduled_at, iso(Date.UTC(2030, 5, 10, 13, 0, 0)));
      assert.equal((await scheduledActivity(t.node, t.pid, flagId)).length, 2, 'one activity row per run');
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/`, { timezone: 'UTC' })).status, 200);
    });

    test('a pending change survives a restart', async () => {
      const flagId = await createFlag(t.node, t.pid, 'after-restart');
      await schedule(t.node, t.pid, { record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(clock.ms + 5000) });
      await t.restart();
      clock.ms += 5000;
      assert.equal((await t.node.app.scheduler.runDue()).length, 1);
      assert.equal(await flagValue(t.node, t.token, 'after-restart'), false);
    });
  });
}

describe('two nodes on one PostgreSQL schema race for due changes', () => {
  let db: TestStore;
  let secondStore: Store;
  let a: ClockedApp;
  let b: ClockedApp;
  const clock = new TestClock(T0);
  const bus = new MemoryChangeBus();

  before(async () => {
    db = await openTestStore('postgres');
    secondStore = await openStore(db.options);
    a = await startClockedApp(db.store, clock, KEY, {}, bus);
    b = await startClockedApp(secondStore, clock, KEY, {}, bus);
  });
  after(async () => {
    await a.app.close();
    await b.app.close();
    await bus.close();
    await secondStore.close();
    await db.cleanup();
  });

  test('each due change is applied exactly once, and both nodes serve the result', async () => {
    const pid = a.app.bootstrap.project!.id;
    const token = a.app.bootstrap.project!.apiToken;
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const flagId = await createFlag(a, pid, `race-${i}`);
      ids.push(flagId);
      await schedule(a, pid, {
        record_id: flagId, payload: { operation: 'add_release_condition', value: { groups: [{ properties: [], rollout_percentage: 0 }] } },
        scheduled_at: iso(T0 + 1000),
      });
    }
    clock.ms = T0 + 1000;
    const [byA, byB] = await Promise.all([a.app.scheduler.runDue(), b.app.scheduler.runDue()]);
    const applied = [...byA, ...byB].map((o) => o.change.id);
    assert.equal(applied.length, 8, 'eight changes applied in total');
    assert.equal(new Set(applied).size, 8, 'none applied twice');
    assert.deepEqual(await Promise.all([a.app.scheduler.runDue(), b.app.scheduler.runDue()]), [[], []]);
    for (const flagId of ids) {
      const flag = (await b.call('GET', `/api/projects/${pid}/feature_flags/${flagId}/`)).body;
      assert.equal(flag.filters.groups.length, 2, `flag ${flagId} got exactly one new condition`);
      assert.equal(flag.version, 2);
      assert.equal((await scheduledActivity(b, pid, flagId)).length, 1);
    }
    // A change on node a reaches node b through the change notice, and the other way round.
    const flagId = await createFlag(a, pid, 'race-toggle');
    await schedule(a, pid, { record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(T0 + 2000) });
    clock.ms = T0 + 2000;
    await Promise.all([a.app.scheduler.runDue(), b.app.scheduler.runDue()]);
    assert.equal(await servedSoon(a, token, 'race-toggle', false), false);
    assert.equal(await servedSoon(b, token, 'race-toggle', false), false);
  });
});
