/**
 * A due scheduled change passes the rules of an admin edit against the definitions at the time
 * it runs (a dependency cycle made after it was scheduled, a deleted cohort, disabling a flag
 * others depend on): it fails with PostHog's sentence, leaves the flag as it was and is not
 * retried. And an interval change in a project with DST keeps its local time (passed-in clock).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestClock } from './clocked-app.ts';
import { clockedNode, createFlag, flagValue, iso, schedule, scheduledActivity, storedChange } from './schedule-helpers.ts';

const KEY = 'phx_schedule_apply_key_0123456789';
const T0 = Date.UTC(2030, 2, 1, 12, 0, 0);

const dependsOn = (id: number) => ({ properties: [{ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value: true }], rollout_percentage: 100 });

describe('scheduled changes are validated when they run', () => {
  const clock = new TestClock(T0);
  const t = clockedNode('postgres', KEY, clock);

  /** Runs what is due now and returns the one outcome, checking it failed and stays closed. */
  async function runFailing(flagId: number): Promise<string> {
    const outcomes = await t.node.app.scheduler.runDue();
    assert.equal(outcomes.length, 1, JSON.stringify(outcomes));
    const { change, failure } = outcomes[0]!;
    assert.notEqual(failure, null);
    assert.deepEqual(await t.node.app.scheduler.runDue(), [], 'not retried');
    const stored = await storedChange(t.node, t.pid, change.id);
    assert.equal(stored.failure_reason, failure);
    assert.notEqual(stored.executed_at, null);
    assert.equal((await scheduledActivity(t.node, t.pid, flagId)).length, 0, 'the flag was not written');
    return failure!;
  }

  test('a dependency that became a cycle after scheduling fails the change', async () => {
    const a = await createFlag(t.node, t.pid, 'cycle-a');
    const b = await createFlag(t.node, t.pid, 'cycle-b');
    await schedule(t.node, t.pid, { record_id: a, payload: { operation: 'add_release_condition', value: { groups: [dependsOn(b)] } }, scheduled_at: iso(clock.ms + 1000) });
    // Valid when scheduled; then b comes to depend on a.
    const edit = await t.node.call('PATCH', `/api/projects/${t.pid}/feature_flags/${b}/`, { filters: { groups: [dependsOn(a)] } });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    clock.ms += 1000;
    assert.equal(await runFailing(a), 'Circular dependency detected: cycle-a → cycle-b → cycle-a (permanent error)');
    const flag = (await t.node.call('GET', `/api/projects/${t.pid}/feature_flags/${a}/`)).body;
    assert.equal(flag.filters.groups.length, 1);
  });

  test('a cohort deleted after scheduling, and a disabled dependency, fail the change', async () => {
    const cohort = await t.node.call('POST', `/api/projects/${t.pid}/cohorts/`, { name: 'pros', filters: { properties: { type: 'AND', values: [{ type: 'person', key: 'plan', operator: 'exact', value: 'pro' }] } } });
    assert.equal(cohort.status, 201, JSON.stringify(cohort.body));
    const flagId = await createFlag(t.node, t.pid, 'cohort-target');
    await schedule(t.node, t.pid, {
      record_id: flagId,
      payload: { operation: 'add_release_condition', value: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohort.body.id }], rollout_percentage: 100 }] } },
      scheduled_at: iso(clock.ms + 1000),
    });
    assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/cohorts/${cohort.body.id}/`, { deleted: true })).status, 200);
    clock.ms += 1000;
    assert.equal(await runFailing(flagId), `Cohort with id ${cohort.body.id} does not exist (permanent error)`);

    const base = await createFlag(t.node, t.pid, 'dep-base');
    const dependent = await createFlag(t.node, t.pid, 'dep-top', { groups: [dependsOn(base)] });
    await schedule(t.node, t.pid, { record_id: base, payload: { operation: 'update_status', value: false }, scheduled_at: iso(clock.ms + 1000) });
    clock.ms += 1000;
    assert.equal(
      await runFailing(base),
      `Cannot disable this feature flag because other flags depend on it: dep-top (ID: ${dependent}). Please update or disable the dependent flags first. (permanent error)`,
    );
    assert.equal(await flagValue(t.node, t.token, 'dep-base'), true);
  });

  test('a daily 09:00 change in New York stays at 09:00 local across the March DST switch', async () => {
    assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/`, { timezone: 'America/New_York' })).status, 200);
    const flagId = await createFlag(t.node, t.pid, 'morning-off');
    // Friday 8 March 2030, 09:00 EST = 14:00 UTC; DST starts Sunday 10 March.
    const first = Date.UTC(2030, 2, 8, 14, 0, 0);
    clock.ms = first - 60_000;
    const change = await schedule(t.node, t.pid, {
      record_id: flagId, payload: { operation: 'update_status', value: false }, scheduled_at: iso(first), is_recurring: true, recurrence_interval: 'daily',
    });
    const runs: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock.ms = new Date((await storedChange(t.node, t.pid, change.id)).scheduled_at).getTime();
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/feature_flags/${flagId}/`, { active: true })).status, 200);
      assert.equal((await t.node.app.scheduler.runDue()).length, 1);
      assert.equal(await flagValue(t.node, t.token, 'morning-off'), false);
      runs.push(iso(clock.ms));
    }
    assert.deepEqual(runs, ['2030-03-08T14:00:00.000Z', '2030-03-09T14:00:00.000Z', '2030-03-10T13:00:00.000Z', '2030-03-11T13:00:00.000Z']);
    assert.equal((await storedChange(t.node, t.pid, change.id)).scheduled_at, '2030-03-12T13:00:00.000Z');
    assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/`, { timezone: 'UTC' })).status, 200);
  });
});
