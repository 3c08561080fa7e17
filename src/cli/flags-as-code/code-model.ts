/**
 * @module cli/flags-as-code/code-model
 * The flags-as-code file: its schema (zod, validating the parsed YAML), and the conversion of a
 * server's flags and cohorts into it. In the file, cohorts are named by name and flags by key
 * (never by id), keys come in a fixed order, and flags and cohorts are sorted, so the file moves
 * between projects and servers and diffs cleanly.
 */
import { z } from 'zod';

/** The file format's version; a file with another one is refused. */
export const CODE_VERSION = 1;

const FLAG_KEY = /^[a-zA-Z0-9_-]+$/;

const percentage = z.number().min(0).max(100);

/** One property filter; unknown keys pass through (PostHog adds operators and fields over time). */
const propertySchema = z.looseObject({
  key: z.union([z.string(), z.number()]),
  type: z.string().optional(),
});

const conditionSchema = z.looseObject({
  properties: z.array(propertySchema).nullable().optional(),
  rollout_percentage: percentage.nullable().optional(),
  variant: z.string().nullable().optional(),
});

const filtersSchema = z.looseObject({
  groups: z.array(conditionSchema),
  multivariate: z
    .looseObject({ variants: z.array(z.looseObject({ key: z.string().min(1), name: z.string().nullable().optional(), rollout_percentage: percentage })).min(1) })
    .nullable()
    .optional(),
  payloads: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** A flag in the file. Absent optional fields take the values a new flag gets. */
export const codeFlagSchema = z.strictObject({
  key: z.string().regex(FLAG_KEY, 'only letters, numbers, hyphens (-) and underscores (_)'),
  name: z.string().default(''),
  active: z.boolean().default(true),
  ensure_experience_continuity: z.boolean().default(false),
  evaluation_runtime: z.enum(['server', 'client', 'all']).default('all'),
  bucketing_identifier: z.enum(['distinct_id', 'device_id']).nullable().default(null),
  tags: z.array(z.string()).default([]),
  evaluation_tags: z.array(z.string()).default([]),
  filters: filtersSchema,
});

/** A cohort in the file; static cohorts carry no filters (their members are data, not code). */
export const codeCohortSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  static: z.boolean().default(false),
  filters: z.record(z.string(), z.unknown()).nullable().default(null),
});

/** The whole file. */
export const codeFileSchema = z.strictObject({
  version: z.literal(CODE_VERSION),
  cohorts: z.array(codeCohortSchema).default([]),
  flags: z.array(codeFlagSchema).default([]),
});

export type CodeFlag = z.output<typeof codeFlagSchema>;
export type CodeCohort = z.output<typeof codeCohortSchema>;
export type CodeFile = z.output<typeof codeFileSchema>;

/** A flag or cohort as the admin API returns it (the fields used here). */
export type ApiObject = Record<string, any>;

/** Plain objects with keys sorted, recursively; `cohort_name` (an output-only field) dropped. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    if (k === 'cohort_name') continue;
    out[k] = canonical((value as Record<string, unknown>)[k]);
  }
  return out;
}

/**
 * Filters in their comparable form: keys sorted; top-level keys that are null or `{}` dropped
 * (the server fills `payloads: {}`, `multivariate: null`; a hand-written file may leave them out).
 */
export function normalFilters(filters: unknown): Record<string, unknown> {
  const c = (canonical(filters ?? {}) ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(c)) {
    if (v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)) delete c[k];
  }
  return c;
}

/**
 * Rewrites references inside filters: `type: cohort` values and `type: flag` keys, through the
 * two maps. A reference the map lacks is passed to `missing`, which returns its replacement.
 */
export function mapReferences(
  value: unknown,
  cohort: (ref: unknown) => unknown,
  flag: (ref: unknown) => unknown,
): unknown {
  if (Array.isArray(value)) return value.map((v) => mapReferences(v, cohort, flag));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = mapReferences(v, cohort, flag);
  if (obj.type === 'cohort' && 'value' in obj) out.value = cohort(obj.value);
  if (obj.type === 'flag' && 'key' in obj) out.key = flag(obj.key);
  return out;
}

/** The file form of one API flag (ids → names via the maps). */
export function codeFlagOf(flag: ApiObject, cohortName: (id: unknown) => unknown, flagKey: (id: unknown) => unknown): CodeFlag {
  return {
    key: flag.key,
    name: flag.name ?? '',
    active: flag.active,
    ensure_experience_continuity: flag.ensure_experience_continuity ?? false,
    evaluation_runtime: flag.evaluation_runtime ?? 'all',
    bucketing_identifier: flag.bucketing_identifier ?? null,
    tags: [...(flag.tags ?? [])].sort(),
    evaluation_tags: [...(flag.evaluation_tags ?? [])].sort(),
    filters: normalFilters(mapReferences(flag.filters, cohortName, flagKey)) as CodeFlag['filters'],
  };
}

/** The file form of one API cohort. */
export function codeCohortOf(cohort: ApiObject, cohortName: (id: unknown) => unknown): CodeCohort {
  return {
    name: cohort.name,
    description: cohort.description ?? '',
    static: cohort.is_static,
    filters: cohort.is_static ? null : (canonical(mapReferences(cohort.filters, cohortName, (k) => k)) as Record<string, unknown>),
  };
}

/** Normalizes a parsed file's flag or cohort the way codeFlagOf/codeCohortOf do, for comparison. */
export function normalFlag(f: CodeFlag): CodeFlag {
  return { ...f, tags: [...f.tags].sort(), evaluation_tags: [...f.evaluation_tags].sort(), filters: normalFilters(f.filters) as CodeFlag['filters'] };
}

export function normalCohort(c: CodeCohort): CodeCohort {
  return { ...c, filters: c.static ? null : (canonical(c.filters) as Record<string, unknown> | null) };
}

/**
 * A project's live flags and cohorts as a file. Deleted ones are left out; references to
 * objects that no longer exist keep their id (the import then names them as unknown).
 */
export function toCodeFile(flags: readonly ApiObject[], cohorts: readonly ApiObject[]): CodeFile {
  const liveCohorts = cohorts.filter((c) => !c.deleted);
  const liveFlags = flags.filter((f) => !f.deleted);
  const cohortNames = new Map(liveCohorts.map((c) => [String(c.id), c.name as string]));
  const flagKeys = new Map(liveFlags.map((f) => [String(f.id), f.key as string]));
  const cohortName = (id: unknown) => cohortNames.get(String(id)) ?? id;
  const flagKey = (id: unknown) => flagKeys.get(String(id)) ?? id;
  return {
    version: CODE_VERSION,
    cohorts: liveCohorts.map((c) => codeCohortOf(c, cohortName)).sort((a, b) => a.name.localeCompare(b.name)),
    flags: liveFlags.map((f) => codeFlagOf(f, cohortName, flagKey)).sort((a, b) => a.key.localeCompare(b.key)),
  };
}
