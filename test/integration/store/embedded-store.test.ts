// The store contract on the embedded PGlite backend (a fresh temp dir per store), plus what is
// specific to it: an in-memory database when no directory is given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedDriver, createEmbeddedStore } from '../../../src/store/embedded/embedded-store.ts';
import { openTestStore } from '../../helpers/db.ts';
import { storeContract, createTestProject } from './store-contract.ts';

storeContract('embedded', () => openTestStore('embedded'));

describe('embedded store', () => {
  it('runs in memory when no data directory is given', async () => {
    const store = await createEmbeddedStore({});
    try {
      await store.migrate();
      const p = await createTestProject(store);
      assert.equal((await store.getProject(p.id))?.name, 'test');
    } finally {
      await store.close();
    }
  });

  it('runs the same migrations in a named schema', async () => {
    const store = await createEmbeddedStore({ schema: 'tenant_a' });
    try {
      await store.migrate();
      await store.migrate();
      const p = await createTestProject(store);
      assert.equal((await store.listProjects()).length, 1);
      assert.equal(p.revision, 1);
    } finally {
      await store.close();
    }
  });

  it('works with the smallest memory settings, created out of process and reopened', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vexil-test-'));
    const memory = { sharedBuffersMb: 1, workMemMb: 1, maintenanceWorkMemMb: 1, wasmTierUp: false };
    try {
      const store = await createEmbeddedStore({ dataDir, memory });
      try {
        await store.migrate();
        await createTestProject(store);
      } finally {
        await store.close();
      }
      const db = await createEmbeddedDriver({ dataDir, memory });
      try {
        const settings = await db.query<{ name: string; setting: string; unit: string }>(
          `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem') ORDER BY name`,
        );
        assert.deepEqual(settings, [
          { name: 'maintenance_work_mem', setting: '1024', unit: 'kB' },
          { name: 'shared_buffers', setting: '128', unit: '8kB' },
          { name: 'work_mem', setting: '1024', unit: 'kB' },
        ]);
        // What the first open wrote survived the close.
        assert.equal((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM projects'))[0]?.n, '1');
        // A sort larger than work_mem spills to temporary files instead of failing.
        const sorted = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s');
        assert.equal(sorted[0]?.n, 200000);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
