/**
 * @module engine/evaluation-run
 * Per-request state of one evaluation: the request, the values of flags evaluated so far (for
 * dependencies), memoised cohort results, and the UTF-8 bytes of identifiers, each encoded once.
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import type { CompiledFlag } from './compile/compiled-types.ts';
import { utf8Bytes } from './hash.ts';
import type { EvaluationContext } from './types.ts';

/** Flag value slot: not evaluated (failed or not yet). */
export const NOT_EVALUATED: unique symbol = Symbol('not evaluated');
/** Flag value slot: needs stored data. */
export const INCONCLUSIVE: unique symbol = Symbol('inconclusive');
export type FlagValue = boolean | string | typeof NOT_EVALUATED | typeof INCONCLUSIVE;

/** The identifier cannot be known without stored data (experience-continuity override). */
export const UNKNOWN_IDENTIFIER: unique symbol = Symbol('unknown identifier');

const EMPTY = new Uint8Array(0);

// Per-run arrays are module scratch, reset by each run: only `evaluateFlags` creates runs, one
// at a time and synchronously, and nothing reads a run after it returns. (Allocating them was
// a third of the bytes an evaluation allocated.)
let valueScratch: FlagValue[] = [];
let cohortScratch = new Int8Array(16);

export class EvaluationRun {
  readonly snapshot: FlagSnapshot;
  readonly ctx: EvaluationContext;
  readonly loaded: boolean;
  readonly values: FlagValue[];
  /** Cohort slot → tri-state result, -1 when not computed yet. */
  readonly cohortMemo: Int8Array;
  private distinctBytes: Uint8Array | null = null;
  private anonBytes: Uint8Array | null = null;
  private deviceBytes: Uint8Array | null = null;
  private readonly groupBytes: (Uint8Array | null)[] = [];
  private overrides: Map<string, Uint8Array> | null = null;
  /** Whether flags may wait for buckets queued into the request's batch (see engine/buckets). */
  batchingBuckets = false;
  /** Filters on a failed dependency pass provisionally (see engine/failed-dependency). */
  provisionalDependencies = false;

  constructor(snapshot: FlagSnapshot, ctx: EvaluationContext) {
    this.snapshot = snapshot;
    this.ctx = ctx;
    this.loaded = ctx.storedDataLoaded;
    const flags = snapshot.flags.length;
    if (valueScratch.length < flags) valueScratch = new Array<FlagValue>(flags);
    // Loops, not fill(): for a few dozen entries the builtins' call costs more than the stores.
    const values = valueScratch;
    for (let i = 0; i < flags; i++) values[i] = NOT_EVALUATED;
    this.values = values;
    const cohorts = snapshot.cohorts.length;
    if (cohortScratch.length < cohorts) cohortScratch = new Int8Array(cohorts);
    const memo = cohortScratch;
    for (let i = 0; i < cohorts; i++) memo[i] = -1;
    this.cohortMemo = memo;
  }

  /**
   * The group key sent for a group type index as PostHog hashes it: strings as they are,
   * numbers in their JSON form; null when absent, empty or of another type (spec §4.2).
   */
  groupKey(groupTypeIndex: number): string | null {
    const name = this.snapshot.groupTypeNames[groupTypeIndex];
    if (name === undefined || !Object.hasOwn(this.ctx.groups, name)) return null;
    const key = this.ctx.groups[name];
    if (typeof key === 'string') return key === '' ? null : key;
    if (typeof key === 'number' && Number.isFinite(key)) return JSON.stringify(key);
    return null;
  }

  /** Bytes of the group key for an index (caller checked it exists). */
  groupKeyBytes(groupTypeIndex: number): Uint8Array {
    return (this.groupBytes[groupTypeIndex] ??= utf8Bytes(this.groupKey(groupTypeIndex) ?? ''));
  }

  hasDeviceId(): boolean {
    return typeof this.ctx.deviceId === 'string' && this.ctx.deviceId !== '';
  }

  /**
   * Bytes hashed for a person- or group-aggregated bucket (PostHog's `hashed_identifier`):
   * group key; else device id for device bucketing; else, for continuity flags, the stored
   * override, then `$anon_distinct_id`, then the distinct id. `forHoldout` skips stored
   * overrides, as PostHog's holdout hash does.
   */
  identifier(flag: CompiledFlag, aggregation: number, forHoldout: boolean): Uint8Array | typeof UNKNOWN_IDENTIFIER {
    if (aggregation >= 0) return this.groupKey(aggregation) === null ? EMPTY : this.groupKeyBytes(aggregation);
    if (flag.deviceBucketing && this.hasDeviceId()) return (this.deviceBytes ??= utf8Bytes(this.ctx.deviceId!));
    if (flag.continuity) {
      if (!forHoldout) {
        if (!this.loaded) return UNKNOWN_IDENTIFIER;
        const override = this.ctx.hashKeyOverrides?.get(flag.key);
        // One byte array per override value: flags sharing a hash key (the usual case) share it,
        // and the bucket table recognises it again when a waiting flag resumes.
        if (override !== undefined) return this.overrideBytes(override);
      }
      if (typeof this.ctx.anonDistinctId === 'string') return (this.anonBytes ??= utf8Bytes(this.ctx.anonDistinctId));
    }
    return this.distinctIdBytes();
  }

  private overrideBytes(hashKey: string): Uint8Array {
    this.overrides ??= new Map();
    let bytes = this.overrides.get(hashKey);
    if (bytes === undefined) {
      bytes = utf8Bytes(hashKey);
      this.overrides.set(hashKey, bytes);
    }
    return bytes;
  }

  distinctIdBytes(): Uint8Array {
    return (this.distinctBytes ??= utf8Bytes(this.ctx.distinctId));
  }
}
