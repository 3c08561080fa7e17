// Static-cohort CSV uploads are read as PostHog reads them (posthog/api/cohort.py, CSVConfig).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCohortCsv } from '../../../src/admin/cohort-csv.ts';
import { VexilError } from '../../../src/errors.ts';

const read = (text: string) => readCohortCsv(Buffer.from(text, 'utf8'));
const fails = async (bytes: string | Buffer, detail: RegExp) => {
  await assert.rejects(readCohortCsv(typeof bytes === 'string' ? Buffer.from(bytes) : bytes), (err: unknown) => {
    assert.ok(err instanceof VexilError && err.code === 'VXL_VALIDATION', String(err));
    assert.equal((err as VexilError & { attr?: string }).attr, 'csv');
    assert.match(err.message, detail);
    return true;
  });
};

test('one column without a known header: every row is a distinct id, the first row too', async () => {
  assert.deepEqual(await read('alice\nbob\n\n  carol  \r\n'), { idType: 'distinct_id', ids: ['alice', 'bob', 'carol'] });
  // PostHog keeps this for old uploads: a lone distinct_id header is read as an id.
  assert.deepEqual(await read('distinct_id\nalice\n'), { idType: 'distinct_id', ids: ['distinct_id', 'alice'] });
});

test('one column headed person_id or email (any case, PostHog export spellings) names its ids', async () => {
  assert.deepEqual(await read('Person .id\n0190d1b6-0000-7000-8000-000000000001\n'), { idType: 'person_id', ids: ['0190d1b6-0000-7000-8000-000000000001'] });
  assert.deepEqual(await read('person-id\nx\n'), { idType: 'person_id', ids: ['x'] });
  assert.deepEqual(await read('\n\nE-Mail\na@x.io\n,\nb@x.io'), { idType: 'email', ids: ['a@x.io', 'b@x.io'] });
});

test('several columns: the id column is person_id, else distinct_id, else email; short rows are skipped', async () => {
  assert.deepEqual(await read('email,distinct_id,plan\na@x.io,u1,pro\nb@x.io\n,u2,free\n'), { idType: 'distinct_id', ids: ['u1', 'u2'] });
  assert.deepEqual(await read('distinct_id,person_id\nu1,p1\n'), { idType: 'person_id', ids: ['p1'] });
  assert.deepEqual(await read('name,"Email"\nAnn,"ann@x.io"\n'), { idType: 'email', ids: ['ann@x.io'] });
  // One non-empty header cell is the single-column format, whatever follows on later rows.
  assert.deepEqual(await read('alice,\nbob,extra\n'), { idType: 'distinct_id', ids: ['alice', 'bob'] });
  assert.deepEqual(await read('\ufeffu1\nu2\n'), { idType: 'distinct_id', ids: ['u1', 'u2'] }, 'a byte-order mark is not part of the first id');
});

test('PostHog\'s messages for an empty file, a file without an id column, one without ids, bad encoding and bad CSV', async () => {
  await fails('', /CSV file is empty/);
  await fails('\n\n', /CSV file is empty/);
  await fails('name,plan\nAnn,pro\n', /supported ID header.*Found columns: name, plan$/);
  await fails('email\n\n', /contains no valid person IDs, distinct IDs, or email addresses/);
  await fails('distinct_id,plan\n,pro\n', /contains no valid person IDs/);
  await fails(Buffer.from([0x61, 0xff, 0x0a]), /encoding is not supported/);
  await fails('"unterminated\n', /format is invalid/);
});
