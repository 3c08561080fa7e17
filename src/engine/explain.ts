/**
 * @module engine/explain
 * PostHog's `detailed_analysis` (spec posthog-newer.md §7): per flag, each condition with its
 * property filters, what the request had for each, and whether the rollout excluded the user.
 * Computed only when asked, after evaluation, from the same context: never on the hot path.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import { type CompiledCondition, type CompiledFilter, type CompiledFlag, FILTER_COHORT, FILTER_ERROR, FILTER_FLAG, FILTER_GROUP, FILTER_NEVER, TRUE, UNKNOWN } from './compile/compiled-types.ts';
import { bucket } from './buckets.ts';
import { EvaluationRun, NOT_EVALUATED, UNKNOWN_IDENTIFIER } from './evaluation-run.ts';
import { SALT_NONE } from './hash.ts';
import { filterTri } from './match-condition.ts';
import type { EvaluationContext, FlagResult } from './types.ts';

/** One property filter of a condition, with the value the request had for it. */
export interface PropertyExplanation {
  key: string;
  operator: string;
  value: unknown;
  type: string;
  /** The person or group property value (the dependency's value for flag filters); null when absent. */
  actual_value: unknown;
  matched: boolean;
  explanation: string;
}

/** One condition: index ≥ 0 for `groups`, −1 the enrollment gate, −2 the holdout. */
export interface ConditionExplanation {
  index: number;
  properties: PropertyExplanation[];
  rollout_percentage: number;
  variant: string | null;
  matched: boolean;
  properties_matched: boolean;
  rollout_excluded: boolean;
  explanation: string;
}

const hasOwn = Object.hasOwn;

function actualValue(run: EvaluationRun, f: CompiledFilter): unknown {
  const ctx = run.ctx;
  if (f.kind === FILTER_FLAG) {
    const v = f.dependency >= 0 ? run.values[f.dependency] : undefined;
    return typeof v === 'boolean' || typeof v === 'string' ? v : null;
  }
  if (f.kind === FILTER_COHORT || f.kind === FILTER_ERROR || f.kind === FILTER_NEVER) return null;
  if (f.kind === FILTER_GROUP) {
    const name = run.snapshot.groupTypeNames[f.groupTypeIndex];
    if (name === undefined) return null;
    if (f.groupKeyProperty && hasOwn(ctx.groups, name)) return ctx.groups[name] ?? null;
    const props = hasOwn(ctx.groupProperties, name) ? ctx.groupProperties[name] : undefined;
    return props && hasOwn(props, f.key) ? props[f.key] : null;
  }
  return hasOwn(ctx.personProperties, f.key) ? ctx.personProperties[f.key] : null;
}

function explainFilter(run: EvaluationRun, f: CompiledFilter): PropertyExplanation {
  const def = f.def;
  const t = filterTri(run, f);
  const matched = t === TRUE;
  let explanation: string;
  if (f.kind === FILTER_ERROR) explanation = `Cannot be evaluated: ${f.error}`;
  else if (f.kind === FILTER_NEVER) explanation = 'This filter type or operator never matches here';
  else if (f.kind === FILTER_FLAG) explanation = matched ? 'The flag evaluates to the expected value' : 'The flag does not evaluate to the expected value';
  else if (f.kind === FILTER_COHORT) explanation = matched ? 'The person is a member of the cohort' : 'The person is not a member of the cohort';
  else if (t === UNKNOWN) explanation = 'The property needs stored data';
  else explanation = matched ? 'The property value matches' : 'The property value does not match';
  return {
    key: f.key,
    operator: typeof def?.operator === 'string' ? def.operator : f.kind === FILTER_COHORT ? 'in' : 'exact',
    value: def?.value ?? null,
    type: typeof def?.type === 'string' ? def.type : 'person',
    actual_value: actualValue(run, f) ?? null,
    matched,
    explanation,
  };
}

function explainCondition(run: EvaluationRun, flag: CompiledFlag, c: CompiledCondition): ConditionExplanation {
  const properties = c.filters.map((f) => explainFilter(run, f));
  const out: ConditionExplanation = {
    index: c.index,
    properties,
    rollout_percentage: c.rollout,
    variant: c.variant,
    matched: false,
    properties_matched: properties.every((p) => p.matched),
    rollout_excluded: false,
    explanation: '',
  };
  if (c.aggregation >= 0 && run.groupKey(c.aggregation) === null) {
    out.properties_matched = false;
    out.explanation = 'Skipped: the request names no group of this condition\'s group type';
  } else if (c.aggregation < 0 && flag.deviceBucketing && c.needsBucketingHash && !run.hasDeviceId()) {
    out.properties_matched = false;
    out.rollout_excluded = true;
    out.explanation = 'Skipped: the flag buckets by device id and the request has none';
  } else if (!out.properties_matched) {
    out.explanation = 'Property filters did not match';
  } else {
    const id = c.rollout < 100 ? run.identifier(flag, c.aggregation, false) : null;
    out.rollout_excluded = id !== null && id !== UNKNOWN_IDENTIFIER && bucket(flag.hashPrefix, id, SALT_NONE) > c.rollout / 100;
    out.matched = !out.rollout_excluded && id !== UNKNOWN_IDENTIFIER;
    out.explanation = out.rollout_excluded ? `Properties matched, but the user is outside the ${c.rollout}% rollout` : out.matched ? 'Matched' : 'The rollout needs stored data';
  }
  return out;
}

/** The enrollment gate (index −1) and holdout (index −2) when the flag has them. */
function explainGates(run: EvaluationRun, flag: CompiledFlag, r: FlagResult): ConditionExplanation[] {
  const out: ConditionExplanation[] = [];
  if (flag.enrollmentKey !== null) {
    const props = run.ctx.personProperties;
    const present = hasOwn(props, flag.enrollmentKey);
    const v = present ? props[flag.enrollmentKey] : null;
    const on = v === true || v === 'true';
    out.push({
      index: -1,
      properties: [{ key: flag.enrollmentKey, operator: 'exact', value: ['true'], type: 'person', actual_value: v ?? null, matched: on, explanation: present ? (on ? 'Enrolled' : 'Not enrolled') : 'No enrollment property: the conditions decide' }],
      rollout_percentage: 100,
      variant: null,
      matched: on,
      properties_matched: on,
      rollout_excluded: false,
      explanation: present ? 'Early-access enrollment decides the flag' : 'No enrollment property',
    });
  }
  if (flag.holdout !== null) {
    const held = r.reason === 'holdout_condition_value';
    out.push({
      index: -2,
      properties: [],
      rollout_percentage: flag.holdout.percentage,
      variant: flag.holdout.variant,
      matched: held,
      properties_matched: true,
      rollout_excluded: !held,
      explanation: held ? 'In the holdout group' : 'Outside the holdout group',
    });
  }
  return out;
}

/**
 * The `conditions` explanation of each result (same order), for a context already evaluated into
 * `results` (their values feed flag dependencies). Failed flags explain their conditions too.
 */
export function explainFlags(snapshot: FlagSnapshot, ctx: EvaluationContext, results: readonly FlagResult[]): ConditionExplanation[][] {
  const run = new EvaluationRun(snapshot, ctx);
  // Flags not evaluated (inactive, filtered out) count as false for their dependents; failed ones
  // stay NOT_EVALUATED.
  for (let o = 0; o < snapshot.flags.length; o++) run.values[o] = false;
  for (const r of results) {
    const o = snapshot.ordinalByKey.get(r.key);
    if (o !== undefined) run.values[o] = r.failed ? NOT_EVALUATED : r.enabled ? (r.variant ?? true) : false;
  }
  return results.map((r) => {
    const o = snapshot.ordinalByKey.get(r.key);
    if (o === undefined) return [];
    const flag = snapshot.flags[o]!;
    return [...explainGates(run, flag, r), ...flag.conditions.map((c) => explainCondition(run, flag, c))];
  });
}
