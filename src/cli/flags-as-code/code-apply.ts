/**
 * @module cli/flags-as-code/code-apply
 * Carries out an import plan through the admin API: cohorts before flags, each after the cohorts
 * and flags it references (ids are known only once they exist), deletions last (flags before the
 * cohorts they use). Also prints plans for people.
 */
import { CliError, type AdminClient } from '../admin-client.ts';
import type { Out } from '../output.ts';
import { mapReferences, type CodeCohort, type CodeFlag } from './code-model.ts';
import { referencedNames, type PlanItem } from './code-plan.ts';

/** The admin API body of a cohort from the file (names → ids). */
function cohortBody(c: CodeCohort, cohortIds: ReadonlyMap<string, number>): Record<string, unknown> {
  if (c.static) return { name: c.name, description: c.description, is_static: true };
  return { name: c.name, description: c.description, is_static: false, filters: mapReferences(c.filters, (n) => cohortIds.get(String(n)), (k) => k) };
}

/** The admin API body of a flag from the file (cohort names and flag keys → ids). */
function flagBody(f: CodeFlag, cohortIds: ReadonlyMap<string, number>, flagIds: ReadonlyMap<string, number>): Record<string, unknown> {
  return {
    key: f.key,
    name: f.name,
    active: f.active,
    ensure_experience_continuity: f.ensure_experience_continuity,
    evaluation_runtime: f.evaluation_runtime,
    bucketing_identifier: f.bucketing_identifier,
    tags: f.tags,
    evaluation_tags: f.evaluation_tags,
    // PostHog stores a dependency's flag id as a string key.
    filters: mapReferences(f.filters, (n) => cohortIds.get(String(n)), (k) => String(flagIds.get(String(k)))),
  };
}

/**
 * Runs `items` in an order where each comes after what it references (`refs`), as far as those
 * are known in `known` or made by an earlier item. A cycle is a CliError naming its members.
 */
async function inDependencyOrder(items: PlanItem[], refs: (i: PlanItem) => string[], known: Set<string>, run: (i: PlanItem) => Promise<void>): Promise<void> {
  let pending = items;
  while (pending.length > 0) {
    const ready = pending.filter((i) => refs(i).every((r) => r === i.name || known.has(r) || !pending.some((p) => p.name === r)));
    if (ready.length === 0) throw new CliError(`these ${pending[0]!.kind}s reference each other in a loop: ${pending.map((p) => p.name).join(', ')}`, 65);
    for (const item of ready) {
      await run(item);
      known.add(item.name);
    }
    pending = pending.filter((i) => !ready.includes(i));
  }
}

/** Applies a plan to project `projectId`; `liveCohorts`/`liveFlags` map names/keys to ids. */
export async function applyPlan(client: AdminClient, projectId: number, plan: PlanItem[], liveCohorts: Map<string, number>, liveFlags: Map<string, number>): Promise<void> {
  const base = `/api/projects/${projectId}`;
  const cohortWrites = plan.filter((i) => i.kind === 'cohort' && (i.action === 'create' || i.action === 'update'));
  await inDependencyOrder(cohortWrites, (i) => referencedNames((i.wanted as CodeCohort).filters, 'cohort'), new Set(), async (item) => {
    const body = cohortBody(item.wanted as CodeCohort, liveCohorts);
    if (item.action === 'create') liveCohorts.set(item.name, (await client.request('POST', `${base}/cohorts/`, body)).id);
    else await client.request('PATCH', `${base}/cohorts/${item.id}/`, body);
  });
  const flagWrites = plan.filter((i) => i.kind === 'flag' && (i.action === 'create' || i.action === 'update'));
  await inDependencyOrder(flagWrites, (i) => referencedNames((i.wanted as CodeFlag).filters, 'flag'), new Set(), async (item) => {
    const body = flagBody(item.wanted as CodeFlag, liveCohorts, liveFlags);
    if (item.action === 'create') liveFlags.set(item.name, (await client.request('POST', `${base}/feature_flags/`, body)).id);
    else await client.request('PATCH', `${base}/feature_flags/${item.id}/`, body);
  });
  for (const item of plan.filter((i) => i.action === 'delete' && i.kind === 'flag')) await client.request('PATCH', `${base}/feature_flags/${item.id}/`, { deleted: true });
  for (const item of plan.filter((i) => i.action === 'delete' && i.kind === 'cohort')) await client.request('PATCH', `${base}/cohorts/${item.id}/`, { deleted: true });
}

const SIGN = { create: '+', update: '~', unchanged: '=', delete: '-' } as const;

function short(v: unknown): string {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Prints the plan: one line per created, changed or deleted object (changes with their fields), then a summary. */
export function printPlan(out: Out, plan: readonly PlanItem[]): void {
  for (const item of plan) {
    if (item.action === 'unchanged') continue;
    out.stdout(`${SIGN[item.action]} ${item.kind} ${item.name}`);
    for (const c of item.changes) out.stdout(`    ${c.path}: ${short(c.before)} → ${short(c.after)}`);
  }
  const count = (a: PlanItem['action']) => plan.filter((i) => i.action === a).length;
  out.stdout(`Plan: ${count('create')} to create, ${count('update')} to change, ${count('unchanged')} unchanged, ${count('delete')} to delete.`);
}
