// Issue 13 §5: one client's 1 MB person property against regex flags fails those flags
// (errorsWhileComputingFlags) without being scanned, and every other flag answers as usual.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addFlag, json, postFlags, rollout, startTestApp, STORE_KINDS, type TestApp } from './http-helpers.ts';
import { lastMatchBudgetSpent } from '../../../src/engine/match/match-budget.ts';

const REGEX_FLAGS = ['rx-email', 'rx-lookahead', 'rx-not', 'rx-case'];

async function addFlags(t: TestApp): Promise<void> {
  const regex = (key: string, operator: string, value: string) =>
    addFlag(t, t.project.id, key, { groups: [{ properties: [{ key: 'email', type: 'person', operator, value }] }] });
  await regex('rx-email', 'regex', '^[^@]+@(gmail|example)\\.com$');
  await regex('rx-lookahead', 'regex', '^(?!.*test).*@example\\.com$');
  await regex('rx-not', 'not_regex', '@spam\\.[a-z]+$');
  await regex('rx-case', 'regex', '(?i)ANN@');
  await addFlag(t, t.project.id, 'plan-pro', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] });
  await addFlag(t, t.project.id, 'everyone', rollout(100));
}

/** A 1 MB email: just under the default 1 MiB body limit once wrapped in JSON. */
const abusiveBody = (token: string) =>
  JSON.stringify({ token, distinct_id: 'abuser', person_properties: { email: 'a'.repeat(1_000_000 - 12) + '@example.com', plan: 'pro' } });

for (const kind of STORE_KINDS) {
  describe(`a 1 MB property against regex flags (${kind} store)`, () => {
    let t: TestApp;
    let unlimited: TestApp;
    let base = '';
    before(async () => {
      t = await startTestApp(kind);
      await addFlags(t);
      await t.app.server.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.server.address();
      base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      unlimited = await startTestApp(kind, { VEXIL_MATCH_BUDGET_CHARS: '0' });
      await addFlags(unlimited);
    });
    after(async () => {
      await t.close();
      await unlimited.close();
    });

    test('the regex flags fail with match_budget_exceeded, unscanned; the other flags answer', async () => {
      const res = await postFlags(t, abusiveBody(t.project.token));
      assert.equal(res.statusCode, 200);
      const body = json(res);
      assert.equal(body.errorsWhileComputingFlags, true);
      for (const key of REGEX_FLAGS) {
        const f = body.flags[key];
        assert.equal(f.enabled, false, key);
        assert.equal(f.failed, true, key);
        assert.equal(f.reason.code, 'match_budget_exceeded', key);
      }
      assert.equal(body.flags['plan-pro'].enabled, true);
      assert.notEqual(body.flags['plan-pro'].failed, true);
      assert.equal(body.flags.everyone.enabled, true);
      // The evaluation paid for nothing: every search was refused before it started.
      assert.equal(lastMatchBudgetSpent(), 0);
    });

    test('the same through the node:http fast path, then a neighbour is matched as usual', async () => {
      const abusive = await fetch(`${base}/flags?v=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: abusiveBody(t.project.token) });
      assert.equal(abusive.status, 200);
      const a = (await abusive.json()) as any;
      assert.equal(a.errorsWhileComputingFlags, true);
      assert.deepEqual(REGEX_FLAGS.filter((k) => a.flags[k].failed), REGEX_FLAGS);

      const neighbour = await fetch(`${base}/flags?v=2`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: t.project.token, distinct_id: 'ann', person_properties: { email: 'ann@example.com', plan: 'free' } }),
      });
      const n = (await neighbour.json()) as any;
      assert.equal(n.errorsWhileComputingFlags, false);
      for (const key of REGEX_FLAGS) assert.equal(n.flags[key].enabled, true, key);
      assert.equal(n.flags['plan-pro'].enabled, false);
    });

    test('VEXIL_MATCH_BUDGET_CHARS=0 lifts the budget: the megabyte is matched', async () => {
      const res = await postFlags(unlimited, abusiveBody(unlimited.project.token));
      const body = json(res);
      assert.equal(body.errorsWhileComputingFlags, false);
      assert.equal(body.flags['rx-lookahead'].enabled, true);
      assert.equal(body.flags['rx-not'].enabled, true);
      assert.equal(body.flags['rx-email'].enabled, true);
    });
  });
}
