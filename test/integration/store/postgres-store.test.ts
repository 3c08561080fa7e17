// The store contract on real PostgreSQL (a fresh schema per store), plus what is PostgreSQL-specific:
// concurrent migration by several nodes, and pool behaviour.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../../src/store/open-store.ts';
import { bootstrapStore } from '../../../src/bootstrap.ts';
import { loadMigrations } from '../../../src/store/migrate.ts';
import { dropSchema, openTestStore, sqlOnce, TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.ts';
import { storeContract, createTestProject } from './store-contract.ts';

storeContract('postgres', () => openTestStore('postgres'));

describe('postgres store', () => {
  it('migrates a fresh schema once when several nodes start at the same time', async () => {
    const schema = uniqueSchemaName();
    const nodes = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema, poolSize: 2 })));
    try {
      await Promise.all([...nodes.map((n) => n.migrate()), nodes[0].migrate()]);
      const rows = await sqlOnce<{ version: number }>(TEST_DATABASE_URL, `SELECT version FROM "${schema}".vexil_migrations ORDER BY version`);
      assert.deepEqual(rows.map((r) => r.version), (await loadMigrations()).map((m) => m.version));
      const p = await createTestProject(nodes[1]);
      assert.equal((await nodes[2].getProject(p.id))?.id, p.id, 'all nodes see the same schema');
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await dropSchema(TEST_DATABASE_URL, schema);
    }
  });

  it('provisions one default project when several nodes start on an empty database at once', async () => {
    const schema = uniqueSchemaName();
    const nodes = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema, poolSize: 2 })));
    try {
      await nodes[0]!.migrate();
      // Connections open first, so the three starts really overlap.
      await Promise.all(nodes.map((n) => Promise.all([n.ping(), n.ping()])));
      const printed: string[] = [];
      const log = { info: () => undefined } as unknown as Parameters<typeof bootstrapStore>[1]['log'];
      const results = await Promise.all(nodes.map((store) => bootstrapStore(store, { bootstrapKey: null, log, print: (t) => printed.push(t) })));
      const creators = results.filter((r) => r.project !== null);
      assert.equal(creators.length, 1, 'exactly one node created the project');
      assert.equal(printed.length, 1, 'the secrets were printed once');
      assert.ok(creators[0]!.personalApiKey, 'and it generated the personal key');
      assert.equal((await nodes[1]!.listProjects()).length, 1);
      assert.equal(await nodes[2]!.countPersonalApiKeys(), 1);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await dropSchema(TEST_DATABASE_URL, schema);
    }
  });

  it('fails with a clear error when PostgreSQL is unreachable', async () => {
    const store = await openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', dataDir: '' });
    try {
      await assert.rejects(store.ping(), (err: Error & { code?: string }) => err.code === 'VXL_STORE_UNAVAILABLE');
    } finally {
      await store.close();
    }
  });

  it('serves concurrent evaluation lookups from the pool with prepared statements', async () => {
    const t = await openTestStore('postgres', { poolSize: 3 });
    try {
      const p = await createTestProject(t.store);
      await t.store.applyPersonUpdates(p.id, [{ distinctId: 'u', set: { plan: 'pro' } }]);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => t.store.loadEvaluationData({ projectId: p.id, distinctId: 'u', groups: [], overrideDistinctIds: ['u'] })),
      );
      for (const r of results) assert.deepEqual(r.personProperties, { plan: 'pro' });
    } finally {
      await t.cleanup();
    }
  });
});
