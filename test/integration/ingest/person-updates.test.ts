/**
 * @module test/integration/ingest/person-updates.test
 * Person-changing events through the capture endpoints (spec §9): $set/$set_once/$unset order,
 * $identify merges, $create_alias, $merge_dangerously, personless events, retries, partial
 * batches and tenant isolation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { capture, json, propsOf, startIngestApp, STORE_KINDS, type IngestApp } from './ingest-harness.ts';

for (const kind of STORE_KINDS) {
  describe(`person updates through capture (${kind})`, () => {
    let t: IngestApp;
    before(async () => {
      t = await startIngestApp(kind);
    });
    after(async () => {
      await t?.close();
    });
    const send = async (events: unknown[], token = t.a.token) => {
      const res = await capture(t, { api_key: token, batch: events });
      assert.equal(res.statusCode, 200, res.body);
      return json(res);
    };
    const person = (id: string) => t.store.getPersonByDistinctId(t.a.id, id);

    test('within one event: $set_once fills only absent keys, then $set overwrites, then $unset removes', async () => {
      await send([{ event: '$set', distinct_id: 'ord', properties: { $set: { a: 1, keep: 'x' } } }]);
      await send([
        {
          event: '$pageview',
          distinct_id: 'ord',
          properties: { $set_once: { a: 'once', b: 'once', c: 'once' }, $set: { c: 'set', d: 'set' }, $unset: ['keep', 'd'] },
        },
      ]);
      assert.deepEqual(await propsOf(t, t.a.id, 'ord'), { a: 1, b: 'once', c: 'set' });
    });

    test('across events of a batch, order is kept; $unset as an object; top-level $set merged under properties.$set', async () => {
      await send([
        { event: 'e', distinct_id: 'seq', properties: { $set: { v: 1, w: 1 } } },
        { event: 'e', distinct_id: 'seq', properties: { $set: { v: 2 } } },
        { event: 'e', distinct_id: 'seq', properties: { $unset: { w: true } } },
        { event: 'e', distinct_id: 'seq', $set: { top: 't', both: 'top' }, properties: { $set: { both: 'props' } } },
      ]);
      assert.deepEqual(await propsOf(t, t.a.id, 'seq'), { v: 2, top: 't', both: 'props' });
    });

    test('any event creates its person; $exception, $$heatmap and $process_person_profile=false never touch persons', async () => {
      await send([
        { event: '$pageview', distinct_id: 'plain' },
        { event: '$exception', distinct_id: 'exc', properties: { $set: { no: 1 } } },
        { event: '$$heatmap', distinct_id: 'heat', properties: { $set: { no: 1 } } },
        { event: '$pageview', distinct_id: 'anon-js', properties: { $process_person_profile: false, $set: { no: 1 } } },
      ]);
      assert.deepEqual(await propsOf(t, t.a.id, 'plain'), {});
      for (const id of ['exc', 'heat', 'anon-js']) assert.equal(await person(id), null, id);
    });

    test('$identify merges the anonymous person into the identified one; the distinct_id person wins conflicts', async () => {
      await send([{ event: '$pageview', distinct_id: 'anon-1', properties: { $set: { from: 'anon', onlyAnon: 1 } } }]);
      await send([{ event: '$set', distinct_id: 'user-1', properties: { $set: { from: 'user', onlyUser: 1 } } }]);
      const body = await send([{ event: '$identify', distinct_id: 'user-1', properties: { $anon_distinct_id: 'anon-1', $set: { email: 'u@x.io' } } }]);
      assert.deepEqual(body, { status: 'Ok' });
      const viaUser = await person('user-1');
      const viaAnon = await person('anon-1');
      assert.equal(viaUser!.id, viaAnon!.id);
      assert.deepEqual(viaUser!.distinctIds, ['anon-1', 'user-1']);
      assert.deepEqual(viaUser!.properties, { from: 'user', onlyAnon: 1, onlyUser: 1, email: 'u@x.io' });
      assert.equal(viaUser!.isIdentified, true);
      const changed = t.notices.persons.at(-1)!;
      assert.equal(changed.projectId, t.a.id);
      assert.deepEqual([...changed.distinctIds].sort(), ['anon-1', 'user-1']);
    });

    test('$identify with an unknown distinct_id attaches it to the anonymous person; with neither, creates one person', async () => {
      await send([{ event: '$pageview', distinct_id: 'anon-2', properties: { $set: { a: 1 } } }]);
      await send([{ event: '$identify', distinct_id: 'user-2', properties: { $anon_distinct_id: 'anon-2' } }]);
      assert.equal((await person('user-2'))!.id, (await person('anon-2'))!.id);
      assert.deepEqual((await person('user-2'))!.properties, { a: 1 });
      await send([{ event: '$identify', distinct_id: 'user-3', properties: { $anon_distinct_id: 'anon-3', $set_once: { first: true } } }]);
      const p = await person('anon-3');
      assert.deepEqual(p!.distinctIds, ['anon-3', 'user-3']);
      assert.deepEqual(p!.properties, { first: true });
      assert.equal(p!.isIdentified, true);
    });

    test('$identify does not merge an already identified person, nor generic ids like "anonymous"; it says so', async () => {
      await send([{ event: '$identify', distinct_id: 'idA', properties: { $anon_distinct_id: 'anonA' } }]);
      await send([{ event: '$identify', distinct_id: 'idB', properties: { $anon_distinct_id: 'anonB' } }]);
      const refused = await send([{ event: '$identify', distinct_id: 'idB', properties: { $anon_distinct_id: 'idA' } }]);
      assert.equal(refused.warnings[0].code, 'cannot_merge_already_identified');
      assert.notEqual((await person('idA'))!.id, (await person('idB'))!.id);
      const body = await send([{ event: '$identify', distinct_id: 'real-user', properties: { $anon_distinct_id: 'anonymous', $set: { ok: 1 } } }]);
      assert.equal(body.warnings[0].code, 'cannot_merge_with_illegal_distinct_id');
      assert.equal(await person('anonymous'), null);
      assert.deepEqual(await propsOf(t, t.a.id, 'real-user'), { ok: 1 });
    });

    test('$create_alias links ids (alias merged into distinct_id); $merge_dangerously merges identified persons too', async () => {
      await send([{ event: '$set', distinct_id: 'main', properties: { $set: { k: 'main' } } }]);
      await send([{ event: '$set', distinct_id: 'other', properties: { $set: { k: 'other', o: 1 } } }]);
      await send([{ event: '$create_alias', distinct_id: 'main', properties: { distinct_id: 'main', alias: 'other' } }]);
      const merged = await person('other');
      assert.deepEqual(merged!.distinctIds, ['main', 'other']);
      assert.deepEqual(merged!.properties, { k: 'main', o: 1 });

      await send([{ event: '$identify', distinct_id: 'idC', properties: { $anon_distinct_id: 'anonC' } }]);
      await send([{ event: '$identify', distinct_id: 'idD', properties: { $anon_distinct_id: 'anonD' } }]);
      await send([{ event: '$merge_dangerously', distinct_id: 'idC', properties: { alias: 'idD' } }]);
      assert.deepEqual((await person('idD'))!.distinctIds, ['anonC', 'anonD', 'idC', 'idD']);
      const noAlias = await send([{ event: '$create_alias', distinct_id: 'lonely', properties: {} }]);
      assert.equal(noAlias.warnings[0].code, 'missing_alias');
    });

    test('a retried batch leaves the person exactly as one delivery does', async () => {
      const batch = [
        { event: '$pageview', distinct_id: 'anon-r', properties: { $set_once: { first_seen: 'day1' } } },
        { event: '$identify', distinct_id: 'user-r', properties: { $anon_distinct_id: 'anon-r', $set: { plan: 'pro' } } },
        { event: '$set', distinct_id: 'user-r', properties: { $set: { n: 1 }, $unset: ['tmp'] } },
      ];
      await send(batch);
      const once = await person('user-r');
      await send(batch);
      await send(batch);
      const thrice = await person('user-r');
      assert.equal(thrice!.id, once!.id);
      assert.deepEqual(thrice!.properties, once!.properties);
      assert.deepEqual(thrice!.distinctIds, ['anon-r', 'user-r']);
      assert.deepEqual(thrice!.properties, { first_seen: 'day1', plan: 'pro', n: 1 });
    });

    test('malformed events are reported by index with a clear error; the other events of the batch are applied', async () => {
      const body = await send([
        { event: '$set', distinct_id: 'good-1', properties: { $set: { ok: 1 } } },
        { distinct_id: 'x', properties: { $set: { a: 1 } } },
        { event: '$set', properties: { $set: { a: 1 } } },
        { event: '$set', distinct_id: { nested: true } },
        { event: 42, distinct_id: 'x' },
        { event: '$set', distinct_id: 'x', properties: 'oops' },
        { event: '$set', distinct_id: 'x', properties: { $set: ['not', 'an', 'object'] } },
        { event: '$set', distinct_id: 'x', properties: { $unset: 7 } },
        'not an event',
        { event: '$groupidentify', distinct_id: 'x', properties: { $group_key: 'k' } },
        { event: '$set', distinct_id: 'good-2', properties: { $set: { ok: 2 } } },
      ]);
      assert.equal(body.status, 'Ok');
      assert.deepEqual(
        body.errors.map((e: { index: number; code: string }) => [e.index, e.code]),
        [
          [1, 'missing_event_name'],
          [2, 'missing_distinct_id'],
          [3, 'invalid_distinct_id'],
          [4, 'missing_event_name'],
          [5, 'malformed_event_properties'],
          [6, 'malformed_event_properties'],
          [7, 'malformed_event_properties'],
          [8, 'invalid_event'],
          [9, 'invalid_group_event'],
        ],
      );
      for (const e of body.errors) assert.ok(e.error.length > 10, e.error);
      assert.deepEqual(await propsOf(t, t.a.id, 'good-1'), { ok: 1 });
      assert.deepEqual(await propsOf(t, t.a.id, 'good-2'), { ok: 2 });
      assert.equal(await person('x'), null);
    });

    test('a single invalid event, or a batch of only invalid events, is a 400 naming the problem', async () => {
      const single = await capture(t, { api_key: t.a.token, event: '', distinct_id: 'a' }, '/e/');
      assert.equal(single.statusCode, 400);
      assert.deepEqual([json(single).status, json(single).code], [400, 'missing_event_name']);
      const batch = await capture(t, { api_key: t.a.token, batch: [{ event: 'x' }, { event: 'y', distinct_id: null }] });
      assert.equal(batch.statusCode, 400);
      assert.equal(json(batch).code, 'missing_distinct_id');
      assert.equal(json(batch).errors.length, 2);
    });

    test('numbers become text ids, long ids are cut at 200 characters, NUL is replaced', async () => {
      await send([
        { event: '$set', distinct_id: 12345, properties: { $set: { n: true } } },
        { event: '$set', distinct_id: 'L'.repeat(250), properties: { $set: { long: true } } },
        { event: '$set', distinct_id: 'nul\u0000id', properties: { $set: { 'k\u0000': 'v\u0000' } } },
      ]);
      assert.deepEqual(await propsOf(t, t.a.id, '12345'), { n: true });
      assert.deepEqual(await propsOf(t, t.a.id, 'L'.repeat(200)), { long: true });
      assert.notEqual(await person('nul\uFFFDid'), null);
    });

    test('tenant isolation: project A\'s token never writes project B, even for the same distinct id', async () => {
      await send([{ event: '$set', distinct_id: 'shared', properties: { $set: { owner: 'a' } } }], t.a.token);
      await send([{ event: '$set', distinct_id: 'shared', properties: { $set: { owner: 'b' } } }], t.b.token);
      // An event naming B's token inside A's batch still belongs to A: the batch token wins.
      await send([{ event: '$set', distinct_id: 'shared', token: t.b.token, properties: { $set: { sneaky: true } } }], t.a.token);
      await send([{ event: '$identify', distinct_id: 'shared', properties: { $anon_distinct_id: 'b-only' } }], t.a.token);
      assert.deepEqual(await propsOf(t, t.a.id, 'shared'), { owner: 'a', sneaky: true });
      assert.deepEqual(await propsOf(t, t.b.id, 'shared'), { owner: 'b' });
      assert.deepEqual((await t.store.getPersonByDistinctId(t.b.id, 'shared'))!.distinctIds, ['shared']);
      assert.equal(await t.store.getPersonByDistinctId(t.b.id, 'b-only'), null);
      assert.ok(t.notices.persons.filter((n) => n.projectId === t.b.id).every((n) => !n.distinctIds.includes('b-only')));
    });
  });
}
