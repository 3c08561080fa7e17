/**
 * @module admin/cohort-validation
 * Cohort request bodies and dynamic-cohort `filters` (spec §6.3, §8.2), checked the way PostHog's
 * `CohortSerializer.validate_filters` (pydantic `CohortFilters`, extra="forbid") and
 * `will_create_loops` do, with their wording (PostHog/posthog `posthog/api/cohort.py`).
 */
import { z } from 'zod';
import { VexilError, type ErrorCode } from '../errors.ts';
import type { CohortRow, FlagRow } from '../store/store.ts';
import { formatPath } from './body.ts';
import { cohortIdOf, createsCohortLoop, flagsUsingCohort, hasBehavioralFilter, nestedCohortIds, withNestedCohorts } from './cohort-graph.ts';
import { operatorSchema } from './flag-schema.ts';

/** Deepest AND/OR nesting accepted in a cohort definition. */
const MAX_GROUP_DEPTH = 16;

const readOnly = Object.fromEntries(
  ['id', 'created_by', 'created_at', 'is_calculating', 'last_calculation', 'errors_calculating', 'count', 'experiment_set',
    'version', 'pending_version', 'last_error_message', 'last_backfill_person_properties_at', '_create_in_folder', 'cohort_type']
    .map((f) => [f, z.unknown().optional()]),
);

/** PATCH body of a cohort; POST adds the create-only fields. Unknown top-level fields are ignored (DRF). */
export const cohortPatchSchema = z.object({
  ...readOnly,
  name: z.string().max(400).nullable().optional(),
  description: z.string().max(1000).optional(),
  is_static: z.boolean().optional(),
  filters: z.record(z.string(), z.unknown()).nullable().optional(),
  // Legacy cohort definitions: only the empty list the UI sends is accepted.
  groups: z.array(z.unknown()).max(0, { error: "Legacy 'groups' definitions are not supported; use filters.properties." }).optional(),
  deleted: z.boolean().optional(),
  query: z.null({ error: 'Query-based cohorts are not supported.' }).optional(),
});

export const cohortCreateSchema = cohortPatchSchema.extend({
  _create_static_person_ids: z.array(z.string()).max(1000).optional(),
});

const personFilterSchema = z.strictObject({
  type: z.literal('person'),
  key: z.string(),
  operator: operatorSchema.nullable().optional(),
  value: z.unknown().optional(),
  negation: z.boolean().optional(),
});
const cohortFilterSchema = z.strictObject({
  type: z.literal('cohort'),
  key: z.literal('id'),
  value: z.unknown().refine((v) => cohortIdOf(v) !== null, { error: 'value must be a cohort id' }),
  negation: z.boolean().optional(),
});
/** Behavioral filters are accepted (PostHog allows them) but such cohorts never match in Vexil (spec §6.3). */
const behavioralFilterSchema = z.looseObject({
  type: z.literal('behavioral'),
  key: z.union([z.string(), z.number().int()]),
  value: z.string(),
  event_type: z.string(),
  negation: z.boolean().optional(),
});
const LEAF_SCHEMAS: Record<string, z.ZodType> = { person: personFilterSchema, cohort: cohortFilterSchema, behavioral: behavioralFilterSchema };

const invalid = (message: string, code: ErrorCode = 'VXL_VALIDATION') => new VexilError(code, { message, attr: 'filters' });

function validateLeaf(node: Record<string, unknown>, path: Array<string | number>): void {
  const schema = LEAF_SCHEMAS[String(node.type)];
  if (schema === undefined) throw invalid(`${formatPath(path)}.type: unknown filter type '${String(node.type)}'`);
  if (node.type === 'person') {
    // PostHog's PersonFilter `_missing_keys_check`, same message.
    const missing: string[] = [];
    if (node.value == null && node.operator !== 'is_set' && node.operator !== 'is_not_set') missing.push('value');
    if (node.operator == null) missing.push('operator');
    if (missing.length > 0) throw invalid(`Missing required keys for person filter: ${missing.join(', ')}`);
  }
  const parsed = schema.safeParse(node);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'invalid_type' && issue.path.length === 1 && node[String(issue.path[0])] === undefined) {
      throw invalid(`Missing required keys for ${String(node.type)} filter: ${String(issue.path[0])}`);
    }
    const where = formatPath([...path, ...(issue.path as Array<string | number>)]);
    if (issue.code === 'unrecognized_keys') throw invalid(`${where}.${issue.keys[0]}: unknown field`);
    throw invalid(`${where}: ${issue.message}`);
  }
}

function validateGroup(node: unknown, path: Array<string | number>, depth: number): void {
  if (depth > MAX_GROUP_DEPTH) throw invalid(`${formatPath(path)}: groups nested deeper than ${MAX_GROUP_DEPTH} levels`);
  if (node === null || typeof node !== 'object' || Array.isArray(node)) throw invalid(`${formatPath(path)}: expected a group object`);
  const group = node as Record<string, unknown>;
  if (group.type !== 'AND' && group.type !== 'OR') throw invalid(`${formatPath(path)}.type: must be 'AND' or 'OR'`);
  if (!Array.isArray(group.values)) throw invalid(`${formatPath(path)}.values: expected a list`);
  const extra = Object.keys(group).find((k) => k !== 'type' && k !== 'values');
  if (extra !== undefined) throw invalid(`${formatPath(path)}.${extra}: unknown field`);
  group.values.forEach((value, i) => {
    const at = [...path, 'values', i];
    const v = value as Record<string, unknown> | null;
    if (v !== null && typeof v === 'object' && (v.type === 'AND' || v.type === 'OR')) validateGroup(v, at, depth + 1);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) validateLeaf(v, at);
    else throw invalid(`${formatPath(at)}: expected a filter or a group`);
  });
}

/** Shape of a dynamic cohort's filters: `{properties: {type: AND|OR, values: [...]}}` and nothing else. */
export function validateCohortFilterShape(filters: unknown): void {
  if (filters === null || typeof filters !== 'object' || !('properties' in filters)) {
    throw invalid("Must contain a 'properties' key with type and values");
  }
  const extra = Object.keys(filters).find((k) => k !== 'properties');
  if (extra !== undefined) throw invalid(`filters.${extra}: unknown field`);
  validateGroup((filters as { properties: unknown }).properties, ['filters', 'properties'], 1);
}

/** The project's stored rows the reference rules need. */
export interface CohortRules {
  cohorts: ReadonlyMap<number, CohortRow>;
  flags: readonly FlagRow[];
}

/**
 * Reference rules for new dynamic `filters` of cohort `selfId` (null on create): nested cohorts
 * exist in the project and are not deleted, no loop, and a cohort active flags use (directly or
 * nested) takes no behavioral filters, itself or through its nested cohorts.
 */
export function validateCohortReferences(filters: unknown, selfId: number | null, rules: CohortRules): void {
  for (const id of nestedCohortIds(filters)) {
    const ref = rules.cohorts.get(id);
    if (ref === undefined || ref.deleted) throw invalid('Invalid Cohort ID in filter');
  }
  if (selfId === null) return;
  if (createsCohortLoop(selfId, filters, rules.cohorts)) throw invalid('Cohorts cannot reference other cohorts in a loop.');
  if (flagsUsingCohort(selfId, rules.flags, rules.cohorts).length === 0) return;
  if (hasBehavioralFilter(filters)) {
    throw invalid('Behavioral filters cannot be added to cohorts used in feature flags.', 'VXL_COHORT_BEHAVIORAL');
  }
  for (const id of withNestedCohorts(nestedCohortIds(filters), rules.cohorts)) {
    const dep = rules.cohorts.get(id);
    if (dep !== undefined && id !== selfId && !dep.isStatic && hasBehavioralFilter(dep.filters)) {
      throw invalid(`A cohort dependency (${dep.name}) has filters based on events. These cohorts can't be used in feature flags.`, 'VXL_COHORT_BEHAVIORAL');
    }
  }
}

/** A UUID in its canonical textual form (any version), as person ids are. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
