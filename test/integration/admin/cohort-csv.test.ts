/**
 * @module test/integration/admin/cohort-csv.test
 * Static cohorts from a CSV upload (multipart/form-data with a `csv` file), as PostHog's UI sends
 * it: on create and on update, only existing persons join, a bad file changes nothing, on both backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, openAdmin, type AdminHarness, type Reply } from './admin-harness.ts';

/** A multipart body built by the platform's own FormData encoder. */
async function form(fields: Record<string, string>, csv?: string | Buffer, extraFile?: string): Promise<{ payload: Buffer; contentType: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (csv !== undefined) fd.append('csv', new Blob([csv]), 'people.csv');
  if (extraFile !== undefined) fd.append(extraFile, new Blob(['x']), 'other.csv');
  const res = new Response(fd);
  return { payload: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type')! };
}

for (const kind of STORE_KINDS) {
  describe(`admin cohorts: CSV upload (${kind})`, () => {
    let h: AdminHarness;
    let pid: number;
    let P: string;
    let ann: string;
    before(async () => {
      h = await openAdmin(kind);
      pid = (await h.makeProject('CSV')).id;
      P = `/api/projects/${pid}/cohorts`;
      await h.db.store.applyPersonUpdates(pid, [
        { distinctId: 'ann', set: { email: 'ann@x.io' } },
        { distinctId: 'bob', set: { email: 'bob@x.io' } },
        { distinctId: 'cat', set: { email: 'cat@x.io' } },
      ]);
      ann = (await h.db.store.getPersonByDistinctId(pid, 'ann'))!.id;
    });
    after(async () => h.close());

    const send = async (method: 'POST' | 'PATCH' | 'PUT', url: string, body: { payload: Buffer; contentType: string }): Promise<Reply> => {
      const res = await h.app.inject({ method, url, payload: body.payload, headers: { authorization: `Bearer ${h.rootKey}`, 'content-type': body.contentType } });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers, raw: res.body };
    };
    const members = async (cohortId: number): Promise<string[]> => {
      const out: string[] = [];
      for (const id of ['ann', 'bob', 'cat', 'dan-unknown']) {
        const data = await h.db.store.loadEvaluationData({ projectId: pid, distinctId: id, groups: [] });
        if (data.staticCohortIds.includes(cohortId)) out.push(id);
      }
      return out;
    };
    const cohortCount = async () => (await h.call('GET', `${P}/`)).body.count as number;

    test('POST multipart with a CSV of distinct ids creates a static cohort of the persons that exist', async () => {
      const before = h.notices.length;
      const res = await send('POST', `${P}/`, await form({ name: 'From CSV', is_static: 'true' }, 'ann\nbob\ndan-unknown\n'));
      assert.equal(res.status, 201, res.raw);
      assert.deepEqual([res.body.name, res.body.is_static, res.body.cohort_type], ['From CSV', true, 'static']);
      assert.deepEqual(await members(res.body.id), ['ann', 'bob']);
      assert.equal(await h.db.store.getPersonByDistinctId(pid, 'dan-unknown'), null, 'a CSV never creates persons');
      assert.ok(h.notices.length > before, 'the change is announced');
    });

    test('a CSV by email, by person_id, or with several columns picks its id column as PostHog does', async () => {
      const byEmail = await send('POST', `${P}/`, await form({ name: 'emails', is_static: 'True' }, 'email\ncat@x.io\nnobody@x.io\n'));
      assert.equal(byEmail.status, 201, byEmail.raw);
      assert.deepEqual(await members(byEmail.body.id), ['cat']);
      const byId = await send('POST', `${P}/`, await form({ name: 'ids', is_static: '1' }, `Person .id,email\n${ann},bob@x.io\n`));
      assert.equal(byId.status, 201, byId.raw);
      assert.deepEqual(await members(byId.body.id), ['ann'], 'person_id wins over email');
      const wide = await send('POST', `${P}/`, await form({ name: 'wide', is_static: 'true' }, 'plan,distinct_id\npro,bob\nfree\n'));
      assert.deepEqual(await members(wide.body.id), ['bob']);
    });

    test('PATCH (and PUT) with a CSV adds to the cohort and applies the other fields', async () => {
      const created = await h.call('POST', `${P}/`, { body: { name: 'grow', is_static: true } });
      assert.equal(created.status, 201);
      const patched = await send('PATCH', `${P}/${created.body.id}/`, await form({ name: 'grown' }, 'ann\n'));
      assert.equal(patched.status, 200, patched.raw);
      assert.equal(patched.body.name, 'grown');
      assert.deepEqual(await members(created.body.id), ['ann']);
      const put = await send('PUT', `${P}/${created.body.id}/`, await form({ name: 'grown' }, 'cat\n'));
      assert.equal(put.status, 200, put.raw);
      assert.deepEqual(await members(created.body.id), ['ann', 'cat'], 'an upload adds; it does not replace');
    });

    test('bad uploads are 400 with PostHog\'s messages, and leave nothing behind', async () => {
      const count = await cohortCount();
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'empty', is_static: 'true' }, '')), 400, { attr: 'csv', detail: 'CSV file is empty' });
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'cols', is_static: 'true' }, 'name,plan\nAnn,pro\n')), 400, { attr: 'csv', detail: 'Found columns: name, plan' });
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'bytes', is_static: 'true' }, Buffer.from([0xff, 0xfe, 0x0a]))), 400, { attr: 'csv', detail: 'encoding is not supported' });
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'dynamic', filters: '{"properties":{"type":"AND","values":[]}}' }, 'ann\n')), 400, { attr: 'csv', detail: 'only be uploaded to a static cohort' });
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'flag', is_static: 'maybe' }, 'ann\n')), 400, { attr: 'is_static' });
      assertDrfError(await send('POST', `${P}/`, await form({ name: 'json', is_static: 'false', filters: '{nope' })), 400, { attr: 'filters', detail: 'valid JSON' });
      assertDrfError(await send('POST', `${P}/`, await form({ is_static: 'true' }, 'ann\n', 'name')), 413, {}); // two files
      assertDrfError(await send('POST', `${P}/`, await form({ is_static: 'true' }, undefined, 'name')), 400, { attr: 'name', detail: 'not a file' });
      const raw = (contentType: string, payload: string) =>
        h.app.inject({ method: 'POST', url: `${P}/`, payload, headers: { authorization: `Bearer ${h.rootKey}`, 'content-type': contentType } });
      for (const [contentType, payload] of [
        ['multipart/form-data', 'no boundary'],
        ['multipart/form-data; boundary=XYZ', '--XYZ\r\nContent-Disposition: form-data; name="csv"; filename="a.csv"\r\n\r\nann'],
        ['multipart/form-data; boundary=XYZ', 'garbage'],
      ]) {
        const res = await raw(contentType!, payload!);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${contentType} ${JSON.stringify(payload)} ⇒ ${res.statusCode} ${res.body}`);
        assert.ok(JSON.parse(res.body).detail, res.body);
      }
      assert.equal(await cohortCount(), count, 'no cohort was created by a refused upload');
      const dynamic = await h.call('POST', `${P}/`, { body: { name: 'dyn', filters: { properties: { type: 'AND', values: [] } } } });
      assertDrfError(await send('PATCH', `${P}/${dynamic.body.id}/`, await form({}, 'ann\n')), 400, { attr: 'csv' });
    });

    test('an upload without a valid personal key is refused before its body is read', async () => {
      const body = await form({ name: 'anon', is_static: 'true' }, 'ann\n');
      for (const authorization of [undefined, 'Bearer phx_not_a_real_key_0000000000000000000']) {
        const res = await h.app.inject({ method: 'POST', url: `${P}/`, payload: body.payload, headers: { 'content-type': body.contentType, ...(authorization ? { authorization } : {}) } });
        assert.equal(res.statusCode, 401, res.body);
      }
      // Not even a malformed form gets read (401, not a parse error).
      const malformed = await h.app.inject({ method: 'POST', url: `${P}/`, payload: 'garbage', headers: { 'content-type': 'multipart/form-data; boundary=XYZ' } });
      assert.equal(malformed.statusCode, 401, malformed.body);
    });

    test('a multipart form without a CSV is read like the JSON body; other media types stay 415', async () => {
      const res = await send('POST', `${P}/`, await form({ name: 'plain form', is_static: 'true', description: 'from a form' }));
      assert.equal(res.status, 201, res.raw);
      assert.deepEqual([res.body.name, res.body.description, res.body.is_static], ['plain form', 'from a form', true]);
      const xml = await h.app.inject({ method: 'POST', url: `${P}/`, payload: '<a/>', headers: { authorization: `Bearer ${h.rootKey}`, 'content-type': 'application/xml' } });
      assert.equal(xml.statusCode, 415);
    });
  });
}
