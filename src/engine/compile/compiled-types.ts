/**
 * @module engine/compile/compiled-types
 * The compiled (evaluation-ready) form of a project's definitions. Everything that depends only
 * on the definitions is worked out here once: parsed operator values, regexes, resolved
 * aggregation, cohort trees, dependency order, the bytes of each flag's hash prefix.
 */
import type { CompiledOperator } from '../match/operators.ts';
import type { FlagErrorCode, FlagResult, PropertyFilterDef } from '../types.ts';

/** Three-valued logic: a condition can be decided, or need stored data. */
export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Tri = 0 | 1 | 2;

export const FILTER_PERSON = 0;
export const FILTER_GROUP = 1;
export const FILTER_COHORT = 2;
export const FILTER_FLAG = 3;
/** A filter PostHog can never match (unknown type, in/not_in outside cohorts, …). */
export const FILTER_NEVER = 4;
/** A reference that fails the whole flag when reached (missing cohort, cohort parse error). */
export const FILTER_ERROR = 5;

export interface CompiledFilter {
  kind: number;
  key: string;
  /** FILTER_GROUP: group type index whose properties are read (-1: none, always missing). */
  groupTypeIndex: number;
  /** FILTER_PERSON / FILTER_GROUP. */
  op: CompiledOperator | null;
  /** Inside cohort definitions: invert the result. */
  negation: boolean;
  /** FILTER_COHORT: slot of the cohort in the snapshot. */
  cohortSlot: number;
  /** FILTER_FLAG: ordinal of the dependency (-1 when it does not exist). */
  dependency: number;
  /** FILTER_FLAG: expected value (true, false, a variant string, or anything else ⇒ no match). */
  expected: unknown;
  /** FILTER_ERROR: the error the flag fails with. */
  error: FlagErrorCode | null;
  /**
   * FILTER_FLAG: the condition's filters on this same dependency can never all hold (e.g. `== true`
   * and `== false`), so a failed dependency does not pass it provisionally (see `dependencyTri`).
   */
  depConflict: boolean;
  /** The filter as stored, for `detailed_analysis` explanations (engine/explain); never read to evaluate. */
  def: PropertyFilterDef | null;
  /** FILTER_GROUP on `$group_key`: PostHog sets it from the request's `groups[type]` (spec newer §11). */
  groupKeyProperty: boolean;
}

export interface CompiledCondition {
  index: number;
  /** Non-cohort filters in order, then cohort filters (PostHog defers cohorts, spec §4.3). */
  filters: CompiledFilter[];
  /** rollout_percentage / 100; 1 ⇒ no hashing. */
  rollout: number;
  /** Variant override, only when it names an existing variant. */
  variant: string | null;
  /** Its index in the flag's variants, -1 for none. */
  variantIndex: number;
  /** Resolved aggregation: group type index, or -1 for persons. */
  aggregation: number;
  /**
   * PostHog's `condition_needs_bucketing_hash`: the bucketing identifier can change this
   * condition's outcome (rollout below 100, or an unpinned variant split that is not settled
   * without a hash). A device-bucketed person condition is withheld without a device id only then.
   */
  needsBucketingHash: boolean;
}

export interface CompiledVariant {
  key: string;
  /** Upper bound (exclusive), accumulated as PostHog does: += pct/100 in order. */
  upper: number;
  /** Its rollout_percentage as stored. */
  percentage: number;
}

export interface CompiledFlag {
  ordinal: number;
  id: number;
  key: string;
  version: number;
  active: boolean;
  continuity: boolean;
  deviceBucketing: boolean;
  /** UTF-8 of `key + "."`. */
  hashPrefix: Uint8Array;
  /** The same, laid out for the SIMD batch (`alignedPrefix`). */
  hashPrefixWords: Int32Array;
  /** Flag-level aggregation (-1 persons). */
  aggregation: number;
  conditions: CompiledCondition[];
  variants: CompiledVariant[];
  /** Stored payloads by "true" / variant key, raw and parsed. */
  payloads: Map<string, { raw: unknown; value: unknown }>;
  /**
   * Enrollment (`feature_enrollment: true`): the person property key. Legacy `super_groups` are
   * not evaluated: PostHog's `get_match` reads only `feature_enrollment` and keeps `super_groups`
   * as an opaque key (spec posthog-newer.md §12, correcting posthog-flags.md §4.2).
   */
  enrollmentKey: string | null;
  /**
   * `filters.early_exit`: stop at the first condition whose properties matched but whose rollout
   * excluded the user (PostHog's `get_match`, spec posthog-newer.md §1).
   */
  earlyExit: boolean;
  holdout: { variant: string; percentage: number } | null;
  runtime: 'client' | 'server' | 'all';
  tags: readonly string[];
  /** Ordinals this flag depends on directly. */
  dependencies: number[];
  /** Part of a cycle, or depends (transitively) on a missing flag or a cycle. */
  missingDependency: boolean;
  /** The definition could not be compiled; the flag always fails with this code. */
  error: FlagErrorCode | null;
  /**
   * Memo of decided results, filled during evaluation, one frozen result per slot
   * (reason × enabled × condition × variant; see `outcomeSlot`). null when the flag has too
   * many conditions × variants to be worth it. Allocated on the first evaluation, so flags
   * nobody asks for cost nothing. Dropped with the snapshot.
   */
  outcomes: (FlagResult | undefined)[] | null;
  /** Size of `outcomes`; 0 ⇒ results are not memoized for this flag. */
  outcomeSlots: number;
  /**
   * Buckets worth hashing in the request's batch before evaluation (`PREFETCH_*` bits): those
   * the first condition needs whenever it is reached, i.e. it has no filters. 0 for none.
   */
  prefetch: number;
  /** Some flag depends on this one: its value is needed in order, so it never waits for a batch. */
  hasDependents: boolean;
  /**
   * One filterless condition bucketed on the distinct id, and nothing else to decide (no
   * enrollment, super condition, holdout, device bucketing, continuity, error or missing
   * dependency): decided straight from its buckets (`decideSimple`).
   */
  simple: boolean;
}

/** `CompiledFlag.prefetch`: the rollout bucket (salt ""). */
export const PREFETCH_ROLLOUT = 1;
/** `CompiledFlag.prefetch`: the variant bucket (salt "variant"). */
export const PREFETCH_VARIANT = 2;

/** A node of a dynamic cohort's property tree. */
export type CohortNode =
  | { group: true; and: boolean; children: CohortNode[] }
  | { group: false; filter: CompiledFilter };

export interface CompiledCohort {
  id: number;
  isStatic: boolean;
  /** null: not parseable as a property tree ⇒ never a member (spec §6.3). */
  root: CohortNode | null;
}
