/**
 * @module engine/buckets
 * A request's table of flag buckets (spec §3), filled in SIMD batches rather than one hash at a
 * time: before evaluation for the buckets flags are sure to need (`prefetchBuckets`), and during
 * it for the buckets a flag turns out to need (`queueBuckets`, while that flag waits).
 *
 * Entries are per flag ordinal — [2·o] the rollout bucket (salt ""), [2·o + 1] the variant
 * bucket — and valid only for the identifier bytes recorded with them: every identifier's bytes
 * are a fresh array per evaluation, so an entry left by another request can never match.
 * The table is module scratch, shared by every evaluation: evaluation is synchronous, and a
 * typed array of this size would be allocated off-heap, which costs more than the hashing.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import { type CompiledFlag, PREFETCH_ROLLOUT, PREFETCH_VARIANT } from './compile/compiled-types.ts';
import { addBucket, beginBuckets, finishBuckets } from './bucket-batch.ts';
import { type EvaluationRun, UNKNOWN_IDENTIFIER } from './evaluation-run.ts';
import { hashBytes, SALT_NONE, SALT_VARIANT } from './hash.ts';

let values = new Float64Array(128);
const ids: (Uint8Array | undefined)[] = [];

/** Bucket in [0,1]; an empty identifier is 0 without hashing, as in PostHog's `get_hash`. */
export function bucket(prefix: Uint8Array, id: Uint8Array, salt: Uint8Array): number {
  return id.length === 0 ? 0 : hashBytes(prefix, id, salt);
}

/** Makes the table ready for a snapshot of `flags` flags and opens its batch. */
export function beginBucketTable(flags: number): void {
  if (values.length < flags << 1) values = new Float64Array(flags << 1);
  beginBuckets(values);
}

/** `tableBucket`'s answer for a bucket queued and not hashed yet. */
export const PENDING = -1;

/**
 * The flag's rollout (0) or variant (1) bucket for `id` from the table: the bucket, `PENDING`,
 * or NaN when it is not in the table.
 */
export function tableBucket(flag: CompiledFlag, id: Uint8Array, variant: 0 | 1): number {
  return ids[flag.ordinal] === id ? values[(flag.ordinal << 1) + variant]! : NaN;
}

/**
 * Queues the flag's rollout and/or variant bucket for `id` (non-empty) into the open batch,
 * unless already there; `flushBuckets` hashes them. Entries of another identifier are dropped.
 */
export function queueBuckets(flag: CompiledFlag, id: Uint8Array, rollout: boolean, variant: boolean): void {
  const o = flag.ordinal;
  if (ids[o] !== id) {
    ids[o] = id;
    values[o << 1] = NaN;
    values[(o << 1) + 1] = NaN;
  }
  if (rollout && values[o << 1] !== values[o << 1]) {
    values[o << 1] = PENDING;
    addBucket(flag.hashPrefix, flag.hashPrefixWords, id, SALT_NONE, o << 1);
  }
  if (variant && values[(o << 1) + 1] !== values[(o << 1) + 1]) {
    values[(o << 1) + 1] = PENDING;
    addBucket(flag.hashPrefix, flag.hashPrefixWords, id, SALT_VARIANT, (o << 1) + 1);
  }
}

/** Hashes everything queued (nothing is `PENDING` afterwards); more may be queued after. */
export function flushBuckets(): void {
  finishBuckets();
}

/**
 * Queues the buckets that selected flags' filterless first conditions will ask for (see
 * `prefetchPlan`). Full batches are hashed at once; the last, partly filled ones stay open for
 * the buckets evaluation turns out to need (flags that find theirs `PENDING` wait for them).
 * Flags whose identifier needs stored data or is empty are left to evaluation.
 */
export function prefetchBuckets(run: EvaluationRun, snapshot: FlagSnapshot, selected: Uint8Array): void {
  const simple = snapshot.prefetchByDistinctId;
  const distinctId = simple.length > 0 ? run.distinctIdBytes() : null;
  if (distinctId !== null && distinctId.length > 0) {
    for (let k = 0; k < simple.length; k++) {
      const o = simple[k]!;
      if (!selected[o]) continue;
      const flag = snapshot.flags[o]!;
      queueBuckets(flag, distinctId, (flag.prefetch & PREFETCH_ROLLOUT) !== 0, (flag.prefetch & PREFETCH_VARIANT) !== 0);
    }
  }
  const ordinals = snapshot.prefetchOrdinals;
  for (let k = 0; k < ordinals.length; k++) {
    const o = ordinals[k]!;
    if (!selected[o]) continue;
    const flag = snapshot.flags[o]!;
    const agg = flag.conditions[0]!.aggregation;
    if (agg < 0 && flag.deviceBucketing && !run.hasDeviceId()) continue;
    if (agg >= 0 && run.groupKey(agg) === null) continue;
    const id = run.identifier(flag, agg, false);
    if (id === UNKNOWN_IDENTIFIER || id.length === 0) continue;
    queueBuckets(flag, id, (flag.prefetch & PREFETCH_ROLLOUT) !== 0, (flag.prefetch & PREFETCH_VARIANT) !== 0);
  }
}
