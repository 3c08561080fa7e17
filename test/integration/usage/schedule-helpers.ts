/**
 * @module test/integration/usage/schedule-helpers
 * What the scheduled-change tests share: make a flag, schedule a change, read what `/flags`
 * serves, and find the activity rows scheduled changes wrote.
 */
import assert from 'node:assert/strict';
import type { ClockedApp } from './clocked-app.ts';

export const iso = (ms: number) => new Date(ms).toISOString();

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
