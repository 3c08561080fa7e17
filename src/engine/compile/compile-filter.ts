/**
 * @module engine/compile/compile-filter
 * One property filter (of a flag condition or a cohort) → its compiled form (spec §5, §6.2, §6.3).
 */
import { compileOperator } from '../match/operators.ts';
import type { FlagErrorCode, PropertyFilterDef } from '../types.ts';
import {
  type CompiledFilter,
  FILTER_COHORT,
  FILTER_ERROR,
  FILTER_FLAG,
  FILTER_GROUP,
  FILTER_NEVER,
  FILTER_PERSON,
} from './compiled-types.ts';

/** What a filter may refer to, resolved by the snapshot compiler. */
export interface FilterScope {
  timezone: string;
  /** Flag id → ordinal, and key → ordinal (keys are a Vexil extension; PostHog stores ids). */
  flagOrdinalById: ReadonlyMap<number, number>;
  flagOrdinalByKey: ReadonlyMap<string, number>;
  /** Cohort id → slot, or the error referencing it causes. */
  resolveCohort(id: number): { slot: number } | { error: FlagErrorCode };
}

function base(kind: number, key: string): CompiledFilter {
  return {
    kind,
    key,
    groupTypeIndex: -1,
    op: null,
    negation: false,
    cohortSlot: -1,
    dependency: -1,
    expected: undefined,
    error: null,
    depConflict: false,
    groupKeyProperty: false,
    def: null,
  };
}

/** A cohort id as PostHog accepts it: a number, or a string holding an integer. */
export function cohortIdOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return null;
}

/**
 * Compiles a filter. `aggregation` is the condition's resolved aggregation (-1 persons): a
 * filter without an explicit type inside a group-aggregated condition reads that group's
 * properties (legacy group flags, spec §6.2). Inside cohorts (`inCohort`) filters always read
 * person properties and `negation` applies.
 */
export function compileFilter(def: PropertyFilterDef, aggregation: number, inCohort: boolean, scope: FilterScope): CompiledFilter {
  const f = compileFilterKind(def, aggregation, inCohort, scope);
  f.def = def;
  return f;
}

function compileFilterKind(def: PropertyFilterDef, aggregation: number, inCohort: boolean, scope: FilterScope): CompiledFilter {
  const key = typeof def.key === 'string' ? def.key : String(def.key ?? '');
  const type = def.type ?? null;
  let f: CompiledFilter;
  if (type === 'cohort') {
    f = compileCohortFilter(def, key, scope);
  } else if (type === 'flag') {
    f = base(FILTER_FLAG, key);
    if (def.operator !== 'flag_evaluates_to') return base(FILTER_NEVER, key);
    const id = cohortIdOf(key);
    const ordinal = id !== null ? scope.flagOrdinalById.get(id) : scope.flagOrdinalByKey.get(key);
    f.dependency = ordinal ?? -1;
    f.expected = def.value;
  } else if (type === null || type === 'person' || type === 'person_metadata' || type === 'group') {
    const op = compileOperator(def.operator, def.value, scope.timezone);
    if (op === null) return base(FILTER_NEVER, key);
    if (type === 'group' || (type === null && aggregation >= 0 && !inCohort)) {
      f = base(FILTER_GROUP, key);
      f.groupTypeIndex = typeof def.group_type_index === 'number' ? def.group_type_index : aggregation;
      f.groupKeyProperty = key === '$group_key';
    } else {
      f = base(FILTER_PERSON, key);
    }
    f.op = op;
  } else {
    // Behavioral, event, element … filters cannot be decided from properties.
    f = base(FILTER_NEVER, key);
  }
  // Inside cohorts `negation` inverts the result, on top of not_in for nested cohort references.
  if (inCohort && def.negation === true) f.negation = !f.negation;
  return f;
}

function compileCohortFilter(def: PropertyFilterDef, key: string, scope: FilterScope): CompiledFilter {
  const operator = def.operator ?? 'in';
  if (operator !== 'in' && operator !== 'not_in') return base(FILTER_NEVER, key);
  const id = cohortIdOf(def.value);
  if (id === null) {
    const f = base(FILTER_ERROR, key);
    f.error = 'dependency_not_found_cohort';
    return f;
  }
  const resolved = scope.resolveCohort(id);
  if ('error' in resolved) {
    const f = base(FILTER_ERROR, key);
    f.error = resolved.error;
    return f;
  }
  const f = base(FILTER_COHORT, key);
  f.cohortSlot = resolved.slot;
  // not_in is a negated membership; stored in `negation` so cohorts and flags share one rule.
  f.negation = operator === 'not_in';
  return f;
}
