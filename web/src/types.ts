/**
 * @module types
 * The admin API's JSON shapes as the UI uses them (PostHog's serializers; only the fields read here).
 */

export interface Project {
  id: number;
  name: string;
  api_token: string;
  timezone: string;
  secret_api_token: string | null;
  group_types: Array<{ group_type: string; group_type_index: number }>;
}

export interface PropertyFilter {
  key: string | number;
  value?: unknown;
  operator?: string | null;
  type?: string | null;
  group_type_index?: number | null;
  negation?: boolean | null;
  cohort_name?: string | null;
  [extra: string]: unknown;
}

export interface Condition {
  properties?: PropertyFilter[] | null;
  rollout_percentage?: number | null;
  variant?: string | null;
  [extra: string]: unknown;
}

export interface Variant {
  key: string;
  name?: string | null;
  rollout_percentage: number;
}

export interface FlagFilters {
  groups: Condition[];
  multivariate?: { variants: Variant[] } | null;
  aggregation_group_type_index?: number | null;
  payloads?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Flag {
  id: number;
  key: string;
  name: string;
  filters: FlagFilters;
  active: boolean;
  deleted: boolean;
  ensure_experience_continuity: boolean;
  tags: string[];
  created_at: string;
  updated_at: string;
  version: number;
  created_by: { first_name: string } | null;
}

export interface Cohort {
  id: number;
  name: string;
  description: string;
  is_static: boolean;
  deleted: boolean;
  filters: { properties: CohortGroup | Record<string, never> };
  cohort_type: string;
  created_at: string;
  last_calculation: string;
  version: number | null;
}

/** A dynamic cohort's tree: AND/OR groups of property filters (PostHog `filters.properties`). */
export interface CohortGroup {
  type: 'AND' | 'OR';
  values: Array<CohortGroup | PropertyFilter>;
}

export interface PersonalKey {
  id: string;
  label: string;
  value: string | null;
  mask_value: string;
  scopes: string[];
  scoped_teams: number[] | null;
  created_at: string;
  last_used_at: string | null;
}

export interface Activity {
  id: string | number;
  user: { first_name: string };
  activity: string;
  scope: string;
  item_id: string;
  detail: { name: string | null; changes: Array<{ action: string; field: string | null; before: unknown; after: unknown }> };
  created_at: string;
}
