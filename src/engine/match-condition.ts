/**
 * @module engine/match-condition
 * Whether a condition's property filters hold for a request, in three-valued logic: true,
 * false, or unknown (a property, static cohort or dependency that needs stored data).
 * PostHog's order is kept: filters in order, cohorts last, first false wins (spec §4.3).
 */
import {
  type CohortNode,
  type CompiledCondition,
  type CompiledFilter,
  FALSE,
  FILTER_COHORT,
  FILTER_ERROR,
  FILTER_FLAG,
  FILTER_GROUP,
  FILTER_PERSON,
  type Tri,
  TRUE,
  UNKNOWN,
} from './compile/compiled-types.ts';
import { type EvaluationRun, INCONCLUSIVE, NOT_EVALUATED } from './evaluation-run.ts';
import { FlagFailure } from './flag-failure.ts';

const hasOwn = Object.hasOwn;

function negate(t: Tri): Tri {
  return t === TRUE ? FALSE : t === FALSE ? TRUE : UNKNOWN;
}

function personTri(run: EvaluationRun, f: CompiledFilter): Tri {
  const props = run.ctx.personProperties;
  const value = props[f.key];
  if (isOwnValue(props, f.key, value)) return f.op!.test(value, run.ctx.now) ? TRUE : FALSE;
  if (!run.loaded) return UNKNOWN;
  return f.op!.whenMissing ? TRUE : FALSE;
}

/**
 * Whether `value`, read as `props[key]`, is the object's own property. One keyed read instead
 * of two for the common case: an object's prototype chain (Object.prototype, or none) holds
 * only functions and objects (`__proto__`), so a primitive value is the object's own; anything
 * else (and a missing key) is checked with `hasOwn`, which keeps `toString`, `constructor` and
 * `__proto__` ordinary, absent names.
 */
function isOwnValue(props: object, key: string, value: unknown): boolean {
  if (value === undefined || value === null || typeof value === 'object' || typeof value === 'function') return hasOwn(props, key);
  return true;
}

function groupTri(run: EvaluationRun, f: CompiledFilter): Tri {
  const name = f.groupTypeIndex >= 0 ? run.snapshot.groupTypeNames[f.groupTypeIndex] : undefined;
  if (name !== undefined) {
    // PostHog sets `$group_key` in each requested group's properties to the raw `groups[type]`
    // value, over any stored or supplied `$group_key` (handler/properties.rs, spec posthog-newer.md §11).
    if (f.groupKeyProperty && hasOwn(run.ctx.groups, name)) return f.op!.test(run.ctx.groups[name], run.ctx.now) ? TRUE : FALSE;
    const all = run.ctx.groupProperties;
    const props = hasOwn(all, name) ? all[name] : undefined;
    if (props && hasOwn(props, f.key)) return f.op!.test(props[f.key], run.ctx.now) ? TRUE : FALSE;
    // Stored properties exist only for a group the request names.
    if (!run.loaded && run.groupKey(f.groupTypeIndex) !== null) return UNKNOWN;
  }
  return f.op!.whenMissing ? TRUE : FALSE;
}

/** `flag_evaluates_to` (spec §5.8). */
function dependencyTri(run: EvaluationRun, f: CompiledFilter): Tri {
  if (f.dependency < 0) return FALSE;
  const value = run.values[f.dependency];
  if (value === INCONCLUSIVE) return UNKNOWN;
  // A dependency that failed in this request: passes provisionally unless this condition asks it
  // for values no flag value satisfies at once (spec posthog-newer.md §13).
  if (value === NOT_EVALUATED) return run.provisionalDependencies && !f.depConflict ? TRUE : FALSE;
  const expected = f.expected;
  if (expected === true) return value === true || typeof value === 'string' ? TRUE : FALSE;
  if (expected === false) return value === false ? TRUE : FALSE;
  if (typeof expected === 'string') return value === expected ? TRUE : FALSE;
  return FALSE;
}

export function cohortTri(run: EvaluationRun, slot: number): Tri {
  const memo = run.cohortMemo[slot]!;
  if (memo >= 0) return memo as Tri;
  const cohort = run.snapshot.cohorts[slot]!;
  let t: Tri;
  if (cohort.isStatic) {
    t = !run.loaded ? UNKNOWN : run.ctx.staticCohorts?.has(cohort.id) ? TRUE : FALSE;
  } else {
    t = cohort.root === null ? FALSE : nodeTri(run, cohort.root);
  }
  run.cohortMemo[slot] = t;
  return t;
}

function nodeTri(run: EvaluationRun, node: CohortNode): Tri {
  if (!node.group) {
    const f = node.filter;
    let t: Tri;
    if (f.kind === FILTER_PERSON) t = personTri(run, f);
    else if (f.kind === FILTER_COHORT) t = cohortTri(run, f.cohortSlot);
    else t = FALSE;
    return f.negation ? negate(t) : t;
  }
  // Kleene AND / OR: a decided operand can settle the group even when another is unknown.
  let unknown = false;
  for (const child of node.children) {
    const t = nodeTri(run, child);
    if (t === UNKNOWN) unknown = true;
    else if ((t === TRUE) !== node.and) return t;
  }
  if (unknown) return UNKNOWN;
  return node.and ? TRUE : FALSE;
}

/** The condition's filters: TRUE, FALSE or UNKNOWN. Throws FlagFailure when an unresolvable cohort is reached. */
export function conditionTri(run: EvaluationRun, condition: CompiledCondition): Tri {
  const filters = condition.filters;
  let unknown = false;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    let t: Tri;
    switch (f.kind) {
      case FILTER_PERSON:
        t = personTri(run, f);
        break;
      case FILTER_GROUP:
        t = groupTri(run, f);
        break;
      case FILTER_FLAG:
        t = dependencyTri(run, f);
        break;
      case FILTER_COHORT:
        t = cohortTri(run, f.cohortSlot);
        if (f.negation) t = negate(t);
        break;
      case FILTER_ERROR:
        // Reached only when every earlier filter held; an unknown earlier one leaves it open.
        if (unknown) return UNKNOWN;
        throw new FlagFailure(f.error!);
      default:
        t = FALSE;
    }
    if (t === FALSE) return FALSE;
    if (t === UNKNOWN) unknown = true;
  }
  return unknown ? UNKNOWN : TRUE;
}

/**
 * One filter on its own, as `conditionTri` reads it (for `detailed_analysis`, not the hot path).
 * A filter that fails the flag when reached (FILTER_ERROR) reads as false here.
 */
export function filterTri(run: EvaluationRun, f: CompiledFilter): Tri {
  switch (f.kind) {
    case FILTER_PERSON:
      return personTri(run, f);
    case FILTER_GROUP:
      return groupTri(run, f);
    case FILTER_FLAG:
      return dependencyTri(run, f);
    case FILTER_COHORT: {
      const t = cohortTri(run, f.cohortSlot);
      return f.negation ? negate(t) : t;
    }
    default:
      return FALSE;
  }
}
