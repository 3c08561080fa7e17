/**
 * @module engine/compile/compile-cohorts
 * Cohort definitions → property trees, with nested cohorts resolved to slots and cycles,
 * missing references and unparseable definitions turned into errors (spec §6.3).
 */
import type { CohortDef, FlagErrorCode } from '../types.ts';
import { type CohortNode, type CompiledCohort } from './compiled-types.ts';
import { compileFilter, type FilterScope } from './compile-filter.ts';

/** Cohorts nested deeper than this are treated as unparseable rather than risking the stack. */
const MAX_DEPTH = 64;

type Compiled = { cohort: CompiledCohort } | { error: FlagErrorCode };

/**
 * Compiles every cohort a flag can reach. `resolveCohort(id)` gives the slot of a usable
 * cohort, or the error a reference to it causes: unknown or deleted ⇒
 * `dependency_not_found_cohort`, a nesting cycle ⇒ `dependency_cycle_cohort`, a malformed
 * tree ⇒ `cohort_filters_parsing_error` — including through nested cohorts.
 */
export function compileCohorts(
  defs: readonly CohortDef[],
  baseScope: Omit<FilterScope, 'resolveCohort'>,
): { cohorts: CompiledCohort[]; resolveCohort: FilterScope['resolveCohort'] } {
  const byId = new Map<number, CohortDef>();
  for (const def of defs) if (!def.deleted) byId.set(def.id, def);
  const done = new Map<number, Compiled>();
  const visiting = new Set<number>();
  const cohorts: CompiledCohort[] = [];
  const slotOf = new Map<number, number>();

  const resolveCohort = (id: number): { slot: number } | { error: FlagErrorCode } => {
    const result = compile(id, 0);
    if ('error' in result) return result;
    let slot = slotOf.get(id);
    if (slot === undefined) {
      slot = cohorts.length;
      cohorts.push(result.cohort);
      slotOf.set(id, slot);
    }
    return { slot };
  };

  const compile = (id: number, depth: number): Compiled => {
    const cached = done.get(id);
    if (cached) return cached;
    if (visiting.has(id)) return { error: 'dependency_cycle_cohort' };
    const def = byId.get(id);
    if (!def) return { error: 'dependency_not_found_cohort' };
    if (depth > MAX_DEPTH) return { error: 'cohort_filters_parsing_error' };
    visiting.add(id);
    let result: Compiled;
    if (def.is_static) {
      result = { cohort: { id, isStatic: true, root: null } };
    } else {
      const scope: FilterScope = {
        ...baseScope,
        resolveCohort: (nestedId) => {
          const nested = compile(nestedId, depth + 1);
          if ('error' in nested) return nested;
          return resolveCohort(nestedId);
        },
      };
      const tree = parseTree(def.filters, scope);
      result = 'error' in tree ? tree : { cohort: { id, isStatic: false, root: tree.root } };
    }
    visiting.delete(id);
    done.set(id, result);
    return result;
  };

  return { cohorts, resolveCohort };
}

type Tree = { root: CohortNode | null } | { error: FlagErrorCode };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * `filters.properties` must be `{type, values}`; anything else is "never a member", except
 * `{"properties": {}}`, which PostHog fails on (dependency extraction) ⇒ parsing error.
 */
function parseTree(filters: unknown, scope: FilterScope): Tree {
  if (!isObject(filters) || !isObject(filters.properties)) return { root: null };
  const props = filters.properties;
  if (props.type === undefined && props.values === undefined) return { error: 'cohort_filters_parsing_error' };
  if (!Array.isArray(props.values)) return { root: null };
  const node = parseGroup(props, scope, 0);
  if ('error' in node) return node;
  // Behavioral filters need event data Vexil does not keep: such cohorts have no members.
  return { root: node.behavioral ? null : node.node };
}

type Parsed = { node: CohortNode; behavioral: boolean } | { error: FlagErrorCode };

function parseGroup(group: Record<string, unknown>, scope: FilterScope, depth: number): Parsed {
  if (depth > MAX_DEPTH) return { error: 'cohort_filters_parsing_error' };
  const type = group.type;
  let and: boolean;
  if (type === 'AND' || type === 'property' || type === undefined) and = true;
  else if (type === 'OR') and = false;
  else return { error: 'cohort_filters_parsing_error' };
  const values = Array.isArray(group.values) ? group.values : [];
  const children: CohortNode[] = [];
  let behavioral = false;
  for (const value of values) {
    if (!isObject(value)) return { error: 'cohort_filters_parsing_error' };
    if (Array.isArray(value.values) && (value.type === 'AND' || value.type === 'OR' || value.type === 'property')) {
      const child = parseGroup(value, scope, depth + 1);
      if ('error' in child) return child;
      behavioral ||= child.behavioral;
      children.push(child.node);
    } else if (typeof value.key === 'string' || typeof value.key === 'number') {
      if (value.type === 'behavioral') behavioral = true;
      const filter = compileFilter(value as never, -1, true, scope);
      if (filter.error) return { error: filter.error };
      children.push({ group: false, filter });
    } else {
      return { error: 'cohort_filters_parsing_error' };
    }
  }
  return { node: { group: true, and, children }, behavioral };
}
