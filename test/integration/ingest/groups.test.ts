/**
 * @module test/integration/ingest/groups.test
 * $groupidentify (spec §9): group types get indexes 0–4 per project on first use, a sixth type
 * is refused without losing the rest of the batch, $group_set merges into the group row.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { capture, json, startIngestApp, STORE_KINDS, type IngestApp } from './ingest-harness.ts';

const groupEvent = (type: string, key: string | number, set?: unknown) => ({
  event: '$groupidentify',
  distinct_id: `$${type}_${key}`,
  properties: { $group_type: type, $group_key: key, ...(set === undefined ? {} : { $group_set: set }) },
});

for (const kind of STORE_KINDS) {
  describe(`$groupidentify (${kind})`, () => {
    let t: IngestApp;
    before(async () => {
      t = await startIngestApp(kind);
    });
    after(async () => {
      await t?.close();
    });

    test('assigns indexes 0..4 in order of first use, then refuses a sixth type while applying the rest', async () => {
      const types = ['company', 'team', 'org', 'workspace', 'account'];
      const res = await capture(t, {
        api_key: t.a.token,
        batch: [
          ...types.map((type, i) => groupEvent(type, `k${i}`, { n: i })),
          groupEvent('sixth', 'k5', { n: 5 }),
          { event: '$set', distinct_id: 'after-sixth', properties: { $set: { ok: true } } },
          groupEvent('company', 'k0', { more: 'yes' }),
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = json(res);
      assert.deepEqual(body.errors.map((e: { index: number; code: string }) => [e.index, e.code]), [[5, 'group_type_limit']]);
      assert.match(body.errors[0].error, /maximum of 5 group types.*"sixth"/);
      assert.deepEqual(await t.store.getGroupTypeMapping(t.a.id), { 0: 'company', 1: 'team', 2: 'org', 3: 'workspace', 4: 'account' });
      for (let i = 0; i < types.length; i++) {
        const g = await t.store.getGroup(t.a.id, i, `k${i}`);
        assert.equal(g?.properties.n, i);
      }
      assert.deepEqual((await t.store.getGroup(t.a.id, 0, 'k0'))!.properties, { n: 0, more: 'yes' });
      assert.notEqual(await t.store.getPersonByDistinctId(t.a.id, 'after-sixth'), null);
      // One definitions notice per batch that created types; group notices name what was written.
      assert.deepEqual(t.notices.definitions, [t.a.id]);
      assert.deepEqual(t.notices.groups.at(-1)!.groups.map((g) => g.groupTypeIndex), [0, 1, 2, 3, 4, 0]);
    });

    test('a batch of only a sixth type is still 200 (the request was valid) and reports the refusal', async () => {
      const res = await capture(t, { api_key: t.a.token, batch: [groupEvent('seventh', 'x')] });
      assert.equal(res.statusCode, 200);
      assert.equal(json(res).errors[0].code, 'group_type_limit');
      assert.equal(t.notices.definitions.length, 1);
    });

    test('each project has its own five indexes; known types do not notify; keys may be numbers', async () => {
      const res = await capture(t, { api_key: t.b.token, batch: [groupEvent('team', 42, { plan: 'b' }), groupEvent('team', 43)] });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(await t.store.getGroupTypeMapping(t.b.id), { 0: 'team' });
      assert.deepEqual((await t.store.getGroup(t.b.id, 0, '42'))!.properties, { plan: 'b' });
      assert.deepEqual((await t.store.getGroup(t.b.id, 0, '43'))!.properties, {});
      assert.equal(await t.store.getGroup(t.a.id, 1, '42'), null);
      assert.deepEqual(t.notices.definitions, [t.a.id, t.b.id]);
      await capture(t, { api_key: t.b.token, batch: [groupEvent('team', 42, { plan: 'c' })] });
      assert.deepEqual(t.notices.definitions, [t.a.id, t.b.id]);
      assert.deepEqual((await t.store.getGroup(t.b.id, 0, '42'))!.properties, { plan: 'c' });
    });

    test("posthog-node's `$type_key` distinct id does not become a person", async () => {
      await capture(t, { api_key: t.b.token, batch: [groupEvent('team', 'nop', { a: 1 })] });
      assert.equal(await t.store.getPersonByDistinctId(t.b.id, '$team_nop'), null);
    });

    test('a $groupidentify without $group_type or with a non-object $group_set is rejected by index', async () => {
      const res = await capture(t, {
        api_key: t.b.token,
        batch: [
          { event: '$groupidentify', distinct_id: 'd', properties: { $group_key: 'k' } },
          { event: '$groupidentify', distinct_id: 'd', properties: { $group_type: 'team', $group_key: 'k', $group_set: [1] } },
          { event: '$groupidentify', distinct_id: 'd', properties: { $group_type: 'team', $group_key: { bad: 1 } } },
          groupEvent('team', 'fine', { ok: 1 }),
        ],
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(json(res).errors.map((e: { code: string }) => e.code), ['invalid_group_event', 'invalid_group_event', 'invalid_group_event']);
      assert.deepEqual((await t.store.getGroup(t.b.id, 0, 'fine'))!.properties, { ok: 1 });
    });
  });
}
