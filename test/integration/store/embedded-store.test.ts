// The store contract on the embedded PGlite backend (a fresh temp dir per store), plus what is
// specific to it: an in-memory database when no directory is given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbeddedStore } from '../../../src/store/embedded/embedded-store.ts';
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
});
