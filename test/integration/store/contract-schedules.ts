/**
 * @module test/integration/store/contract-schedules
 * Contract: scheduled changes. Edits under the row lock, the anchor an edit of scheduled_at
 * moves, paused changes never due, a recurring change past its end_date closed unapplied, and a
 * change whose transaction fails retried with PostHog's sentences until the fifth failure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectRow, ScheduledChangePlan, ScheduledChangeWrite } from '../../../src/store/store.ts';
import type { ContractContext } from './store-contract.ts';

/** Every test runs at its own year, so a change left by one is never due in another. */
const at = (year: number, hours = 0) => new Date(Date.UTC(year, 0, 1, hours));

export function scheduleContract(ctx: ContractContext): void {
  describe('scheduled changes', () => {
    async function setup(year: number, over: Partial<ScheduledChangeWrite> = {}): Promise<{ p: ProjectRow; flagId: number; id: number }> {
      const p = await ctx.newProject();
      const flag = await ctx.store().createFlag(p.id, { key: 'f', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }, 'test');
      const change = await ctx.store().createScheduledChange(p.id, {
        recordId: String(flag.id), modelName: 'FeatureFlag', payload: { operation: 'update_status', value: false }, scheduledAt: at(year),
        isRecurring: false, recurrenceInterval: null, cronExpression: null, endDate: null, timezone: 'Europe/Paris', createdBy: 'me', ...over,
      });
      return { p, flagId: flag.id, id: change.id };
    }
    const apply: ScheduledChangePlan = () => ({ write: { active: false }, next: null });

    it('edits a change under its lock; a refused edit writes nothing; a new scheduled_at is the new anchor', async () => {
      const { p, id } = await setup(3001);
      const created = await ctx.store().getScheduledChange(p.id, id);
      assert.equal(created?.timezone, 'Europe/Paris');
      assert.equal(created?.recurrenceAnchorAt?.toISOString(), at(3001).toISOString());
      await assert.rejects(ctx.store().updateScheduledChange(p.id, id, () => {
        throw new Error('refused');
      }), /refused/);
      assert.deepEqual((await ctx.store().getScheduledChange(p.id, id))?.payload, { operation: 'update_status', value: false });
      const edited = await ctx.store().updateScheduledChange(p.id, id, (current) => {
        assert.equal(current.id, id);
        return { payload: { operation: 'update_status', value: true }, scheduledAt: at(3001, 5), endDate: null };
      });
      assert.deepEqual(edited?.payload, { operation: 'update_status', value: true });
      assert.equal(edited?.recurrenceAnchorAt?.toISOString(), at(3001, 5).toISOString());
      assert.equal(await ctx.store().updateScheduledChange(p.id, 987654321, () => ({})), null);
      assert.equal((await ctx.store().updateScheduledChange(p.id + 1000, id, () => ({}))), null, 'another project');
      await ctx.store().deleteScheduledChange(p.id, id);
    });

    it('never runs a paused change; closes a recurring one past its end_date without applying', async () => {
      const paused = await setup(3002, { isRecurring: false, recurrenceInterval: 'daily' });
      assert.equal(await ctx.store().runDueScheduledChange(at(3002, 1), apply), null);
      await ctx.store().deleteScheduledChange(paused.p.id, paused.id);
      const ended = await setup(3003, { isRecurring: true, recurrenceInterval: 'daily', endDate: at(3003, 12) });
      const outcome = await ctx.store().runDueScheduledChange(at(3004), () => assert.fail('not applied'));
      assert.equal(outcome?.skipped, true);
      assert.equal(outcome?.change.executedAt?.toISOString(), at(3004).toISOString());
      assert.equal((await ctx.store().getFlag(ended.p.id, ended.flagId))?.active, true);
    });

    it('retries a change whose transaction fails, with PostHog\'s sentences, and closes it at the fifth failure', async () => {
      const { p, flagId, id } = await setup(3005, { isRecurring: true, recurrenceInterval: 'daily' });
      // An invalid next time fails the UPDATE inside the claim's transaction: everything rolls back.
      const broken: ScheduledChangePlan = () => ({ write: { active: false }, next: new Date(Number.NaN) });
      const reasons: Array<string | null> = [];
      for (let i = 1; i <= 5; i++) {
        await assert.rejects(ctx.store().runDueScheduledChange(at(3005, i), broken));
        const change = await ctx.store().getScheduledChange(p.id, id);
        assert.equal(change?.failureCount, i);
        reasons.push(change?.failureReason?.replace(/^.* \(/, '(') ?? null);
      }
      assert.deepEqual(reasons, [
        '(will retry automatically, 4 attempts remaining)',
        '(will retry automatically, 3 attempts remaining)',
        '(will retry automatically, 2 attempts remaining)',
        '(will retry automatically, 1 attempt remaining)',
        '(failed after 5 out of 5 attempts)',
      ]);
      assert.equal((await ctx.store().getScheduledChange(p.id, id))?.executedAt?.toISOString(), at(3005, 5).toISOString());
      assert.equal(await ctx.store().runDueScheduledChange(at(3006), apply), null, 'closed');
      assert.equal((await ctx.store().getFlag(p.id, flagId))?.version, 1, 'the flag write rolled back each time');
    });
  });
}
