/**
 * @module engine/compile/compile-flag
 * One stored flag → its compiled form (spec §2, §4.2). Malformed definitions compile to a flag
 * that fails with `flag_data_parsing_error` instead of throwing.
 */
import { alignedPrefix } from '../bucket-batch.ts';
import { utf8Bytes } from '../hash.ts';
import type { ConditionDef, FlagDef, FlagFiltersDef } from '../types.ts';
import {
  type CompiledCondition,
  type CompiledFilter,
  type CompiledFlag,
  type CompiledVariant,
  FILTER_COHORT,
  FILTER_ERROR,
  FILTER_FLAG,
  PREFETCH_ROLLOUT,
  PREFETCH_VARIANT,
} from './compiled-types.ts';
import { compileFilter, type FilterScope } from './compile-filter.ts';

class DefinitionError extends Error {}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function aggregationOf(x: unknown): number {
  if (x === null || x === undefined) return -1;
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  throw new DefinitionError('aggregation_group_type_index');
}

function compileCondition(
  def: ConditionDef,
  index: number,
  flagAggregation: number,
  variants: CompiledVariant[],
  scope: FilterScope,
): CompiledCondition {
  if (!isObject(def)) throw new DefinitionError('condition');
  // Present (even null) overrides the flag level; absent inherits it (spec §2).
  const aggregation = Object.hasOwn(def, 'aggregation_group_type_index')
    ? aggregationOf(def.aggregation_group_type_index)
    : flagAggregation;
  const pct = def.rollout_percentage ?? 100;
  if (typeof pct !== 'number') throw new DefinitionError('rollout_percentage');
  const props = def.properties ?? [];
  if (!Array.isArray(props)) throw new DefinitionError('properties');
  const compiled = props.map((p) => {
    if (!isObject(p)) throw new DefinitionError('property');
    return compileFilter(p as never, aggregation, false, scope);
  });
  // PostHog evaluates flag and property filters in order, cohort filters last (spec §4.3);
  // a cohort reference that cannot resolve fails the flag once reached, so it goes first among them.
  const cohortRank = (k: number) => (k === FILTER_ERROR ? 1 : k === FILTER_COHORT ? 2 : 0);
  const filters = compiled
    .map((f, i) => ({ f, i }))
    .sort((a, b) => cohortRank(a.f.kind) - cohortRank(b.f.kind) || a.i - b.i)
    .map((x) => x.f);
  markDependencyConflicts(filters);
  const variantIndex = typeof def.variant === 'string' ? variants.findIndex((v) => v.key === def.variant) : -1;
  const needsBucketingHash = pct < 100 || (variantIndex < 0 && variantNeedsHash(variants));
  return { index, filters, rollout: pct, variant: variantIndex >= 0 ? variants[variantIndex]!.key : null, variantIndex, aggregation, needsBucketingHash };
}

/**
 * Whether picking an (unpinned) variant depends on the hash (PostHog's
 * `condition_needs_bucketing_hash`): not when there are no variants, when every share is 0 (no
 * variant whatever the hash) or when the first non-zero share is 100 (that variant whatever the hash).
 */
function variantNeedsHash(variants: CompiledVariant[]): boolean {
  for (const v of variants) if (v.percentage !== 0) return v.percentage !== 100;
  return false;
}

/** Whether a value of a flag can satisfy all of `expected` (flag_evaluates_to values) at once. */
function satisfiable(expected: unknown[]): boolean {
  let variant: string | null = null;
  let wantsFalse = false;
  let wantsOn = false;
  for (const e of expected) {
    if (e === false) wantsFalse = true;
    else if (e === true) wantsOn = true;
    else if (typeof e === 'string') {
      if (variant !== null && variant !== e) return false;
      variant = e;
      wantsOn = true;
    } else return false;
  }
  return !(wantsFalse && wantsOn);
}

/** Sets `depConflict` on flag filters whose condition asks one dependency for incompatible values. */
function markDependencyConflicts(filters: CompiledFilter[]): void {
  const byDependency = new Map<number, CompiledFilter[]>();
  for (const f of filters) {
    if (f.kind !== FILTER_FLAG || f.dependency < 0) continue;
    const list = byDependency.get(f.dependency);
    if (list) list.push(f);
    else byDependency.set(f.dependency, [f]);
  }
  for (const list of byDependency.values()) {
    if (!satisfiable(list.map((f) => f.expected))) for (const f of list) f.depConflict = true;
  }
}

function compileVariants(filters: FlagFiltersDef): CompiledVariant[] {
  const list = filters.multivariate?.variants;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new DefinitionError('multivariate');
  let upper = 0;
  return list.map((v) => {
    if (!isObject(v) || typeof v.key !== 'string' || typeof v.rollout_percentage !== 'number') throw new DefinitionError('variant');
    // Accumulate exactly as PostHog does (spec §3.2), so float edges land the same way.
    upper += v.rollout_percentage / 100;
    return { key: v.key, upper, percentage: v.rollout_percentage };
  });
}

function compilePayloads(payloads: unknown): CompiledFlag['payloads'] {
  const out: CompiledFlag['payloads'] = new Map();
  if (!isObject(payloads)) return out;
  for (const key of Object.keys(payloads)) {
    const raw = payloads[key];
    if (raw === null || raw === undefined) continue;
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    out.set(key, { raw, value });
  }
  return out;
}

/**
 * Slots of a flag's outcome table (see `result` in evaluate.ts): condition matches by condition ×
 * variant, one holdout slot, and the eight other (reason, enabled) pairs that occur, by index
 * (none, each condition, and index 0 of the super condition).
 */
const OTHER_OUTCOMES = 8;
const MAX_OUTCOME_SLOTS = 4096;

function outcomeSlots(conditions: number, variants: number): number {
  const size = conditions * (variants + 1) + 1 + OTHER_OUTCOMES * (conditions + 2);
  return size <= MAX_OUTCOME_SLOTS ? size : 0;
}

/**
 * Which buckets to hash ahead, in the request's SIMD batch: only those a filterless first
 * condition is sure (rollout) or likely (variant, when at least half the users pass the
 * rollout) to need. Any other bucket is hashed when evaluation reaches it.
 */
function prefetchPlan(flag: CompiledFlag): number {
  const first = flag.conditions[0];
  if (first === undefined || first.filters.length > 0) return 0;
  let plan = first.rollout !== 100 ? PREFETCH_ROLLOUT : 0;
  if (flag.variants.length > 0 && first.variantIndex < 0 && first.rollout >= 50) plan |= PREFETCH_VARIANT;
  return plan;
}

/** Compiles one non-deleted flag. Never throws: a bad definition yields a failing flag. */
export function compileFlag(def: FlagDef, ordinal: number, scope: FilterScope): CompiledFlag {
  const flag: CompiledFlag = {
    ordinal,
    id: def.id,
    key: def.key,
    version: typeof def.version === 'number' ? def.version : 0,
    active: def.active === true,
    continuity: def.ensure_experience_continuity === true,
    deviceBucketing: def.bucketing_identifier === 'device_id',
    hashPrefix: utf8Bytes(`${def.key}.`),
    hashPrefixWords: alignedPrefix(utf8Bytes(`${def.key}.`)),
    aggregation: -1,
    conditions: [],
    variants: [],
    payloads: new Map(),
    enrollmentKey: null,
    earlyExit: false,
    holdout: null,
    runtime: def.evaluation_runtime === 'client' || def.evaluation_runtime === 'server' ? def.evaluation_runtime : 'all',
    tags: Array.isArray(def.evaluation_tags) ? def.evaluation_tags.filter((t) => typeof t === 'string') : [],
    dependencies: [],
    missingDependency: false,
    error: null,
    outcomes: null,
    outcomeSlots: 0,
    prefetch: 0,
    hasDependents: false,
    simple: false,
  };
  try {
    const filters = def.filters;
    if (!isObject(filters)) throw new DefinitionError('filters');
    flag.aggregation = aggregationOf(filters.aggregation_group_type_index);
    flag.variants = compileVariants(filters);
    flag.payloads = compilePayloads(filters.payloads);
    const groups = filters.groups ?? [];
    if (!Array.isArray(groups)) throw new DefinitionError('groups');
    flag.conditions = groups.map((c, i) => compileCondition(c, i, flag.aggregation, flag.variants, scope));
    // Only `feature_enrollment` gates early access; legacy `super_groups` are stored and served
    // but never evaluated (spec posthog-newer.md §12).
    if (filters.feature_enrollment === true) flag.enrollmentKey = `$feature_enrollment/${def.key}`;
    flag.earlyExit = filters.early_exit === true;
    if (isObject(filters.holdout)) {
      const pct = Math.min(100, Math.max(0, Number(filters.holdout.exclusion_percentage)));
      if (Number.isNaN(pct)) throw new DefinitionError('holdout');
      flag.holdout = { variant: `holdout-${filters.holdout.id}`, percentage: pct };
    }
    flag.outcomeSlots = outcomeSlots(flag.conditions.length, flag.variants.length);
    flag.prefetch = prefetchPlan(flag);
    for (const c of flag.conditions) for (const f of c.filters) if (f.kind === FILTER_FLAG) flag.dependencies.push(f.dependency);
  } catch (err) {
    if (!(err instanceof DefinitionError)) throw err;
    flag.error = 'flag_data_parsing_error';
    flag.conditions = [];
  }
  return flag;
}
