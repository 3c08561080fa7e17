/**
 * @module store/sql-rows
 * Database rows (snake_case, driver-typed) → the Store's row types. int8 arrives as a string from
 * `postgres` and as a number from PGlite, hence Number() on every bigint column.
 */
import type { FlagFiltersDef } from '../engine/types.ts';
import type { ActivityRow, CohortRow, FlagRow, GroupRow, PersonalApiKeyRow, PersonRow, ProjectRow } from './store.ts';
import type { SqlRow } from './sql-client.ts';

const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Columns selected for a project (secret hashes stay out of ProjectRow). */
export const PROJECT_COLUMNS = 'id, uuid, name, api_token, timezone, revision, created_at';

export function toProject(r: SqlRow): ProjectRow {
  return {
    id: num(r.id),
    uuid: str(r.uuid),
    name: str(r.name),
    apiToken: str(r.api_token),
    timezone: str(r.timezone),
    revision: num(r.revision),
    createdAt: date(r.created_at),
  };
}

export const KEY_COLUMNS = 'id, label, scopes, scoped_projects, mask_value, created_at, last_used_at';

export function toPersonalApiKey(r: SqlRow): PersonalApiKeyRow {
  return {
    id: str(r.id),
    label: str(r.label),
    scopes: strs(r.scopes),
    scopedProjects: Array.isArray(r.scoped_projects) ? r.scoped_projects.map(Number) : null,
    maskValue: r.mask_value == null ? null : str(r.mask_value),
    createdAt: date(r.created_at),
    lastUsedAt: r.last_used_at == null ? null : date(r.last_used_at),
  };
}

export function toFlag(r: SqlRow): FlagRow {
  return {
    id: num(r.id),
    projectId: num(r.project_id),
    key: str(r.key),
    name: str(r.name),
    filters: obj(r.filters) as FlagFiltersDef,
    active: r.active === true,
    deleted: r.deleted === true,
    ensureExperienceContinuity: r.ensure_experience_continuity === true,
    version: num(r.version),
    tags: strs(r.tags),
    evaluationRuntime: str(r.evaluation_runtime),
    evaluationTags: strs(r.evaluation_tags),
    bucketingIdentifier: r.bucketing_identifier == null ? null : str(r.bucketing_identifier),
    isRemoteConfiguration: r.is_remote_configuration === true,
    hasEncryptedPayloads: r.has_encrypted_payloads === true,
    createdBy: r.created_by == null ? null : str(r.created_by),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

export function toCohort(r: SqlRow): CohortRow {
  return {
    id: num(r.id),
    projectId: num(r.project_id),
    name: str(r.name),
    description: str(r.description),
    isStatic: r.is_static === true,
    filters: r.filters ?? null,
    deleted: r.deleted === true,
    version: num(r.version),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

export function toActivity(r: SqlRow): ActivityRow {
  return {
    id: num(r.id),
    projectId: num(r.project_id),
    scope: str(r.scope) as ActivityRow['scope'],
    itemId: num(r.item_id),
    activity: str(r.activity) as ActivityRow['activity'],
    actor: str(r.actor),
    before: r.before ?? null,
    after: r.after ?? null,
    createdAt: date(r.created_at),
  };
}

/** Expects the person columns plus `distinct_ids` (text[]). */
export function toPerson(r: SqlRow): PersonRow {
  return {
    id: str(r.id),
    projectId: num(r.project_id),
    properties: obj(r.properties),
    isIdentified: r.is_identified === true,
    distinctIds: strs(r.distinct_ids),
    createdAt: date(r.created_at),
  };
}

export function toGroup(r: SqlRow): GroupRow {
  return {
    projectId: num(r.project_id),
    groupTypeIndex: num(r.group_type_index),
    groupKey: str(r.group_key),
    properties: obj(r.properties),
    createdAt: date(r.created_at),
  };
}

/** A plain object for jsonb columns: anything else is treated as empty. */
export const asObject = obj;
