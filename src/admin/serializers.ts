/**
 * @module admin/serializers
 * Store rows → PostHog-shaped JSON for the admin API (spec §8.1 flag fields, §8.2 cohort fields,
 * §8.3 projects). Fields PostHog has but Vexil does not model get their neutral value
 * (`experiment_set: []`, `usage_dashboard: null`, …) so clients written for PostHog keep working.
 */
import type { FlagFiltersDef } from '../engine/types.ts';
import type { ActivityRow, CohortRow, FlagRow, PersonalApiKeyRow, ProjectRow } from '../store/store.ts';
import { hasBehavioralFilter } from './cohort-graph.ts';
import { maskKey } from '../auth/keys.ts';
import { flagStatus } from './flag-status.ts';

/** PostHog's UserBasicSerializer, filled from the actor label Vexil records. */
function userBasic(actor: string | null): Record<string, unknown> | null {
  if (actor === null) return null;
  return { id: null, uuid: null, distinct_id: null, first_name: actor, last_name: '', email: null, is_email_verified: null };
}

/** A flag's filters as served: the legacy default when `groups` is missing (PostHog `get_filters`), cohort names added. */
function servedFilters(filters: FlagFiltersDef, cohortNames: ReadonlyMap<number, string>): FlagFiltersDef {
  if (!Array.isArray(filters?.groups)) {
    return { ...filters, groups: [{ properties: [], rollout_percentage: null }] };
  }
  return {
    ...filters,
    groups: filters.groups.map((group) => ({
      ...group,
      properties: group.properties?.map((p) => (p.type === 'cohort' ? { ...p, cohort_name: cohortNames.get(Number(p.value)) ?? null } : p)),
    })),
  };
}

/**
 * One flag in PostHog's FeatureFlagSerializer shape. `cohortNames` maps the ids of cohorts the
 * filters reference to their names (PostHog adds `cohort_name` to cohort filters on output).
 */
/** What a flag's `status` and `last_called_at` are computed from (absent: no usage read). */
export interface FlagUsageInfo {
  lastCalledAt: Date | null;
  now: number;
}

export function serializeFlag(flag: FlagRow, cohortNames: ReadonlyMap<number, string> = new Map(), usage?: FlagUsageInfo): Record<string, unknown> {
  return {
    id: flag.id,
    name: flag.name,
    key: flag.key,
    filters: servedFilters(flag.filters, cohortNames),
    deleted: flag.deleted,
    active: flag.active,
    created_by: userBasic(flag.createdBy),
    created_at: flag.createdAt.toISOString(),
    updated_at: flag.updatedAt.toISOString(),
    version: flag.version,
    last_modified_by: null,
    ensure_experience_continuity: flag.ensureExperienceContinuity,
    experiment_set: [],
    surveys: [],
    features: [],
    rollback_conditions: null,
    performed_rollback: false,
    can_edit: true,
    tags: flag.tags,
    evaluation_tags: flag.evaluationTags,
    usage_dashboard: null,
    analytics_dashboards: [],
    has_enriched_analytics: false,
    user_access_level: 'editor',
    is_remote_configuration: flag.isRemoteConfiguration,
    has_encrypted_payloads: flag.hasEncryptedPayloads,
    // PostHog's serializer gives the status checker's enum name (upper case).
    status: usage ? flagStatus(flag, usage.lastCalledAt, usage.now).status.toUpperCase() : flag.deleted ? 'DELETED' : 'ACTIVE',
    evaluation_runtime: flag.evaluationRuntime,
    bucketing_identifier: flag.bucketingIdentifier,
    last_called_at: usage?.lastCalledAt?.toISOString() ?? null,
  };
}

/** `cohort_type` as PostHog derives it: static, behavioral, or person_property. */
function cohortType(cohort: CohortRow): string {
  if (cohort.isStatic) return 'static';
  return hasBehavioralFilter(cohort.filters) ? 'behavioral' : 'person_property';
}

/** One cohort in PostHog's CohortSerializer shape. */
export function serializeCohort(cohort: CohortRow): Record<string, unknown> {
  return {
    id: cohort.id,
    name: cohort.name,
    description: cohort.description,
    groups: [],
    deleted: cohort.deleted,
    filters: cohort.filters ?? { properties: {} },
    query: null,
    version: cohort.version,
    pending_version: null,
    is_calculating: false,
    created_by: null,
    created_at: cohort.createdAt.toISOString(),
    last_calculation: cohort.updatedAt.toISOString(),
    last_backfill_person_properties_at: null,
    errors_calculating: 0,
    last_error_message: null,
    count: null,
    is_static: cohort.isStatic,
    cohort_type: cohortType(cohort),
    experiment_set: [],
  };
}

/**
 * One project in PostHog's ProjectBackwardCompatSerializer shape. The secret token is stored
 * hashed, so it appears only in the response that minted it (`secretToken`), null otherwise.
 */
export function serializeProject(
  project: ProjectRow,
  groupTypes: Record<number, string>,
  secretToken: string | null = null,
): Record<string, unknown> {
  return {
    id: project.id,
    uuid: project.uuid,
    organization: null,
    api_token: project.apiToken,
    name: project.name,
    timezone: project.timezone,
    created_at: project.createdAt.toISOString(),
    secret_api_token: secretToken,
    secret_api_token_backup: null,
    person_on_events_querying_enabled: true,
    group_types: Object.entries(groupTypes)
      .map(([index, name]) => ({ group_type: name, group_type_index: Number(index), name_singular: null, name_plural: null }))
      .sort((a, b) => a.group_type_index - b.group_type_index),
  };
}

/** A personal API key; `value` only in the response that created it. */
export function serializePersonalApiKey(key: PersonalApiKeyRow, value: string | null): Record<string, unknown> {
  return {
    id: key.id,
    label: key.label,
    value,
    mask_value: value === null ? key.maskValue : maskKey(value),
    scopes: key.scopes,
    scoped_teams: key.scopedProjects,
    scoped_organizations: [],
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A stored row snapshot with PostHog's snake_case field names (`ensureExperienceContinuity` → `ensure_experience_continuity`). */
function snakeKeys(value: unknown): unknown {
  if (!isRecord(value)) return value ?? null;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

/** Field-level changes between two snapshots, PostHog's `detail.changes` entries. */
function changesBetween(scope: string, activity: string, rawBefore: unknown, rawAfter: unknown): Array<Record<string, unknown>> {
  const before = snakeKeys(rawBefore);
  const after = snakeKeys(rawAfter);
  if (activity !== 'updated' || !isRecord(before) || !isRecord(after)) {
    return [{ type: scope, action: activity === 'updated' ? 'changed' : activity, field: null, before, after }];
  }
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes: Array<Record<string, unknown>> = [];
  for (const field of fields) {
    if (field === 'version' || field === 'updated_at') continue;
    if (JSON.stringify(before[field]) === JSON.stringify(after[field])) continue;
    const action = !(field in before) ? 'created' : !(field in after) ? 'deleted' : 'changed';
    changes.push({ type: scope, action, field, before: before[field] ?? null, after: after[field] ?? null });
  }
  return changes;
}

/** One activity-log entry in PostHog's ActivityLogSerializer shape (who, when, what changed). */
export function serializeActivity(row: ActivityRow, name: string | null): Record<string, unknown> {
  return {
    id: row.id,
    user: { first_name: row.actor, last_name: '', email: null },
    unread: false,
    is_system: row.actor === 'system',
    activity: row.activity,
    scope: row.scope,
    item_id: String(row.itemId),
    detail: {
      id: String(row.itemId),
      changes: changesBetween(row.scope, row.activity, row.before, row.after),
      merge: null,
      trigger: null,
      name,
      short_id: null,
      type: null,
    },
    created_at: row.createdAt.toISOString(),
  };
}
