/**
 * @module admin/flag-dependencies
 * Flag-on-flag dependencies (`type: "flag"` filters, spec §5.8) as the admin API checks them:
 * references are integer ids of existing active flags in the same project, a flag never depends
 * on itself, the graph has no cycles, and a flag others depend on cannot be deleted or disabled
 * (PostHog/posthog `posthog/api/feature_flag.py`, `_check_flag_circular_dependencies`).
 */
import { VexilError } from '../errors.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow } from '../store/store.ts';

/** Python's `int(str)` acceptance, as PostHog's `safe_int` uses it. */
function safeInt(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : null;
  if (typeof raw !== 'string' || !/^\s*[+-]?\d{1,15}\s*$/.test(raw)) return null;
  return Number(raw.trim());
}

/** The raw `key`s of the flag-type filters in a flag's release conditions. */
function flagReferences(filters: FlagFiltersDef | null | undefined): unknown[] {
  const refs: unknown[] = [];
  for (const group of filters?.groups ?? []) {
    for (const prop of group?.properties ?? []) {
      if (prop?.type === 'flag' && prop.key !== undefined && prop.key !== '') refs.push(prop.key);
    }
  }
  return refs;
}

/** Ids of the flags a flag's conditions depend on (non-integer references are skipped). */
export function dependencyIds(filters: FlagFiltersDef | null | undefined): number[] {
  const ids = new Set<number>();
  for (const ref of flagReferences(filters)) {
    const id = safeInt(ref);
    if (id !== null) ids.add(id);
  }
  return [...ids];
}

/** "a (ID: 1), b (ID: 2) and 3 more", the way PostHog lists flags in its messages. */
export function describeFlags(flags: readonly FlagRow[]): string {
  const names = flags.slice(0, 5).map((f) => `${f.key} (ID: ${f.id})`);
  if (flags.length > 5) names.push(`and ${flags.length - 5} more`);
  return names.join(', ');
}

/** Active, non-deleted flags other than `flagId` whose conditions depend on it, by key. */
export function dependentFlags(flagId: number, flags: readonly FlagRow[]): FlagRow[] {
  return flags
    .filter((f) => f.id !== flagId && f.active && !f.deleted && dependencyIds(f.filters).includes(flagId))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Disabled, non-deleted flags among the dependencies of `filters`, by key. */
export function disabledDependencies(filters: FlagFiltersDef, flags: readonly FlagRow[]): FlagRow[] {
  const ids = new Set(dependencyIds(filters));
  return flags.filter((f) => ids.has(f.id) && !f.deleted && !f.active).sort((a, b) => (a.key < b.key ? -1 : 1));
}

const invalid = (message: string) => new VexilError('VXL_VALIDATION', { message, attr: 'filters' });

/**
 * Validates the flag dependencies of new `filters` for the flag `self` (id null on create).
 * `flags` are the project's non-deleted flags as stored. Throws a 400 (attr "filters") with
 * PostHog's sentence for: a non-integer reference, a missing or disabled flag, a dependency on
 * itself, or a cycle anywhere reachable from the new dependencies.
 */
export function validateFlagDependencies(
  filters: FlagFiltersDef,
  self: { id: number | null; key: string },
  flags: readonly FlagRow[],
): void {
  const refs = flagReferences(filters);
  if (refs.length === 0) return;
  const byId = new Map(flags.filter((f) => !f.deleted).map((f) => [f.id, f]));
  const direct: number[] = [];
  for (const ref of refs) {
    const id = safeInt(ref);
    if (id === null) {
      throw invalid(`Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: '${String(ref)}'`);
    }
    if (id === self.id) throw invalid(`Feature flag '${self.key}' cannot depend on itself`);
    const target = byId.get(id);
    if (target === undefined) throw invalid(`Flag dependency references non-existent flag with ID ${id}`);
    if (!target.active) {
      throw invalid(`Cannot create dependency on disabled flag '${target.key}' (ID: ${id}). Flag dependencies must reference active flags only.`);
    }
    direct.push(id);
  }
  // Depth-first walk over the stored graph, with this flag's edges replaced by the new ones.
  const edges = (id: number): number[] => (id === self.id ? direct : dependencyIds(byId.get(id)?.filters));
  const keyOf = (id: number | null): string => (id === self.id ? self.key : (byId.get(id!)?.key ?? String(id)));
  const done = new Set<number>();
  const walk = (id: number, path: Array<number | null>): void => {
    const at = path.indexOf(id);
    if (at !== -1) {
      const cycle = [...path.slice(at), id].map(keyOf).join(' → ');
      throw invalid(`Circular dependency detected: ${cycle}`);
    }
    if (done.has(id)) return;
    for (const next of edges(id)) walk(next, [...path, id]);
    done.add(id);
  };
  for (const id of new Set(direct)) walk(id, [self.id]);
}
