/**
 * @module engine/types
 * The engine's contract: PostHog-shaped definitions in (as stored and as served to SDKs),
 * one request context in, one result per flag out. Wire names (snake_case) are kept on the
 * definition types because they are PostHog's JSON; everything the engine produces is camelCase.
 */

/** A property bag: person or group properties. Read only through own keys (`Object.hasOwn`), never `in`. */
export type Properties = Readonly<Record<string, unknown>>;

/** One property filter as PostHog stores it (spec §2, §5). */
export interface PropertyFilterDef {
  key: string;
  value?: unknown;
  /** null/absent ⇒ "exact" (cohort filters: ⇒ "in"). */
  operator?: string | null;
  /** "person" | "group" | "cohort" | "flag" | "person_metadata"; absent ⇒ "person". */
  type?: string | null;
  group_type_index?: number | null;
  /** Used inside cohort definitions: inverts the result. */
  negation?: boolean | null;
  /** Only in local-evaluation payloads for type "flag". */
  dependency_chain?: string[];
}

export interface ConditionDef {
  properties?: PropertyFilterDef[] | null;
  /** null/absent ⇒ 100. */
  rollout_percentage?: number | null;
  variant?: string | null;
  /** Present (even null) overrides the flag-level aggregation; absent ⇒ flag-level. */
  aggregation_group_type_index?: number | null;
}

export interface VariantDef {
  key: string;
  name?: string | null;
  rollout_percentage: number;
}

export interface FlagFiltersDef {
  groups?: ConditionDef[] | null;
  multivariate?: { variants: VariantDef[] } | null;
  aggregation_group_type_index?: number | null;
  payloads?: Record<string, unknown> | null;
  /** Legacy early-access conditions: stored and served, never evaluated (spec posthog-newer.md §12). */
  super_groups?: ConditionDef[] | null;
  feature_enrollment?: boolean | null;
  /** Stop at the first condition that matched on properties but excluded the user by rollout. */
  early_exit?: boolean | null;
  holdout?: { id: number; exclusion_percentage: number } | null;
  holdout_groups?: ConditionDef[] | null;
}

/** A feature flag as stored (spec §2). */
export interface FlagDef {
  id: number;
  key: string;
  name?: string | null;
  filters: FlagFiltersDef;
  active: boolean;
  deleted?: boolean;
  ensure_experience_continuity?: boolean | null;
  version?: number | null;
  evaluation_runtime?: string | null;
  evaluation_tags?: string[] | null;
  bucketing_identifier?: string | null;
}

/** A cohort as stored (spec §6.3). `filters` is `{properties: {type, values}}` for dynamic cohorts. */
export interface CohortDef {
  id: number;
  name?: string | null;
  is_static: boolean;
  deleted?: boolean;
  filters: unknown;
}

/** Everything about one project that evaluation depends on. */
export interface ProjectDefs {
  flags: readonly FlagDef[];
  cohorts: readonly CohortDef[];
  /** group_type_index (0–4) → group type name. */
  groupTypeMapping: Readonly<Record<number, string>>;
  /** IANA zone for naive dates in date filters; default "UTC". */
  timezone?: string;
}

/** Which SDKs a request comes from, for `evaluation_runtime` filtering (spec §2). */
export type EvaluationRuntime = 'client' | 'server' | 'all' | 'unknown';

/** One request to evaluate flags for one distinct id. */
export interface EvaluationContext {
  distinctId: string;
  /**
   * Person properties. The caller builds them with `buildPersonProperties` (stored ∪ request
   * overrides, `distinct_id` injected, `$initial_*` back-filled).
   */
  personProperties: Properties;
  /** Group type name → group key, as sent in the request's `groups`. */
  groups: Readonly<Record<string, unknown>>;
  /** Group type name → properties (stored ∪ request overrides). */
  groupProperties: Readonly<Record<string, Properties>>;
  /**
   * false: only the request's own data is known. A property missing from it, a static cohort
   * or an experience-continuity override may exist in storage, so such a flag is reported
   * `inconclusive` and the caller loads stored data and evaluates again.
   * true: stored data has been merged in; missing means missing (server semantics, spec §5).
   */
  storedDataLoaded: boolean;
  /** Ids of static cohorts the person belongs to (meaningful when storedDataLoaded). */
  staticCohorts?: ReadonlySet<number>;
  /** Experience-continuity hash keys by flag key (meaningful when storedDataLoaded). */
  hashKeyOverrides?: ReadonlyMap<string, string>;
  /** Request `$anon_distinct_id`: continuity identifier when there is no stored override. */
  anonDistinctId?: string;
  /** Request `$device_id` (or person_properties.$device_id) for device_id bucketing. */
  deviceId?: string;
  /** `flag_keys_to_evaluate`: only these keys and their transitive dependencies. */
  flagKeys?: readonly string[] | null;
  /** `evaluation_runtime` of the request (explicit or inferred); default "all" (no filtering). */
  runtime?: EvaluationRuntime;
  /** `evaluation_contexts` tags; flags with tags need one in common. */
  evaluationContexts?: readonly string[] | null;
  /** Current time, ms since the epoch: the only clock the engine sees. */
  now: number;
  /**
   * With storedDataLoaded false: stop at the first inconclusive flag. The result then only says
   * that stored data is needed (`inconclusive` true, `flags` empty) — the answer a caller wants
   * when it will evaluate every flag again with stored data anyway.
   */
  stopAtInconclusive?: boolean;
  /**
   * Characters of property text the text operators may scan in this evaluation (regex searches
   * by re2js or the backtracker count 16 per character); a filter whose value does not fit fails
   * its flag with `match_budget_exceeded`, unscanned. Default `DEFAULT_MATCH_BUDGET` (1 Mi);
   * Infinity = unlimited. See engine/match/match-budget.ts.
   */
  matchBudget?: number;
}

/** PostHog's reason codes (spec §4.4). Errors use the error codes of spec §10 instead. */
export type ReasonCode =
  | 'condition_match'
  | 'no_condition_match'
  | 'out_of_rollout_bound'
  | 'no_group_type'
  | 'super_condition_value'
  | 'holdout_condition_value'
  | 'flag_disabled'
  | 'missing_dependency';

/** Error codes a flag can fail with (spec §10); the flag then reports `failed: true`. */
export type FlagErrorCode =
  | 'dependency_not_found_cohort'
  | 'dependency_cycle_cohort'
  | 'cohort_filters_parsing_error'
  | 'flag_data_parsing_error'
  /** A flag it depends on failed in the same request, and that flag's value could change its answer. */
  | 'dependency_failed'
  | 'hash_key_override_error'
  | 'database_error'
  | 'timeout'
  /** Vexil's own (issue 13): the request's property text exceeded the matching budget. */
  | 'match_budget_exceeded';

/**
 * The decision for one flag. Decided results are shared between evaluations and frozen (a flag
 * has few distinct outcomes); copy one to change it. Payload values are shared too.
 */
export interface FlagResult {
  key: string;
  flagId: number;
  version: number;
  enabled: boolean;
  variant: string | null;
  /** Payload exactly as stored for the returned value (v1 responses); undefined when none. */
  payload: unknown;
  /** Payload parsed when the stored value is JSON text (v2 responses); undefined when none. */
  payloadValue: unknown;
  reason: ReasonCode | FlagErrorCode;
  conditionIndex: number | null;
  description: string;
  /** The flag could not be evaluated (errorsWhileComputingFlags). */
  failed: boolean;
  /** Only with storedDataLoaded=false: the answer needs stored data. */
  inconclusive: boolean;
}

export interface EvaluationResult {
  /**
   * In snapshot order (dependencies before dependents); filtered-out flags are absent. Empty when
   * `stopAtInconclusive` stopped the evaluation (then `inconclusive` is true).
   */
  flags: FlagResult[];
  /** Some flag is inconclusive: load stored data and evaluate again. */
  inconclusive: boolean;
  /** Some flag failed. */
  errors: boolean;
}
