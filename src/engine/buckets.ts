/**
 * @module engine/buckets
 * A request's table of flag buckets (spec §3), filled in SIMD batches rather than one hash at a
 * time: before evaluation for the buckets flags are sure to need (`prefetchBuckets`), and during
 * it for the buckets a flag turns out to need (`queueBuckets`, while that flag waits).
 *
 * Entries are per flag ordinal — [2·o] the rollout bucket (salt ""), [2·o + 1] the variant
 * bucket — and tagged with the evaluation and the identifier they were hashed for: an
 * evaluation numbers the identifier byte arrays it hashes (usually just the distinct id's), and
 * an entry matches only that evaluation's same array. Tags are integers, so filling the table
 * stores no object references (each would cost a write barrier).
 * The table is module scratch, shared by every evaluation: evaluation is synchronous, and a
 * typed array of this size would be allocated off-heap, which costs more than the hashing.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import { type CompiledFlag, PREFETCH_ROLLOUT, PREFETCH_VARIANT } from './compile/compiled-types.ts';
import { addBucket, beginBuckets, finishBuckets } from './bucket-batch.ts';
import { type EvaluationRun, UNKNOWN_IDENTIFIER } from './evaluation-run.ts';
import { hashBytes, SALT_NONE, SALT_VARIANT } from './hash.ts';

let values = new Float64Array(128);
/** Per ordinal: evaluation × MAX_IDS + identifier slot, or -1. */
let tags = new Int32Array(64).fill(-1);
/** The current evaluation's identifiers, by slot. */
const MAX_IDS = 8;
const runIds: (Uint8Array | null)[] = new Array<Uint8Array | null>(MAX_IDS).fill(null);
let runIdCount = 0;
let evaluation = 0;
// Tags stay below 2^31: the counter restarts (and old tags are cleared) before that.
const MAX_EVALUATION = (2 ** 31 - 1) / MAX_IDS - 1;

/** The tag of `id` in this evaluation, giving it a slot if it has none; -1 when slots ran out. */
function tagOf(id: Uint8Array): number {
  for (let i = 0; i < runIdCount; i++) if (runIds[i] === id) return evaluation * MAX_IDS + i;
  if (runIdCount === MAX_IDS) return -1;
  runIds[runIdCount] = id;
  return evaluation * MAX_IDS + runIdCount++;
}

/** Bucket in [0,1]; an empty identifier is 0 without hashing, as in PostHog's `get_hash`. */
export function bucket(prefix: Uint8Array, id: Uint8Array, salt: Uint8Array): number {
  return id.length === 0 ? 0 : hashBytes(prefix, id, salt);
}

/** Makes the table ready for a snapshot of `flags` flags and opens its batch. */
export function beginBucketTable(flags: number): void {
  if (values.length < flags << 1) values = new Float64Array(flags << 1);
  if (tags.length < flags) tags = new Int32Array(flags).fill(-1);
  if (++evaluation > MAX_EVALUATION) {
    evaluation = 1;
    tags.fill(-1);
  }
  for (let i = 0; i < runIdCount; i++) runIds[i] = null;
  runIdCount = 0;
  beginBuckets(values);
}

/** `tableBucket`'s answer for a bucket queued and not hashed yet. */
export const PENDING = -1;

/**
 * The flag's rollout (0) or variant (1) bucket for `id` from the table: the bucket, `PENDING`,
 * or NaN when it is not in the table.
 */
export function tableBucket(flag: CompiledFlag, id: Uint8Array, variant: 0 | 1): number {
  const slot = tags[flag.ordinal]! - evaluation * MAX_IDS;
  return slot >= 0 && slot < runIdCount && runIds[slot] === id ? values[(flag.ordinal << 1) + variant]! : NaN;
}

/**
 * Queues the flag's rollout and/or variant bucket for `id` (non-empty) into the open batch,
 * unless already there; `flushBuckets` hashes them. Entries of another identifier are dropped.
 * false when the table cannot take another identifier in this evaluation: hash it yourself.
 */
export function queueBuckets(flag: CompiledFlag, id: Uint8Array, rollout: boolean, variant: boolean): boolean {
  const o = flag.ordinal;
  const tag = tagOf(id);
  if (tag < 0) return false;
  if (tags[o] !== tag) {
    // A bucket of another identifier still queued in this evaluation's batch (a flag whose
    // conditions hash different identifiers) would land in this entry after the switch, possibly
    // during the `addBucket` below: hash this one directly instead.
    const current = tags[o]! >= evaluation * MAX_IDS;
    if (current && (values[o << 1] === PENDING || values[(o << 1) + 1] === PENDING)) return false;
    tags[o] = tag;
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
  return true;
}

/** Hashes everything queued (nothing is `PENDING` afterwards); more may be queued after. */
export { finishBuckets as flushBuckets };

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
