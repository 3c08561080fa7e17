/**
 * @module admin/flag-validation
 * PostHog's `validate_filters` rules for a feature flag's `filters`, with its wording
 * (PostHog/posthog `posthog/api/feature_flag.py`, spec §8). Every error is a 400 with attr "filters".
 */
import { VexilError, type ErrorCode } from '../errors.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { ProjectDefinitionsRow } from '../store/store.ts';
import { parseWith, pyRepr } from './body.ts';
import { cohortIdOf, hasBehavioralFilter, withNestedCohorts } from './cohort-graph.ts';
import { validateFlagDependencies } from './flag-dependencies.ts';
import { filtersSchema, type FiltersInput, type PropertyFilterInput } from './flag-schema.ts';

/** PostHog's MAX_PROPERTY_VALUES: the longest list one property filter may carry. */
export const MAX_PROPERTY_VALUES = 1000;

/** Property types a person flag may use. `person_metadata` is newer than PostHog's check (spec §5.7). */
const PERSON_FLAG_TYPES = new Set(['person', 'cohort', 'flag', 'person_metadata']);
/** Operators PostHog requires a string value for. */
const STRING_VALUE_OPERATORS = new Set(['regex', 'icontains', 'not_regex', 'not_icontains', 'gte', 'lte', 'gt', 'lt']);

const fail = (message: string, code: ErrorCode = 'VXL_VALIDATION') => new VexilError(code, { message, attr: 'filters' });

/** Whether a date filter value parses: relative (`-7d`, `2w`) or any absolute date (spec §5.6). */
export function isParseableDate(value: unknown): boolean {
  if (typeof value !== 'string' || value.trim() === '') return false;
  const relative = /^-?(\d+)[hdwmy]$/.exec(value.trim());
  if (relative) return Number(relative[1]) < 10000;
  return !Number.isNaN(Date.parse(value));
}

/** The stored definitions the rules read. */
export type FlagDefinitions = Pick<ProjectDefinitionsRow, 'flags' | 'cohorts'>;

/** What the rules need besides the filters. */
export interface FlagValidationContext {
  method: 'POST' | 'PUT' | 'PATCH';
  /** The flag being written: id null on create. */
  flag: { id: number | null; key: string };
  /** The project's non-deleted flags and cohorts as stored. */
  definitions: FlagDefinitions;
}

function validateProperty(prop: PropertyFilterInput, ctx: FlagValidationContext): void {
  const type = prop.type ?? 'person';
  const operator = prop.operator ?? null;
  if (Array.isArray(prop.value) && prop.value.length > MAX_PROPERTY_VALUES) {
    throw fail(`Property group expressions of type ${String(prop.key)} cannot contain more than ${MAX_PROPERTY_VALUES} values.`);
  }
  if (type === 'cohort') {
    const id = cohortIdOf(prop.value);
    const cohorts = new Map(ctx.definitions.cohorts.map((c) => [c.id, c]));
    const cohort = id === null ? undefined : cohorts.get(id);
    if (cohort === undefined || cohort.deleted) {
      throw fail(`Cohort with id ${pyRepr(prop.value)} does not exist`, 'VXL_COHORT_MISSING');
    }
    for (const depId of withNestedCohorts([cohort.id], cohorts)) {
      const dep = cohorts.get(depId);
      if (dep !== undefined && !dep.isStatic && hasBehavioralFilter(dep.filters)) {
        throw fail(`Cohort '${dep.name}' with filters on events cannot be used in feature flags.`, 'VXL_COHORT_BEHAVIORAL');
      }
    }
  }
  if ((operator === 'is_date_before' || operator === 'is_date_after') && !isParseableDate(prop.value)) {
    throw fail(`Invalid date value: ${pyRepr(prop.value)}`, 'VXL_FILTER_DATE_INVALID');
  }
  if (operator !== null && STRING_VALUE_OPERATORS.has(operator) && typeof prop.value !== 'string') {
    throw fail(`Invalid value for operator ${operator}: ${pyRepr(prop.value)}`, 'VXL_FILTER_VALUE_INVALID');
  }
  if ((operator === 'in' || operator === 'not_in') && type !== 'cohort') {
    throw fail(
      `The '${operator}' operator is only valid for cohort properties, not '${type}' properties.`,
      'VXL_FILTER_OPERATOR_INVALID',
    );
  }
}

/**
 * Normalises `filters.payloads` as PostHog does: a JSON object becomes its JSON text, a string
 * must itself be valid JSON text, other JSON values are kept. Keys must be variant keys
 * (multivariate) or only "true" (boolean flags). A null or absent `payloads` is `{}`.
 */
function validatePayloads(filters: FiltersInput, variantKeys: ReadonlySet<string>): Record<string, unknown> {
  const raw = filters.payloads ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw fail('Payloads must be passed as a dictionary');
  const payloads: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value === 'string') {
      try {
        JSON.parse(value);
      } catch {
        throw fail('Payload value is not valid JSON');
      }
      payloads[key] = value;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      payloads[key] = JSON.stringify(value);
    } else {
      payloads[key] = value;
    }
  }
  const keys = Object.keys(payloads);
  if (filters.multivariate) {
    if (!keys.every((k) => variantKeys.has(k))) throw fail('Payload keys must match a variant key for multivariate flags');
  } else if (keys.length > 1 || keys.some((k) => k !== 'true')) {
    throw fail("Payload keys must be 'true' for boolean flags");
  }
  return payloads;
}

/**
 * Validates `raw` filters for a write and returns them normalised for storage (payload objects
 * as JSON text; everything else as sent). Order and wording follow PostHog's `validate_filters`.
 * Throws a 400 VexilError (attr "filters") on the first broken rule; never writes anything.
 */
export function validateFlagFilters(raw: unknown, ctx: FlagValidationContext): FlagFiltersDef {
  const filters = parseWith(filtersSchema, raw, 'filters');
  if (ctx.method === 'POST' && filters.groups.length === 0) {
    throw fail('Feature flags must have at least one condition set (group).');
  }
  const properties = filters.groups.flatMap((g) => g.properties ?? []);
  const aggregation = filters.aggregation_group_type_index ?? null;
  if (aggregation === null) {
    if (!properties.every((p) => PERSON_FLAG_TYPES.has(p.type ?? 'person'))) {
      throw fail('Filters are not valid (can only use person, cohort, and flag properties)');
    }
    if (!properties.every((p) => p.type !== 'flag' || p.operator === 'flag_evaluates_to')) {
      throw fail("Flag properties must use the 'flag_evaluates_to' operator");
    }
    validateFlagDependencies(filters as FlagFiltersDef, ctx.flag, ctx.definitions.flags);
  } else if (!properties.every((p) => p.type === 'group' && p.group_type_index === aggregation)) {
    throw fail('Filters are not valid (can only use group properties)');
  }

  const variants = filters.multivariate?.variants ?? [];
  const variantKeys = new Set(variants.map((v) => v.key));
  if (variants.length > 0) {
    const sum = variants.reduce((total, v) => total + v.rollout_percentage, 0);
    if (sum !== 100) throw fail('Invalid variant definitions: Variant rollout percentages must sum to 100.');
    // Not checked by PostHog; duplicate keys would make variant selection ambiguous.
    if (variantKeys.size !== variants.length) throw fail('Invalid variant definitions: Variant keys must be unique.');
  }
  for (const condition of filters.groups) {
    if (condition.variant && !variantKeys.has(condition.variant)) {
      throw fail('Filters are not valid (variant override does not exist)');
    }
    for (const prop of condition.properties ?? []) validateProperty(prop, ctx);
  }
  const payloads = validatePayloads(filters, variantKeys);
  return { ...filters, payloads } as FlagFiltersDef;
}
