/**
 * @module test/integration/store/store-contract
 * The behavioural suite every Store backend must pass (STYLE §4): `storeContract(name, open)`.
 * One store per suite; each test works in its own project, so tests do not see each other.
 */
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { ProjectRow, Store } from '../../../src/store/store.ts';
import type { TestStore } from '../../helpers/db.ts';
import { lifecycleContract } from './contract-lifecycle.ts';
import { projectContract } from './contract-projects.ts';
import { flagContract } from './contract-flags.ts';
import { cohortContract } from './contract-cohorts.ts';
import { personContract } from './contract-persons.ts';
import { mergeContract } from './contract-merge.ts';
import { groupContract } from './contract-groups.ts';
import { evaluationContract } from './contract-evaluation.ts';
import { isolationContract } from './contract-isolation.ts';
import { scheduleContract } from './contract-schedules.ts';

/** What each part of the contract gets. */
export interface ContractContext {
  /** The suite's migrated store. */
  store(): Store;
  /** A fresh project in the suite's store. */
  newProject(name?: string): Promise<ProjectRow>;
  /** Opens another isolated, migrated store of the same backend. */
  open(): Promise<TestStore>;
}

/** Creates a project with a random token in `store`. */
export function createTestProject(store: Store, name = 'test'): Promise<ProjectRow> {
  return store.createProject({ name, apiToken: `phc_${randomBytes(12).toString('hex')}`, secretTokenHash: 'a'.repeat(64) });
}

/** Registers the whole contract for one backend. */
export function storeContract(name: string, open: () => Promise<TestStore>): void {
  describe(`${name} store contract`, () => {
    let t: TestStore | undefined;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.cleanup();
    });
    const ctx: ContractContext = {
      store: () => {
        if (!t) throw new Error('store not opened');
        return t.store;
      },
      newProject: (projectName) => createTestProject(ctx.store(), projectName),
      open,
    };
    lifecycleContract(ctx);
    projectContract(ctx);
    flagContract(ctx);
    cohortContract(ctx);
    personContract(ctx);
    mergeContract(ctx);
    groupContract(ctx);
    evaluationContract(ctx);
    isolationContract(ctx);
    scheduleContract(ctx);
  });
}
