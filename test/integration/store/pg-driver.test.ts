/**
 * The node-postgres driver's guarantees (issue 13): a call past its deadline is abandoned for
 * good (never run later, its transaction rolled back), and a terminated idle connection is
 * reported, not thrown. Real PostgreSQL, own schema.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgDriver } from '../../../src/store/postgres/pg-driver.ts';
import type { SqlDriver } from '../../../src/store/sql-client.ts';
import { dropSchema, sqlOnce, TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.ts';

const isUnavailable = (err: Error & { code?: string }) => err.code === 'VXL_STORE_UNAVAILABLE';

describe('pg driver', () => {
  const schema = uniqueSchemaName();
  const appName = `vexil_drv_${schema}`;
  const reported: Error[] = [];
  let db: SqlDriver;

  before(async () => {
    await sqlOnce(TEST_DATABASE_URL, `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id int PRIMARY KEY)`);
    db = createPgDriver({ url: TEST_DATABASE_URL, schema, poolSize: 1, timeoutMs: 800, applicationName: appName, onConnectionError: (e) => reported.push(e) });
  });
  after(async () => {
    await db.close();
    await dropSchema(TEST_DATABASE_URL, schema);
  });

  const rows = async () => (await sqlOnce<{ id: number }>(TEST_DATABASE_URL, `SELECT id FROM ${schema}.t ORDER BY id`)).map((r) => r.id);

  it('a write still waiting for a connection at its deadline never runs, even once the connection is free', async () => {
    // The only connection is busy for 2 s (a call without deadline).
    const holder = db.transaction((tx) => tx.query('SELECT pg_sleep(2)'), { timeoutMs: 0 });
    await assert.rejects(db.query('INSERT INTO t (id) VALUES (1)'), isUnavailable);
    await holder;
    await db.query('SELECT 1'); // the connection served the pool again…
    assert.deepEqual(await rows(), [], '…and the abandoned INSERT was not run on it');
  });

  it('a transaction past its deadline is rolled back', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (2)');
        await tx.query('SELECT pg_sleep(3)');
      }),
      isUnavailable,
    );
    await db.query('SELECT 1');
    assert.deepEqual(await rows(), []);
  });

  it('a terminated idle connection is reported, not thrown, and the next call reconnects', async () => {
    await db.query('SELECT 1');
    const killed = await sqlOnce<{ n: number }>(
      TEST_DATABASE_URL,
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [appName],
    );
    assert.ok(killed[0]!.n >= 1, 'its backend (and any still ending an abandoned call) was terminated');
    for (let i = 0; i < 50 && reported.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(reported.length > 0, 'the pool reported the lost connection');
    await db.query('INSERT INTO t (id) VALUES (3)');
    assert.deepEqual(await rows(), [3]);
  });

  it('a refused server fails the call with VXL_STORE_UNAVAILABLE, and the next one at once', async () => {
    const refused = createPgDriver({ url: 'postgres://postgres@127.0.0.1:1/test', timeoutMs: 800 });
    try {
      await assert.rejects(refused.query('SELECT 1'), isUnavailable);
      await assert.rejects(refused.query('SELECT 1'), isUnavailable);
    } finally {
      await refused.close();
    }
  });
});
