/**
 * @module http/definitions/filter-walk
 * Small readers over stored filter JSON: cohort references and cohort property trees.
 */
import type { PropertyFilterDef } from '../../engine/index.ts';
import type { CohortRow } from '../../store/store.ts';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cohort filter's referenced id (numbers or numeric strings), else null. */
export function cohortRef(filter: PropertyFilterDef): number | null {
  if (filter.type !== 'cohort') return null;
  const id = typeof filter.value === 'string' ? Number(filter.value) : filter.value;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

/** The `{type, values}` tree of a dynamic cohort (spec §6.3), or null. */
export function cohortTree(cohort: CohortRow): Obj | null {
  const filters = cohort.filters;
  return isObject(filters) && isObject(filters.properties) ? filters.properties : null;
}

/** Every filter object in a cohort tree, depth first. */
export function treeFilters(tree: unknown, out: PropertyFilterDef[] = []): PropertyFilterDef[] {
  if (!isObject(tree)) return out;
  if (Array.isArray(tree.values)) for (const v of tree.values) treeFilters(v, out);
  else if (typeof tree.key === 'string' || tree.type === 'cohort') out.push(tree as unknown as PropertyFilterDef);
  return out;
}

