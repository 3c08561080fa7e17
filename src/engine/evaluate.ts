/**
 * @module engine/evaluate
 * Snapshot + request → one decision per flag, exactly as PostHog's server decides
 * (`get_match`, spec §4.2), in dependency order, without I/O or clock reads.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import { type CompiledFlag, FALSE, PREFETCH_ROLLOUT, PREFETCH_VARIANT, UNKNOWN } from './compile/compiled-types.ts';
import { addBucket, beginBuckets, finishBuckets } from './bucket-batch.ts';
import { EvaluationRun, INCONCLUSIVE, NOT_EVALUATED, UNKNOWN_IDENTIFIER } from './evaluation-run.ts';
import { hashBytes, SALT_NONE, SALT_VARIANT } from './hash.ts';
import { conditionTri, FlagFailure } from './match-condition.ts';
import { DESCRIPTIONS, matchedDescription, NO_MATCH_GROUPS_SKIPPED, PRIORITY } from './reasons.ts';
import { failed, inconclusive, result } from './results.ts';
import type { EvaluationContext, EvaluationResult, FlagResult, ReasonCode } from './types.ts';

const HOLDOUT_PREFIX = new TextEncoder().encode('holdout-');

/** Bucket in [0,1]; an empty identifier is 0 without hashing, as in PostHog's `get_hash`. */
function bucket(prefix: Uint8Array, id: Uint8Array, salt: Uint8Array): number {
  return id.length === 0 ? 0 : hashBytes(prefix, id, salt);
}

/** The flag's rollout bucket for `id`: from the request's batch when it was hashed ahead. */
function rolloutBucket(run: EvaluationRun, flag: CompiledFlag, id: Uint8Array): number {
  if (run.bucketIds[flag.ordinal] === id) {
    const h = run.buckets[flag.ordinal << 1]!;
    if (h === h) return h;
  }
  return bucket(flag.hashPrefix, id, SALT_NONE);
}

/** The variant a bucket falls in, as a slot: 0 for none (variants summing below 100), else index + 1. */
function variantSlotFor(run: EvaluationRun, flag: CompiledFlag, id: Uint8Array): number {
  const variants = flag.variants;
  if (variants.length === 0) return 0;
  let h = NaN;
  if (run.bucketIds[flag.ordinal] === id) h = run.buckets[(flag.ordinal << 1) + 1]!;
  if (h !== h) h = bucket(flag.hashPrefix, id, SALT_VARIANT);
  for (let i = 0; i < variants.length; i++) if (h < variants[i]!.upper) return i + 1;
  return 0;
}

/** Early-access enrollment (spec §4.2 step 1): a result, null to go on, or undefined when unknown. */
function enrollment(run: EvaluationRun, flag: CompiledFlag): FlagResult | null | undefined {
  const props = run.ctx.personProperties;
  if (flag.enrollmentKey !== null) {
    if (Object.hasOwn(props, flag.enrollmentKey)) {
      const v = props[flag.enrollmentKey];
      const on = v === true || v === 'true';
      return result(flag, on, 0, 'super_condition_value', 0, DESCRIPTIONS.super_condition_value, on ? 'true' : null);
    }
    return run.loaded ? null : undefined;
  }
  if (flag.superCondition !== null) {
    if (!flag.superKeys.some((k) => Object.hasOwn(props, k))) return run.loaded ? null : undefined;
    const t = conditionTri(run, flag.superCondition);
    if (t === UNKNOWN) return undefined;
    let on = t !== FALSE;
    if (on && flag.superCondition.rollout !== 100) {
      const id = run.identifier(flag, -1, false);
      if (id === UNKNOWN_IDENTIFIER) return undefined;
      on = bucket(flag.hashPrefix, id, SALT_NONE) <= flag.superCondition.rollout / 100;
    }
    return result(flag, on, 0, 'super_condition_value', 0, DESCRIPTIONS.super_condition_value, on ? 'true' : null);
  }
  return null;
}

/** PostHog's `get_match` for one flag. */
function matchFlag(run: EvaluationRun, flag: CompiledFlag): FlagResult {
  if (flag.error !== null) return failed(flag, flag.error);
  if (flag.missingDependency) return result(flag, false, 0, 'missing_dependency', null, DESCRIPTIONS.missing_dependency, null);

  const early = enrollment(run, flag);
  if (early === undefined) return inconclusive(flag);
  if (early !== null) return early;

  if (flag.holdout !== null) {
    const pct = flag.holdout.percentage;
    const id = run.identifier(flag, flag.aggregation, true) as Uint8Array;
    // The holdout hash has no flag key and no empty-identifier shortcut (spec §3.3).
    if (pct >= 100 || hashBytes(HOLDOUT_PREFIX, id, SALT_NONE) <= pct / 100) {
      return result(flag, true, flag.variants.length + 1, 'holdout_condition_value', null, DESCRIPTIONS.holdout_condition_value, flag.holdout.variant);
    }
  }

  let best: ReasonCode = 'no_group_type';
  let bestIndex: number | null = null;
  let skippedGroup = false;
  const conditions = flag.conditions;
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i]!;
    const agg = condition.aggregation;
    let reason: ReasonCode;
    if (agg < 0 && flag.deviceBucketing && !run.hasDeviceId()) {
      reason = 'out_of_rollout_bound';
    } else if (agg >= 0 && run.groupKey(agg) === null) {
      skippedGroup = true;
      reason = 'no_group_type';
    } else {
      const t = conditionTri(run, condition);
      // An open condition decides either this flag's match or its reason: nothing after it is final.
      if (t === UNKNOWN) return inconclusive(flag);
      if (t === FALSE) {
        reason = 'no_condition_match';
      } else {
        let id: Uint8Array | null = null;
        if (condition.rollout !== 100 || (condition.variant === null && flag.variants.length > 0)) {
          const got = run.identifier(flag, agg, false);
          if (got === UNKNOWN_IDENTIFIER) return inconclusive(flag);
          id = got;
        }
        if (condition.rollout === 100 || rolloutBucket(run, flag, id!) <= condition.rollout / 100) {
          const slot = condition.variantIndex >= 0 ? condition.variantIndex + 1 : id === null ? 0 : variantSlotFor(run, flag, id);
          return result(flag, true, slot, 'condition_match', i, matchedDescription(i), slot === 0 ? 'true' : flag.variants[slot - 1]!.key);
        }
        reason = 'out_of_rollout_bound';
      }
    }
    if (PRIORITY[reason] >= PRIORITY[best]) {
      best = reason;
      bestIndex = i;
    }
  }
  const description = best === 'no_condition_match' && skippedGroup ? NO_MATCH_GROUPS_SKIPPED : DESCRIPTIONS[best];
  return result(flag, false, 0, best, bestIndex, description, null);
}

/**
 * Hashes, in one SIMD batch, the buckets that selected flags' filterless first conditions will
 * ask for (see `prefetchPlan`). Flags whose identifier needs stored data or is empty are left
 * to evaluation, which hashes whatever it still needs one at a time.
 */
function prefetchBuckets(run: EvaluationRun, snapshot: FlagSnapshot, selected: Uint8Array): void {
  const ordinals = snapshot.prefetchOrdinals;
  const n = snapshot.flags.length;
  // Shared scratch: evaluation is synchronous and a run only reads these while it evaluates.
  // (A typed array this size would be allocated off-heap, which costs more than the hashing.)
  if (bucketScratch.length < n << 1) bucketScratch = new Float64Array(n << 1);
  const buckets = bucketScratch;
  const ids = bucketIdScratch;
  beginBuckets(buckets);
  for (let k = 0; k < ordinals.length; k++) {
    const o = ordinals[k]!;
    // Entries of flags not hashed now must not match: a stale id is never this run's bytes,
    // but clearing keeps old requests' bytes from being retained.
    ids[o] = undefined;
    if (!selected[o]) continue;
    const flag = snapshot.flags[o]!;
    const agg = flag.conditions[0]!.aggregation;
    if (agg < 0 && flag.deviceBucketing && !run.hasDeviceId()) continue;
    if (agg >= 0 && run.groupKey(agg) === null) continue;
    const id = run.identifier(flag, agg, false);
    if (id === UNKNOWN_IDENTIFIER || id.length === 0) continue;
    ids[o] = id;
    if (flag.prefetch & PREFETCH_ROLLOUT) addBucket(flag.hashPrefix, id, SALT_NONE, o << 1);
    else buckets[o << 1] = NaN;
    if (flag.prefetch & PREFETCH_VARIANT) addBucket(flag.hashPrefix, id, SALT_VARIANT, (o << 1) + 1);
    else buckets[(o << 1) + 1] = NaN;
  }
  finishBuckets();
  run.buckets = buckets;
  run.bucketIds = ids;
}
let bucketScratch = new Float64Array(128);
const bucketIdScratch: (Uint8Array | undefined)[] = [];

/** Which flags the request asks for: active, runtime and tag filters, and flag_keys closure. */
function selectFlags(snapshot: FlagSnapshot, ctx: EvaluationContext): Uint8Array {
  const flags = snapshot.flags;
  const runtime = ctx.runtime ?? 'all';
  const contexts = ctx.evaluationContexts && ctx.evaluationContexts.length > 0 ? ctx.evaluationContexts : null;
  // The common request filters nothing: share the precomputed mask instead of building one.
  if (runtime === 'all' && contexts === null && !ctx.flagKeys) return snapshot.activeMask;
  const selected = new Uint8Array(flags.length);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (!f.active) continue;
    if (runtime !== 'all' && f.runtime !== 'all' && f.runtime !== runtime) continue;
    if (contexts !== null && f.tags.length > 0 && !f.tags.some((t) => contexts.includes(t))) continue;
    selected[i] = 1;
  }
  if (ctx.flagKeys) {
    // Requested keys plus their transitive dependencies (spec §4.1 step 2).
    const wanted = new Uint8Array(flags.length);
    const stack: number[] = [];
    for (const key of ctx.flagKeys) {
      const o = snapshot.ordinalByKey.get(key);
      if (o !== undefined && !wanted[o]) {
        wanted[o] = 1;
        stack.push(o);
      }
    }
    while (stack.length > 0) {
      for (const d of flags[stack.pop()!]!.dependencies) {
        if (d >= 0 && !wanted[d]) {
          wanted[d] = 1;
          stack.push(d);
        }
      }
    }
    for (let i = 0; i < flags.length; i++) selected[i] &= wanted[i]!;
  }
  return selected;
}

/**
 * Evaluates the selected flags of a snapshot for one request. Pure and synchronous; never
 * throws for bad definitions or inputs (those become failed flags). Flags that are not
 * selected (inactive, filtered out) count as `false` for flags that depend on them.
 */
export function evaluateFlags(snapshot: FlagSnapshot, ctx: EvaluationContext): EvaluationResult {
  const run = new EvaluationRun(snapshot, ctx);
  const selected = selectFlags(snapshot, ctx);
  if (snapshot.prefetchOrdinals.length > 0) prefetchBuckets(run, snapshot, selected);
  const out: FlagResult[] = [];
  let anyInconclusive = false;
  let anyFailed = false;
  const order = snapshot.order;
  for (let k = 0; k < order.length; k++) {
    const o = order[k]!;
    const flag = snapshot.flags[o]!;
    if (!selected[o]) {
      run.values[o] = false;
      continue;
    }
    let r: FlagResult;
    try {
      r = matchFlag(run, flag);
    } catch (err) {
      if (!(err instanceof FlagFailure)) throw err;
      r = failed(flag, err.code);
    }
    if (r.inconclusive) {
      anyInconclusive = true;
      run.values[o] = INCONCLUSIVE;
    } else if (r.failed) {
      anyFailed = true;
      run.values[o] = NOT_EVALUATED;
    } else {
      run.values[o] = r.enabled ? (r.variant ?? true) : false;
    }
    out.push(r);
  }
  return { flags: out, inconclusive: anyInconclusive, errors: anyFailed };
}
