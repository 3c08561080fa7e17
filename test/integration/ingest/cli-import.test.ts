/**
 * @module test/integration/ingest/cli-import.test
 * `vexil migrate` and `vexil import persons FILE --project ID`: the real launcher on the
 * embedded database, and the import routine on both stores (JSON lines, CSV, gzip, validation).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { importPersonsFile } from '../../../src/cli/import-persons.ts';
import { EXIT, runCli } from '../../../src/cli/run.ts';
import { openStore } from '../../../src/store/open-store.ts';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { STORE_KINDS } from './ingest-harness.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vexil-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { env, stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) } };
}

describe('vexil CLI (embedded database, through bin/vexil.js)', () => {
  test('migrate, then import persons from JSON lines into an existing project', async () => {
    const dataDir = join(dir, 'data');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/vexil.js', ...args], { env: { ...process.env, DATABASE_URL: '', VEXIL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, encoding: 'utf8' });
    const migrate = run('migrate');
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.match(migrate.stdout, /migrations applied/);

    const store = await openStore({ dataDir });
    const project = await store.createProject({ name: 'cli', apiToken: 'phc_cli_test_token', secretTokenHash: 'c'.repeat(64) });
    await store.close();

    const file = join(dir, 'people.jsonl');
    await writeFile(file, '{"distinct_id":"c1","properties":{"plan":"pro"}}\n{"distinct_id":"c2","properties":{"plan":"free"}}\n');
    const imported = run('import', 'persons', file, '--project', String(project.id));
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /imported 2 persons into project/);

    const usage = run('import', 'persons', file);
    assert.equal(usage.status, EXIT.usage);
    assert.match(usage.stderr, /--project must be a project id/);

    const check = await openStore({ dataDir });
    assert.deepEqual((await check.getPersonByDistinctId(project.id, 'c2'))?.properties, { plan: 'free' });
    await check.close();
  });

  test('configuration and usage errors exit with sysexits codes and clear messages', async () => {
    const bad = io({ VEXIL_DB_POOL_SIZE: 'lots' });
    assert.equal(await runCli(['migrate'], bad.io), EXIT.config);
    assert.match(bad.err.join('\n'), /VEXIL_DB_POOL_SIZE must be an integer/);
    const unknown = io({});
    assert.equal(await runCli(['import'], unknown.io), EXIT.usage);
    assert.match(unknown.err[0]!, /vexil import needs a FILE/);
    const help = io({});
    assert.equal(await runCli(['help'], help.io), EXIT.ok);
    assert.match(help.out[0]!, /import persons FILE --project ID/);
  });
});

for (const kind of STORE_KINDS) {
  describe(`import persons file (${kind})`, () => {
    let t: TestStore;
    let projectId: number;
    before(async () => {
      t = await openTestStore(kind);
      projectId = (await t.store.createProject({ name: 'imp', apiToken: `phc_imp_${kind}`, secretTokenHash: 'd'.repeat(64) })).id;
    });
    after(async () => {
      await t?.cleanup();
    });
    const lines: string[] = [];
    const importFile = (file: string, format?: string) => importPersonsFile({ store: t.store, projectId, file, format, print: (l) => lines.push(l) });

    test('CSV with quoted fields, gzip JSON lines, and a sniffed JSON array', async () => {
      const csv = join(dir, `p-${kind}.csv`);
      await writeFile(csv, 'distinct_id,email,plan\r\nu1,"one@x.io",pro\r\nu2,"two, too@x.io",\r\n');
      assert.equal(await importFile(csv), 2);
      assert.deepEqual((await t.store.getPersonByDistinctId(projectId, 'u1'))?.properties, { email: 'one@x.io', plan: 'pro' });
      assert.deepEqual((await t.store.getPersonByDistinctId(projectId, 'u2'))?.properties, { email: 'two, too@x.io' });

      const gz = join(dir, `p-${kind}.jsonl.gz`);
      await writeFile(gz, gzipSync('{"distinct_id":"u1","properties":{"seats":2}}\n{"distinct_id":"u3","properties":{}}\n'));
      assert.equal(await importFile(gz), 2);
      assert.deepEqual((await t.store.getPersonByDistinctId(projectId, 'u1'))?.properties, { email: 'one@x.io', plan: 'pro', seats: 2 });

      const arr = join(dir, `p-${kind}.data`);
      await writeFile(arr, ' [{"distinct_id":"u4","properties":{"a":1}}]');
      assert.equal(await importFile(arr), 1);
      assert.match(lines.at(-1)!, /imported 1 persons into project/);
    });

    test('a bad row anywhere imports nothing and names its line; unknown project and file are errors', async () => {
      const file = join(dir, `bad-${kind}.jsonl`);
      const rows = Array.from({ length: 50 }, (_, i) => JSON.stringify({ distinct_id: `b${i}` }));
      rows.splice(40, 0, '{"distinct_id": ""}');
      await writeFile(file, rows.join('\n'));
      await assert.rejects(importFile(file), /line 41: distinct_id must be a non-empty string/);
      assert.equal(await t.store.getPersonByDistinctId(projectId, 'b0'), null);
      await assert.rejects(importPersonsFile({ store: t.store, projectId: 999_999, file, print: () => {} }), /project 999999 does not exist/);
      await assert.rejects(importFile(join(dir, 'missing.csv')), /no such file/);
      await assert.rejects(importFile(file, 'xml'), /--format must be csv, jsonl or json/);
    });
  });
}
