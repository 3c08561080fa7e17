/**
 * @module test/integration/usage/schedule-helpers
 * What the scheduled-change tests share: a node on a fresh store for a describe block, make a
 * flag, schedule a change, read what `/flags` serves, and find the activity rows scheduled
 * changes wrote.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';
import { startClockedApp, type ClockedApp, type TestClock } from './clocked-app.ts';

export const iso = (ms: number) => new Date(ms).toISOString();

/** A node of the enclosing describe block, on its own store, with the bootstrap project. */
export interface TestNode {
  readonly db: TestStore;
  readonly node: ClockedApp;
  readonly pid: number;
  readonly token: string;
  /** Closes the node and starts a new one on the same store. */
  restart(): Promise<void>;
}

/** Registers before/after hooks that open a `kind` store and a node on `clock`, and close both. */
export function clockedNode(kind: StoreKind, key: string, clock: TestClock): TestNode {
  let db: TestStore | undefined;
  let node: ClockedApp | undefined;
  // The first start provisions the project; a restarted node finds it there.
  let project: { id: number; apiToken: string } | undefined;
  const ready = <T>(v: T | undefined): T => v ?? assert.fail('the node is not started');
  before(async () => {
    db = await openTestStore(kind);
    node = await startClockedApp(db.store, clock, key);
    project = node.app.bootstrap.project!;
  });
  after(async () => {
    await node?.app.close();
    await db?.cleanup();
  });
  return {
    get db() {
      return ready(db);
    },
    get node() {
      return ready(node);
    },
    get pid() {
      return ready(project).id;
    },
    get token() {
      return ready(project).apiToken;
    },
    async restart() {
      await ready(node).app.close();
      node = await startClockedApp(ready(db).store, clock, key);
    },
  };
}

/** Creates a flag (100 % rollout unless `filters` is given) and returns its id. */
export async function createFlag(node: ClockedApp, pid: number, key: string, filters: unknown = { groups: [{ properties: [], rollout_percentage: 100 }] }): Promise<number> {
  const res = await node.call('POST', `/api/projects/${pid}/feature_flags/`, { key, filters });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** POSTs a FeatureFlag scheduled change, expecting 201. */
export async function schedule(node: ClockedApp, pid: number, body: Record<string, unknown>): Promise<any> {
  const res = await node.call('POST', `/api/projects/${pid}/scheduled_changes/`, { model_name: 'FeatureFlag', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The scheduled change as the API shows it now. */
export async function storedChange(node: ClockedApp, pid: number, id: number): Promise<any> {
  const res = await node.call('GET', `/api/projects/${pid}/scheduled_changes/${id}/`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** The flag's value for one person in `/flags?v=2` (a disabled flag, left out, counts as false). */
export async function flagValue(node: ClockedApp, token: string, key: string): Promise<unknown> {
  const res = await fetch(`${node.base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token, distinct_id: 'someone' }), signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { flags: Record<string, { enabled: boolean; variant: string | null }> };
  const f = body.flags[key];
  return f === undefined ? false : (f.variant ?? f.enabled);
}

/** Activity rows a scheduled change wrote on the flag. */
export async function scheduledActivity(node: ClockedApp, pid: number, flagId: number): Promise<any[]> {
  const res = await node.call('GET', `/api/projects/${pid}/feature_flags/${flagId}/activity/?limit=100`);
  return res.body.results.filter((r: any) => JSON.stringify(r.user).includes('scheduled change #'));
}
