/**
 * @module engine/reasons
 * PostHog's reason codes: their priority when no condition matches, and their wire
 * descriptions (spec §4.2 step 4, §4.4, §10).
 */
import type { FlagErrorCode, ReasonCode } from './types.ts';

/** Higher wins; among equals the later condition wins (spec §4.2). */
export const PRIORITY: Readonly<Record<ReasonCode, number>> = {
  super_condition_value: 6,
  holdout_condition_value: 5,
  condition_match: 4,
  out_of_rollout_bound: 3,
  no_condition_match: 2,
  no_group_type: 1,
  flag_disabled: 0,
  missing_dependency: -1,
};

export const DESCRIPTIONS: Readonly<Record<ReasonCode | FlagErrorCode, string>> = {
  condition_match: 'Matched condition set',
  no_condition_match: 'No matching condition set',
  out_of_rollout_bound: 'Out of rollout bound',
  no_group_type: 'No group type',
  super_condition_value: 'Super condition value',
  holdout_condition_value: 'Holdout condition value',
  flag_disabled: 'Feature flag is disabled',
  missing_dependency: 'Flag cannot be evaluated due to missing dependency',
  dependency_not_found_cohort: 'Cohort dependency not found',
  dependency_cycle_cohort: 'Cohort dependency cycle detected',
  cohort_filters_parsing_error: 'Failed to parse cohort filters',
  flag_data_parsing_error: 'Failed to parse flag data',
  dependency_failed: 'A flag this flag depends on failed to evaluate',
  hash_key_override_error: 'Failed to load experience continuity overrides',
  database_error: 'Database error',
  timeout: 'Database statement timed out',
  match_budget_exceeded: 'Property values too long to match within the per-request budget',
};

export const NO_MATCH_GROUPS_SKIPPED =
  'No matching condition set (group conditions were not evaluated because no group type was provided)';

/** `Matched condition set N` for 0-based index N-1; cached to avoid building strings per request. */
const matched: string[] = [];
export function matchedDescription(index: number): string {
  return (matched[index] ??= `Matched condition set ${index + 1}`);
}
