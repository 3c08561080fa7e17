/**
 * @module admin/cohort-graph
 * Reading cohort references out of stored definitions: which cohorts a cohort or a flag uses
 * (directly and through nested cohorts), and whether a cohort has behavioral (event) filters
 * (spec §6.3). Pure functions over rows; walks are iterative and bounded by the rows given.
 */
import type { FlagFiltersDef } from '../engine/types.ts';
import type { CohortRow, FlagRow } from '../store/store.ts';

/** A cohort id as written in a filter value (a number, or a numeric string); null otherwise. */
export function cohortIdOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
}

/** Every leaf filter of a cohort definition `{properties: {type, values: [...]}}`, at any depth. */
export function cohortLeafFilters(filters: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const root = (filters as { properties?: unknown } | null | undefined)?.properties;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || Array.isArray(node)) continue;
    const n = node as Record<string, unknown>;
    if ((n.type === 'AND' || n.type === 'OR') && Array.isArray(n.values)) stack.push(...n.values);
    else out.push(n);
  }
  return out;
}

/** Ids of the cohorts a cohort definition references directly. */
export function nestedCohortIds(filters: unknown): number[] {
  const ids = new Set<number>();
  for (const leaf of cohortLeafFilters(filters)) {
    if (leaf.type !== 'cohort') continue;
    const id = cohortIdOf(leaf.value);
    if (id !== null) ids.add(id);
  }
  return [...ids];
}

/** Whether a cohort definition has a behavioral (event-based) filter of its own. */
export function hasBehavioralFilter(filters: unknown): boolean {
  return cohortLeafFilters(filters).some((leaf) => leaf.type === 'behavioral');
}

/** `ids` plus every cohort reachable from them through nested references (unknown ids kept). */
export function withNestedCohorts(ids: Iterable<number>, cohorts: ReadonlyMap<number, CohortRow>): Set<number> {
  const seen = new Set<number>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const cohort = cohorts.get(id);
    if (cohort !== undefined && !cohort.isStatic) stack.push(...nestedCohortIds(cohort.filters));
  }
  return seen;
}

/** Cohort ids referenced by a flag's release conditions (directly). */
export function flagCohortIds(filters: FlagFiltersDef | null | undefined): number[] {
  const ids = new Set<number>();
  for (const group of filters?.groups ?? []) {
    for (const prop of group?.properties ?? []) {
      if (prop?.type !== 'cohort') continue;
      const id = cohortIdOf(prop.value);
      if (id !== null) ids.add(id);
    }
  }
  return [...ids];
}

/** Active, non-deleted flags that use the cohort, directly or through nested cohorts. */
export function flagsUsingCohort(cohortId: number, flags: readonly FlagRow[], cohorts: ReadonlyMap<number, CohortRow>): FlagRow[] {
  return flags.filter((f) => f.active && !f.deleted && withNestedCohorts(flagCohortIds(f.filters), cohorts).has(cohortId));
}

/** Non-deleted cohorts other than `cohortId` that reference it directly. */
export function cohortsUsingCohort(cohortId: number, cohorts: ReadonlyMap<number, CohortRow>): CohortRow[] {
  return [...cohorts.values()].filter((c) => c.id !== cohortId && !c.deleted && !c.isStatic && nestedCohortIds(c.filters).includes(cohortId));
}

/**
 * Whether giving cohort `selfId` the definition `filters` creates a reference loop
 * (PostHog/posthog `posthog/api/cohort.py` `will_create_loops`): can `selfId` be reached again?
 */
export function createsCohortLoop(selfId: number, filters: unknown, cohorts: ReadonlyMap<number, CohortRow>): boolean {
  const start = nestedCohortIds(filters);
  if (start.includes(selfId)) return true;
  const others = new Map(cohorts);
  others.delete(selfId);
  return withNestedCohorts(start, others).has(selfId);
}
