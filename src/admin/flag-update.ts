/**
 * @module admin/flag-update
 * What an update of a feature flag must pass before it is written, shared by `PATCH`/`PUT
 * …/feature_flags/:id/` and by scheduled changes (PostHog applies a scheduled change through
 * the same `FeatureFlagSerializer` partial update, `scheduled_changes_dispatcher`). Pure: the
 * caller reads the stored definitions and writes the result.
 */
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import { VexilError } from '../errors.ts';
import type { FlagRow, FlagWrite } from '../store/store.ts';
import { dependentFlags, describeFlags, disabledDependencies } from './flag-dependencies.ts';
import { filtersToStore } from './flag-payloads.ts';
import type { FlagBody } from './flag-schema.ts';
import { validateFlagFilters, type FlagDefinitions } from './flag-validation.ts';

/** The tags rule: evaluation tags must be a subset of the flag's tags. */
export function validateExtras(body: FlagBody, storedTags: readonly string[]): void {
  const tags = new Set(body.tags ?? storedTags);
  const invalid = [...new Set(body.evaluation_tags ?? [])].filter((t) => !tags.has(t)).sort();
  if (invalid.length > 0) {
    throw new VexilError('VXL_VALIDATION', { message: `Evaluation tags must be a subset of tags. Invalid evaluation tags: ${invalid.join(', ')}` });
  }
}

/** Body fields → store write (undefined leaves a field as is). */
export function toWrite(body: FlagBody, filters: FlagFiltersDef | undefined): FlagWrite {
  const dedupe = (xs: string[] | undefined) => (xs === undefined ? undefined : [...new Set(xs)]);
  return {
    key: body.key,
    name: body.name,
    filters,
    active: body.active,
    deleted: body.deleted,
    ensureExperienceContinuity: body.ensure_experience_continuity === undefined ? undefined : (body.ensure_experience_continuity ?? false),
    tags: dedupe(body.tags),
    evaluationTags: dedupe(body.evaluation_tags),
    evaluationRuntime: body.evaluation_runtime === undefined ? undefined : (body.evaluation_runtime ?? 'all'),
    bucketingIdentifier: body.bucketing_identifier,
    isRemoteConfiguration: body.is_remote_configuration,
    hasEncryptedPayloads: body.has_encrypted_payloads,
  };
}

/** PostHog refuses to delete, disable or enable a flag when that would break a dependency. */
function checkTransitions(flag: FlagRow, body: FlagBody, filters: FlagFiltersDef | undefined, defs: FlagDefinitions): void {
  const fail = (message: string) => new VexilError('VXL_VALIDATION', { message });
  if (body.deleted === true && !flag.deleted) {
    const dependents = dependentFlags(flag.id, defs.flags);
    if (dependents.length > 0) {
      throw fail(`Cannot delete this feature flag because other flags depend on it: ${describeFlags(dependents)}. Please update or delete the dependent flags first.`);
    }
  }
  if (body.active === false && flag.active) {
    const dependents = dependentFlags(flag.id, defs.flags);
    if (dependents.length > 0) {
      throw fail(`Cannot disable this feature flag because other flags depend on it: ${describeFlags(dependents)}. Please update or disable the dependent flags first.`);
    }
  }
  if (body.active === true && !flag.active) {
    const disabled = disabledDependencies(filters ?? flag.filters, defs.flags);
    if (disabled.length > 0) {
      throw fail(`Cannot enable this feature flag because it depends on disabled flags: ${describeFlags(disabled)}. Please enable the dependency flags first.`);
    }
  }
}

/**
 * The store write of an update of `flag` (as stored; `body.filters` carries plaintext
 * payloads, encrypted here when the flag's are): filters validated against the stored definitions (dependencies, cycles, cohorts, variants,
 * payloads), the tags rule, the enable/disable/delete dependency rules, and payload encryption.
 * Key uniqueness and the `version` check stay with the route (they read the store).
 * @throws VexilError 400 with PostHog's sentence on the first broken rule.
 */
export function prepareFlagUpdate(
  flag: FlagRow,
  body: FlagBody,
  method: 'PATCH' | 'PUT',
  defs: FlagDefinitions,
  cipher: PayloadCipher | null,
): FlagWrite {
  let filters: FlagFiltersDef | undefined;
  // PostHog ignores a PATCH whose `filters` has no `groups` (`validate_filters` returns the stored ones).
  if (body.filters !== undefined && (method === 'PUT' || 'groups' in body.filters)) {
    filters = validateFlagFilters(body.filters, { method, flag: { id: flag.id, key: flag.key }, definitions: defs });
  }
  validateExtras(body, flag.tags);
  checkTransitions(flag, body, filters, defs);
  const stored = filtersToStore({ isRemoteConfiguration: body.is_remote_configuration, hasEncryptedPayloads: body.has_encrypted_payloads, filters }, flag, cipher);
  return toWrite(body, stored);
}
