/**
 * @module engine/evaluate
 * Snapshot + request → one decision per flag, exactly as PostHog's server decides
 * (`get_match`, spec §4.2), in dependency order, without I/O or clock reads.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import { type CompiledFlag, FALSE, TRUE, UNKNOWN } from './compile/compiled-types.ts';
import { beginBucketTable, bucket, flushBuckets, prefetchBuckets, queueBuckets, tableBucket } from './buckets.ts';
import { EvaluationRun, INCONCLUSIVE, NOT_EVALUATED, UNKNOWN_IDENTIFIER } from './evaluation-run.ts';
import { hashBytes, SALT_NONE, SALT_VARIANT } from './hash.ts';
import { beginMatchBudget, DEFAULT_MATCH_BUDGET, endMatchBudget } from './match/match-budget.ts';
import { FlagFailure } from './flag-failure.ts';
import { conditionTri } from './match-condition.ts';
import { decideWithFailedDependencies, dependsOnFailedFlag } from './failed-dependency.ts';
import { DESCRIPTIONS } from './reasons.ts';
import { selectFlags } from './select-flags.ts';
import { failed, inconclusive, matchedResult, NO_CONDITION_MATCH, NO_GROUP_TYPE, OUT_OF_ROLLOUT_BOUND, result, unmatchedResult } from './results.ts';
import type { EvaluationContext, EvaluationResult, FlagResult } from './types.ts';

const HOLDOUT_PREFIX = new TextEncoder().encode('holdout-');

/** The variant slot a variant bucket falls in: 0 for none (variants summing below 100), else index + 1. */
function variantSlotOf(flag: CompiledFlag, h: number): number {
  const variants = flag.variants;
  for (let i = 0; i < variants.length; i++) if (h < variants[i]!.upper) return i + 1;
  return 0;
}

/**
 * Early-access enrollment (spec §4.2 step 1; only `feature_enrollment`, legacy `super_groups` are
 * not evaluated, spec posthog-newer.md §12): a result, null to go on, or undefined when unknown.
 */
function enrollment(run: EvaluationRun, flag: CompiledFlag): FlagResult | null | undefined {
  const props = run.ctx.personProperties;
  const key = flag.enrollmentKey!;
  if (Object.hasOwn(props, key)) {
    const v = props[key];
    const on = v === true || v === 'true';
    return result(flag, on, 0, 'super_condition_value', 0, DESCRIPTIONS.super_condition_value, on ? 'true' : null);
  }
  return run.loaded ? null : undefined;
}

/**
 * The flag's rollout (`variant` 0) or variant (1) bucket for `id`, from the request's table or
 * hashed here; NaN when it was queued instead (with the variant bucket too, if `alsoVariant`)
 * and the flag must wait for the batch.
 */
function flagBucket(flag: CompiledFlag, id: Uint8Array, variant: 0 | 1, canWait: boolean, alsoVariant: boolean): number {
  const h = tableBucket(flag, id, variant);
  if (h >= 0) return h;
  if (canWait && id.length > 0 && queueBuckets(flag, id, variant === 0, alsoVariant)) return NaN;
  // Needed now (a flag others depend on, or the last pass): hashed here even if also queued.
  return bucket(flag.hashPrefix, id, variant === 0 ? SALT_NONE : SALT_VARIANT);
}

/**
 * Returned by `matchConditions` when the flag waits for buckets queued into the request's batch;
 * `waits` holds where to resume.
 */
const WAITING: unique symbol = Symbol('waiting');

/** Flags waiting for buckets in this evaluation (module scratch: evaluation is synchronous). */
const waits = {
  count: 0,
  position: [] as number[],
  ordinal: [] as number[],
  condition: [] as number[],
  best: [] as number[],
  bestIndex: [] as (number | null)[],
  skippedGroup: [] as boolean[],
};

function waitAt(condition: number, best: number, bestIndex: number | null, skippedGroup: boolean): typeof WAITING {
  const k = waits.count;
  waits.condition[k] = condition;
  waits.best[k] = best;
  waits.bestIndex[k] = bestIndex;
  waits.skippedGroup[k] = skippedGroup;
  return WAITING;
}

/**
 * `get_match` for a `simple` flag (one filterless condition on the distinct id, nothing else)
 * whose buckets are already in the table: the result without the general path's checks, which
 * cost as much as the rest of such a flag's evaluation. null when a bucket is not there yet.
 */
function decideSimple(flag: CompiledFlag, id: Uint8Array): FlagResult | null {
  const condition = flag.conditions[0]!;
  if (condition.rollout !== 100) {
    const h = tableBucket(flag, id, 0);
    if (!(h >= 0)) return null;
    if (h > condition.rollout / 100) return unmatchedResult(flag, OUT_OF_ROLLOUT_BOUND, 0, false);
  }
  if (condition.variantIndex >= 0 || flag.variants.length === 0) return matchedResult(flag, 0, condition.variantIndex + 1);
  const h = tableBucket(flag, id, 1);
  return h >= 0 ? matchedResult(flag, 0, variantSlotOf(flag, h)) : null;
}

/** PostHog's `get_match` for one flag. */
function matchFlag(run: EvaluationRun, flag: CompiledFlag): FlagResult | typeof WAITING {
  if (flag.error !== null) return failed(flag, flag.error);
  if (flag.missingDependency) return result(flag, false, 0, 'missing_dependency', null, DESCRIPTIONS.missing_dependency, null);

  if (flag.enrollmentKey !== null) {
    const early = enrollment(run, flag);
    if (early === undefined) return inconclusive(flag);
    if (early !== null) return early;
  }

  if (flag.holdout !== null) {
    const pct = flag.holdout.percentage;
    const id = run.identifier(flag, flag.aggregation, true) as Uint8Array;
    // The holdout hash has no flag key and no empty-identifier shortcut (spec §3.3).
    if (pct >= 100 || hashBytes(HOLDOUT_PREFIX, id, SALT_NONE) <= pct / 100) {
      return result(flag, true, flag.variants.length + 1, 'holdout_condition_value', null, DESCRIPTIONS.holdout_condition_value, flag.holdout.variant);
    }
  }
  return matchConditions(run, flag, 0, NO_GROUP_TYPE, null, false, false);
}

/**
 * The condition loop of `get_match`, from condition `start` (whose properties are already known
 * to match when `resumed`). A bucket the table lacks is queued and the flag waits, when the run
 * batches buckets and nothing depends on this flag's value; otherwise it is hashed here.
 */
function matchConditions(
  run: EvaluationRun,
  flag: CompiledFlag,
  start: number,
  best: number,
  bestIndex: number | null,
  skippedGroup: boolean,
  resumed: boolean,
): FlagResult | typeof WAITING {
  const canWait = run.batchingBuckets && !flag.hasDependents;
  const conditions = flag.conditions;
  for (let i = start; i < conditions.length; i++) {
    const condition = conditions[i]!;
    const agg = condition.aggregation;
    let reason: number;
    if (agg < 0 && flag.deviceBucketing && condition.needsBucketingHash && !run.hasDeviceId()) {
      // Withheld only when the missing identifier could change the outcome; never an early exit
      // (PostHog `continue`s before that check, spec posthog-newer.md §4).
      reason = OUT_OF_ROLLOUT_BOUND;
    } else if (agg >= 0 && run.groupKey(agg) === null) {
      skippedGroup = true;
      reason = NO_GROUP_TYPE;
    } else {
      const t = resumed && i === start ? TRUE : conditionTri(run, condition);
      // An open condition decides either this flag's match or its reason: nothing after it is final.
      if (t === UNKNOWN) return inconclusive(flag);
      if (t === FALSE) {
        reason = NO_CONDITION_MATCH;
      } else {
        const wantsVariant = condition.variantIndex < 0 && flag.variants.length > 0;
        let id: Uint8Array | null = null;
        if (condition.rollout !== 100 || wantsVariant) {
          const got = run.identifier(flag, agg, false);
          if (got === UNKNOWN_IDENTIFIER) return inconclusive(flag);
          id = got;
        }
        let inRollout = true;
        if (condition.rollout !== 100) {
          const h = flagBucket(flag, id!, 0, canWait, wantsVariant);
          if (h !== h) return waitAt(i, best, bestIndex, skippedGroup);
          inRollout = h <= condition.rollout / 100;
        }
        if (inRollout) {
          let slot = condition.variantIndex + 1;
          if (wantsVariant) {
            const h = flagBucket(flag, id!, 1, canWait, true);
            if (h !== h) return waitAt(i, best, bestIndex, skippedGroup);
            slot = variantSlotOf(flag, h);
          }
          return matchedResult(flag, i, slot);
        }
        // Early exit: properties held, the rollout excluded the user: the answer is final.
        if (flag.earlyExit) return unmatchedResult(flag, OUT_OF_ROLLOUT_BOUND, i, skippedGroup);
        reason = OUT_OF_ROLLOUT_BOUND;
      }
    }
    // PostHog's priority; among equals the later condition wins.
    if (reason >= best) {
      best = reason;
      bestIndex = i;
    }
  }
  return unmatchedResult(flag, best, bestIndex, skippedGroup);
}

/**
 * Evaluates the selected flags of a snapshot for one request. Pure and synchronous; never
 * throws for bad definitions or inputs (those become failed flags). Flags that are not
 * selected (inactive, filtered out) count as `false` for flags that depend on them.
 */
export function evaluateFlags(snapshot: FlagSnapshot, ctx: EvaluationContext): EvaluationResult {
  beginMatchBudget(ctx.matchBudget ?? DEFAULT_MATCH_BUDGET);
  try {
    return evaluateRun(snapshot, ctx);
  } finally {
    endMatchBudget();
  }
}

function evaluateRun(snapshot: FlagSnapshot, ctx: EvaluationContext): EvaluationResult {
  const run = new EvaluationRun(snapshot, ctx);
  const selected = selectFlags(snapshot, ctx);
  beginBucketTable(snapshot.flags.length);
  if (snapshot.prefetchByDistinctId.length + snapshot.prefetchOrdinals.length > 0) prefetchBuckets(run, snapshot, selected);
  // Sized once (pushing 50 results would grow the array three times), trimmed at the end.
  const out = new Array<FlagResult>(snapshot.order.length);
  let count = 0;
  const state = { inconclusive: false, errors: false };
  const order = snapshot.order;
  waits.count = 0;
  run.batchingBuckets = true;
  for (let k = 0; k < order.length; k++) {
    const o = order[k]!;
    const flag = snapshot.flags[o]!;
    if (!selected[o]) {
      run.values[o] = false;
      continue;
    }
    let r: FlagResult | typeof WAITING | null = flag.simple ? decideSimple(flag, run.distinctIdBytes()) : null;
    try {
      // A failed flag earlier in this run (rare): its dependents follow PostHog's rule instead.
      if (r === null && state.errors && flag.dependencies.length > 0 && dependsOnFailedFlag(run, flag)) {
        r = decideWithFailedDependencies(run, flag, matchFlag as (run: EvaluationRun, flag: CompiledFlag) => FlagResult);
      }
      r ??= matchFlag(run, flag);
    } catch (err) {
      if (!(err instanceof FlagFailure)) throw err;
      r = failed(flag, err.code);
    }
    if (r === WAITING) {
      // Nothing depends on this flag: its place is kept and filled once the batch is hashed.
      waits.position[waits.count] = count++;
      waits.ordinal[waits.count++] = o;
      continue;
    }
    record(run, o, r, state);
    out[count++] = r;
    if (r.inconclusive && ctx.stopAtInconclusive === true) {
      // Queued buckets are dropped by the next evaluation's beginBucketTable; flags waiting for
      // them were never decided, so no flag is returned at all.
      waits.count = 0;
      return { flags: [], inconclusive: true, errors: state.errors };
    }
  }
  if (count < out.length) out.length = count;
  if (waits.count > 0) {
    flushBuckets();
    run.batchingBuckets = false;
    for (let w = 0; w < waits.count; w++) {
      const o = waits.ordinal[w]!;
      const flag = snapshot.flags[o]!;
      let r: FlagResult;
      try {
        r = matchConditions(run, flag, waits.condition[w]!, waits.best[w]!, waits.bestIndex[w]!, waits.skippedGroup[w]!, true) as FlagResult;
      } catch (err) {
        if (!(err instanceof FlagFailure)) throw err;
        r = failed(flag, err.code);
      }
      record(run, o, r, state);
      out[waits.position[w]!] = r;
    }
    waits.count = 0;
  }
  return { flags: out, inconclusive: state.inconclusive, errors: state.errors };
}

/** Stores a flag's value for flags that depend on it, and notes inconclusive or failed answers. */
function record(run: EvaluationRun, o: number, r: FlagResult, state: { inconclusive: boolean; errors: boolean }): void {
  if (r.inconclusive) {
    state.inconclusive = true;
    run.values[o] = INCONCLUSIVE;
  } else if (r.failed) {
    state.errors = true;
    run.values[o] = NOT_EVALUATED;
  } else {
    run.values[o] = r.enabled ? (r.variant ?? true) : false;
  }
}
