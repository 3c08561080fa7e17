/**
 * Editing scheduled changes as PostHog's API allows (PATCH and PUT on
 * `/api/projects/:id/scheduled_changes/:id/`): a pending change takes a new payload or time, the
 * target never changes, a one-time change that ran is frozen, a recurring one pauses and
 * resumes, and a recurring change whose end_date passed before it ran is closed unapplied.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoreKind } from '../../helpers/db.ts';
import { TestClock } from './clocked-app.ts';
import { clockedNode, createFlag, flagValue, iso, schedule, storedChange } from './schedule-helpers.ts';

const KEY = 'phx_schedule_edit_key_0123456789';
const T0 = Date.UTC(2030, 5, 1, 8, 0, 0);
const HOUR = 3_600_000;
const DAY = 86_400_000;
const off = { operation: 'update_status', value: false };
const on = { operation: 'update_status', value: true };

for (const kind of ['embedded', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`editing scheduled changes (${kind} store)`, () => {
    const clock = new TestClock(T0);
    const t = clockedNode(kind, KEY, clock);
    const url = (id: number) => `/api/projects/${t.pid}/scheduled_changes/${id}/`;
    const expect400 = async (method: string, id: number, body: unknown, attr: string | null, detail: string) => {
      const res = await t.node.call(method, url(id), body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual({ attr: res.body.attr, detail: res.body.detail }, { attr, detail });
    };

    test('a pending change takes a new payload and time; the target and read-only fields do not change', async () => {
      const flagId = await createFlag(t.node, t.pid, 'edit-me');
      const otherId = await createFlag(t.node, t.pid, 'other');
      const change = await schedule(t.node, t.pid, { record_id: flagId, payload: off, scheduled_at: iso(clock.ms + HOUR) });
      const res = await t.node.call('PATCH', url(change.id), { payload: on, scheduled_at: iso(clock.ms + 2 * HOUR), executed_at: iso(clock.ms), timezone: 'Asia/Tokyo', id: 999 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.payload, on);
      assert.equal(res.body.scheduled_at, iso(clock.ms + 2 * HOUR));
      assert.equal(res.body.executed_at, null, 'read-only: ignored');
      assert.equal(res.body.timezone, 'UTC', 'read-only: ignored');
      assert.equal(res.body.id, change.id);
      await expect400('PATCH', change.id, { record_id: String(otherId) }, 'record_id', 'Cannot change the target record of an existing scheduled change.');
      await expect400('PATCH', change.id, { model_name: 'Survey' }, 'model_name', '"Survey" is not a valid choice.');
      await expect400('PATCH', change.id, { recurrence_interval: 'fortnightly' }, 'recurrence_interval', '"fortnightly" is not a valid choice.');
      await expect400('PATCH', change.id, { end_date: iso(clock.ms) }, 'end_date', 'End date must be after the scheduled start date.');
      await expect400('PUT', change.id, { payload: on }, 'record_id', 'This field is required.');
      assert.equal((await t.node.call('PATCH', url(987654), { payload: on })).status, 404);

      // PUT replaces the writable fields (record_id unchanged is accepted).
      const put = await t.node.call('PUT', url(change.id), { record_id: String(flagId), model_name: 'FeatureFlag', payload: off, scheduled_at: iso(clock.ms + 3 * HOUR) });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.payload, off);

      // Nothing runs at the old times; the edited change runs at its new one.
      clock.ms += 2 * HOUR;
      assert.deepEqual(await t.node.app.scheduler.runDue(), []);
      clock.ms += HOUR;
      assert.equal((await t.node.app.scheduler.runDue()).length, 1);
      assert.equal(await flagValue(t.node, t.token, 'edit-me'), false);

      // Once it ran, a one-time change is frozen, whatever the edit.
      const frozen = 'Cannot modify a scheduled change that has already executed.';
      await expect400('PATCH', change.id, { payload: on }, null, frozen);
      await expect400('PATCH', change.id, { executed_at: null }, null, frozen);
      await expect400('PATCH', change.id, { scheduled_at: iso(clock.ms + DAY) }, null, frozen);
      await expect400('PUT', change.id, { record_id: String(flagId), model_name: 'FeatureFlag', payload: on, scheduled_at: iso(clock.ms + DAY) }, null, frozen);
      assert.notEqual((await storedChange(t.node, t.pid, change.id)).executed_at, null);
      assert.equal((await t.node.call('DELETE', url(change.id))).status, 204, 'it can still be deleted');
    });

    test('a change whose flag was deleted cannot be edited', async () => {
      const flagId = await createFlag(t.node, t.pid, 'soon-gone');
      const change = await schedule(t.node, t.pid, { record_id: flagId, payload: off, scheduled_at: iso(clock.ms + HOUR) });
      assert.equal((await t.node.call('PATCH', `/api/projects/${t.pid}/feature_flags/${flagId}/`, { deleted: true })).status, 200);
      await expect400('PATCH', change.id, { payload: on }, null, 'Feature flag not found');
      assert.equal((await t.node.call('DELETE', url(change.id))).status, 204);
    });

    test('a recurring change pauses with is_recurring false, resumes, switches from cron to an interval', async () => {
      const flagId = await createFlag(t.node, t.pid, 'pausable');
      const start = clock.ms + HOUR;
      const change = await schedule(t.node, t.pid, { record_id: flagId, payload: off, scheduled_at: iso(start), is_recurring: true, cron_expression: '0 * * * *' });
      await expect400('PATCH', change.id, { recurrence_interval: 'daily' }, 'cron_expression', 'Cannot set both cron_expression and recurrence_interval. Use one or the other.');
      await expect400('PATCH', change.id, { payload: { operation: 'add_release_condition', value: { groups: [{ properties: [] }] } } }, 'payload',
        'Recurring schedules are not supported for add_release_condition because it appends conditions on each run, creating duplicates.');
      const paused = await t.node.call('PATCH', url(change.id), { is_recurring: false });
      assert.equal(paused.status, 200, JSON.stringify(paused.body));
      assert.equal(paused.body.cron_expression, '0 * * * *', 'the recurrence is kept while paused');
      clock.ms = start;
      assert.deepEqual(await t.node.app.scheduler.runDue(), [], 'a paused change does not run');
      assert.equal(await flagValue(t.node, t.token, 'pausable'), true);

      const resumed = await t.node.call('PATCH', url(change.id), { is_recurring: true, cron_expression: null, recurrence_interval: 'daily' });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      assert.deepEqual([resumed.body.cron_expression, resumed.body.recurrence_interval], [null, 'daily']);
      const [outcome] = await t.node.app.scheduler.runDue();
      assert.equal(outcome?.failure, null);
      assert.equal(await flagValue(t.node, t.token, 'pausable'), false);
      const stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.scheduled_at, iso(start + DAY));
      assert.equal(stored.executed_at, null);

      // Rescheduling moves where the interval counts from.
      const moved = await t.node.call('PATCH', url(change.id), { scheduled_at: iso(start + DAY + 30 * 60_000) });
      assert.equal(moved.status, 200);
      clock.ms = start + DAY + 30 * 60_000;
      const ran = await t.node.app.scheduler.runDue();
      assert.equal(ran.length, 1, JSON.stringify(ran));
      assert.equal((await storedChange(t.node, t.pid, change.id)).scheduled_at, iso(start + 2 * DAY + 30 * 60_000));
      assert.equal((await t.node.call('DELETE', url(change.id))).status, 204);
    });

    test('a recurring change whose end_date passed before it ran is closed without applying; it stays editable', async () => {
      const flagId = await createFlag(t.node, t.pid, 'window-closed');
      const start = clock.ms + HOUR;
      const change = await schedule(t.node, t.pid, { record_id: flagId, payload: off, scheduled_at: iso(start), is_recurring: true, recurrence_interval: 'daily', end_date: iso(start + 12 * HOUR) });
      clock.ms = start + DAY;
      const [outcome] = await t.node.app.scheduler.runDue();
      assert.equal(outcome?.skipped, true);
      assert.equal(outcome?.failure, null);
      assert.equal(await flagValue(t.node, t.token, 'window-closed'), true, 'not applied');
      const stored = await storedChange(t.node, t.pid, change.id);
      assert.equal(stored.executed_at, iso(clock.ms));
      assert.equal(stored.last_executed_at, null);
      // PostHog freezes only one-time changes: a finished recurring one accepts edits and stays finished.
      const edited = await t.node.call('PATCH', url(change.id), { end_date: iso(clock.ms + 10 * DAY) });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal(edited.body.executed_at, iso(clock.ms));
      assert.deepEqual(await t.node.app.scheduler.runDue(), []);
    });
  });
}
