/**
 * @module admin/flag-schema
 * The shape of feature-flag request bodies and of `filters` (spec §2, §5, §8.1), as zod schemas.
 * Shape only: PostHog's semantic rules (variants, payloads, cohorts, dependencies) live in
 * flag-validation.ts and flag-dependencies.ts.
 */
import { z } from 'zod';

/** Every property operator the engine understands (spec §5 table, §5.8). */
export const OPERATORS = [
  'exact', 'is_not', 'is_set', 'is_not_set',
  'icontains', 'not_icontains', 'icontains_multi', 'not_icontains_multi',
  'starts_with', 'not_starts_with', 'ends_with', 'not_ends_with',
  'regex', 'not_regex', 'gt', 'gte', 'lt', 'lte', 'between', 'not_between',
  'semver_eq', 'semver_neq', 'semver_gt', 'semver_gte', 'semver_lt', 'semver_lte',
  'semver_tilde', 'semver_caret', 'semver_wildcard',
  'is_date_before', 'is_date_after', 'is_date_exact',
  'in', 'not_in', 'flag_evaluates_to',
] as const;

/** An operator from OPERATORS; anything else names itself in the error. */
export const operatorSchema = z.enum(OPERATORS, {
  error: (iss) => `unknown operator '${String(iss.input)}' (known operators: ${OPERATORS.join(', ')})`,
});

const groupTypeIndex = z.number().int().min(0).max(4);

/** One property filter. Unknown keys are kept (the UI stores e.g. `label`). */
export const propertyFilterSchema = z.looseObject({
  key: z.union([z.string(), z.number().int()], { error: 'key must be a string or an integer' }),
  value: z.unknown().optional(),
  operator: operatorSchema.nullable().optional(),
  type: z.string().nullable().optional(),
  group_type_index: groupTypeIndex.nullable().optional(),
  negation: z.boolean().nullable().optional(),
});

/** One release condition (a `groups` entry). */
export const conditionSchema = z.looseObject({
  properties: z.array(propertyFilterSchema).nullable().optional(),
  rollout_percentage: z.number().nullable().optional(),
  variant: z.string().nullable().optional(),
  aggregation_group_type_index: groupTypeIndex.nullable().optional(),
});

/** One multivariate variant. */
export const variantSchema = z.looseObject({
  key: z.string().min(1),
  name: z.string().nullable().optional(),
  rollout_percentage: z.number(),
});

/** `filters` when it is validated (POST, PUT, or PATCH carrying `groups`): `groups` is required. */
export const filtersSchema = z.looseObject({
  groups: z.array(conditionSchema),
  multivariate: z.looseObject({ variants: z.array(variantSchema) }).nullable().optional(),
  aggregation_group_type_index: groupTypeIndex.nullable().optional(),
  // Checked by validatePayloads, in PostHog's words ("Payloads must be passed as a dictionary").
  payloads: z.unknown().optional(),
  super_groups: z.array(conditionSchema).nullable().optional(),
  feature_enrollment: z.boolean().nullable().optional(),
  /** "Stop evaluation if excluded by rollout" (PostHog#57321); the engine honours it. */
  early_exit: z.boolean().nullable().optional(),
  holdout: z.looseObject({ id: z.number().int(), exclusion_percentage: z.number() }).nullable().optional(),
  holdout_groups: z.array(conditionSchema).nullable().optional(),
});

/** Parsed `filters`. */
export type FiltersInput = z.output<typeof filtersSchema>;
/** Parsed property filter. */
export type PropertyFilterInput = z.output<typeof propertyFilterSchema>;

/** Response fields a client may echo back on PUT/PATCH; accepted and ignored, like DRF's read-only fields. */
const readOnly = {
  id: z.unknown().optional(),
  created_by: z.unknown().optional(),
  created_at: z.unknown().optional(),
  updated_at: z.unknown().optional(),
  last_modified_by: z.unknown().optional(),
  experiment_set: z.unknown().optional(),
  surveys: z.unknown().optional(),
  features: z.unknown().optional(),
  rollback_conditions: z.unknown().optional(),
  performed_rollback: z.unknown().optional(),
  can_edit: z.unknown().optional(),
  usage_dashboard: z.unknown().optional(),
  analytics_dashboards: z.unknown().optional(),
  has_enriched_analytics: z.unknown().optional(),
  user_access_level: z.unknown().optional(),
  status: z.unknown().optional(),
  last_called_at: z.unknown().optional(),
  team_id: z.unknown().optional(),
  // Not serializer fields any more in PostHog; sent by older clients and ignored there too.
  rollout_percentage: z.unknown().optional(),
  is_simple_flag: z.unknown().optional(),
  // Write-only UI hints and the concurrency helper PostHog reads from request.data.
  creation_context: z.unknown().optional(),
  original_flag: z.unknown().optional(),
  _create_in_folder: z.unknown().optional(),
  _should_create_usage_dashboard: z.unknown().optional(),
};

const flagFields = {
  key: z.string().max(400),
  name: z.string(),
  filters: z.record(z.string(), z.unknown()),
  active: z.boolean(),
  deleted: z.boolean(),
  ensure_experience_continuity: z.boolean().nullable(),
  tags: z.array(z.string().max(255)),
  evaluation_tags: z.array(z.string().max(255)),
  evaluation_runtime: z.enum(['server', 'client', 'all']).nullable(),
  bucketing_identifier: z.enum(['distinct_id', 'device_id']).nullable(),
  // Vexil has neither remote-configuration nor encrypted-payload flags: `true` is refused by the route.
  is_remote_configuration: z.boolean(),
  has_encrypted_payloads: z.boolean(),
  version: z.number().int(),
};

/**
 * POST and PUT bodies: `key` is required, everything else optional. Unknown top-level fields are
 * ignored, as DRF serializers ignore them (PostHog's UI and tools send fields Vexil has no use for).
 */
export const flagCreateSchema = z.object({
  ...readOnly,
  ...flagFields,
  name: flagFields.name.optional(),
  filters: flagFields.filters.optional(),
  active: flagFields.active.optional(),
  deleted: flagFields.deleted.optional(),
  ensure_experience_continuity: flagFields.ensure_experience_continuity.optional(),
  tags: flagFields.tags.optional(),
  evaluation_tags: flagFields.evaluation_tags.optional(),
  evaluation_runtime: flagFields.evaluation_runtime.optional(),
  bucketing_identifier: flagFields.bucketing_identifier.optional(),
  is_remote_configuration: flagFields.is_remote_configuration.optional(),
  has_encrypted_payloads: flagFields.has_encrypted_payloads.optional(),
  version: flagFields.version.optional(),
});

/** PATCH bodies: every field optional. */
export const flagPatchSchema = flagCreateSchema.partial();

/** A parsed flag body (every field optional). */
export type FlagBody = z.output<typeof flagPatchSchema>;
