/**
 * @module http/definitions/definitions-body
 * The local-evaluation payload server SDKs poll (spec §7.2): every non-deleted flag (inactive
 * too) with flag dependencies rewritten to keys plus a `dependency_chain`, the group type
 * mapping, and the dynamic cohorts the flags reach. Serialized once per snapshot revision; the
 * ETag is the hash of those exact bytes, so it can never drift from the body.
 */
import { createHash } from 'node:crypto';
import type { PropertyFilterDef, ConditionDef, FlagFiltersDef } from '../../engine/index.ts';
import type { CohortRow, FlagRow, ProjectDefinitionsRow } from '../../store/store.ts';
import { inlineSingleCohort } from './inline-cohort.ts';
import { cohortRef, cohortTree, treeFilters } from './filter-walk.ts';

/** A serialized definitions response. */
export interface DefinitionsBody {
  body: string;
  /** Opaque tag (hex sha256 of `body`), sent as `W/"<etag>"`. */
  etag: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** All conditions of a flag whose filters SDKs read (release conditions, super groups, holdouts). */
function conditionLists(filters: FlagFiltersDef): ConditionDef[][] {
  return [filters.groups, filters.super_groups, filters.holdout_groups].filter((l): l is ConditionDef[] => Array.isArray(l));
}

/** Flag id (a number or numeric string in `key`) of a flag-dependency filter, else null. */
function flagRef(filter: PropertyFilterDef): number | null {
  const id = Number(filter.key);
  return filter.type === 'flag' && filter.key !== '' && Number.isSafeInteger(id) ? id : null;
}

/**
 * Dependency chains by flag id: the transitive dependencies in evaluation order, the flag last;
 * `[]` when the flag or anything it reaches is missing or part of a cycle (spec §7.2).
 */
function dependencyChains(flags: readonly FlagRow[]): (id: number) => string[] {
  const byId = new Map(flags.map((f) => [f.id, f]));
  const memo = new Map<number, string[]>();
  const depsOf = (f: FlagRow): (number | null)[] =>
    conditionLists(f.filters).flatMap((conds) => conds.flatMap((c) => (Array.isArray(c?.properties) ? c.properties : []).filter((p) => p?.type === 'flag').map(flagRef)));
  return (target) => {
    const cached = memo.get(target);
    if (cached) return cached;
    const order: string[] = [];
    const state = new Map<number, 'visiting' | 'done'>();
    let broken = false;
    const visit = (id: number | null): void => {
      if (broken) return;
      const flag = id === null ? undefined : byId.get(id);
      if (id === null || !flag || state.get(id) === 'visiting') {
        broken = true;
        return;
      }
      if (state.get(id) === 'done') return;
      state.set(id, 'visiting');
      for (const dep of depsOf(flag)) visit(dep);
      state.set(id, 'done');
      order.push(flag.key);
    };
    visit(target);
    const chain = broken ? [] : order;
    memo.set(target, chain);
    return chain;
  };
}

/** Copies filters, rewriting flag-dependency filters to `{key: <flag key>, dependency_chain}`. */
function rewriteDependencies(filters: FlagFiltersDef, flags: readonly FlagRow[], chainOf: (id: number) => string[]): FlagFiltersDef {
  const keyById = new Map(flags.map((f) => [f.id, f.key]));
  const rewrite = (conds: ConditionDef[] | null | undefined): ConditionDef[] | null | undefined =>
    Array.isArray(conds)
      ? conds.map((c) =>
          isObject(c) && Array.isArray(c.properties) && c.properties.some((p) => p?.type === 'flag')
            ? {
                ...c,
                properties: c.properties.map((p) => {
                  if (p?.type !== 'flag') return p;
                  const id = flagRef(p);
                  const key = id === null ? undefined : keyById.get(id);
                  return { ...p, key: key ?? p.key, dependency_chain: id === null ? [] : chainOf(id) };
                }),
              }
            : c,
        )
      : conds;
  return { ...filters, groups: rewrite(filters.groups), super_groups: rewrite(filters.super_groups), holdout_groups: rewrite(filters.holdout_groups) };
}

/** Ids of the dynamic cohorts the flags reference, transitively through nested cohorts. */
function reachableDynamicCohorts(flags: readonly FlagRow[], cohorts: ReadonlyMap<number, CohortRow>): number[] {
  const seen = new Set<number>();
  const queue: number[] = [];
  for (const f of flags) {
    for (const conds of conditionLists(f.filters)) {
      for (const c of conds) for (const p of Array.isArray(c?.properties) ? c.properties : []) if (p) queue.push(cohortRef(p) ?? NaN);
    }
  }
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (Number.isNaN(id) || seen.has(id)) continue;
    const cohort = cohorts.get(id);
    // Static cohorts are never sent: SDKs treat a missing id as "ask the server" (spec §7.2).
    if (!cohort || cohort.isStatic || cohortTree(cohort) === null) continue;
    seen.add(id);
    for (const p of treeFilters(cohortTree(cohort))) queue.push(cohortRef(p) ?? NaN);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Builds and serializes the payload. `sendCohorts` false (Django endpoint without
 * `send_cohorts`) sends `cohorts: {}` and inlines a flag's single simple cohort instead.
 */
export function buildDefinitionsBody(defs: ProjectDefinitionsRow, sendCohorts: boolean): DefinitionsBody {
  // Remote-configuration flags are served only by their remote_config endpoint, never for local
  // evaluation (PostHog's local_evaluation queryset excludes them, spec §7.2).
  const flags = defs.flags.filter((f) => !f.deleted && !f.isRemoteConfiguration);
  const cohortsById = new Map(defs.cohorts.filter((c) => !c.deleted).map((c) => [c.id, c]));
  const chainOf = dependencyChains(flags);
  const payload = {
    flags: flags.map((f) => {
      let filters = rewriteDependencies(f.filters ?? {}, flags, chainOf);
      if (!sendCohorts) filters = inlineSingleCohort(filters, cohortsById);
      return {
        id: f.id,
        team_id: defs.project.id,
        name: f.name,
        key: f.key,
        filters,
        deleted: false,
        active: f.active,
        ensure_experience_continuity: f.ensureExperienceContinuity,
        has_encrypted_payloads: f.hasEncryptedPayloads,
        version: f.version,
        evaluation_runtime: f.evaluationRuntime || 'all',
        evaluation_tags: f.evaluationTags,
        // PostHog renamed the key (PR #52186); both are sent so SDKs of either age read the tags.
        evaluation_contexts: f.evaluationTags,
        bucketing_identifier: f.bucketingIdentifier,
      };
    }),
    group_type_mapping: Object.fromEntries(Object.entries(defs.groupTypeMapping).map(([i, name]) => [String(i), name])),
    cohorts: sendCohorts
      ? Object.fromEntries(reachableDynamicCohorts(flags, cohortsById).map((id) => [String(id), cohortTree(cohortsById.get(id)!)]))
      : {},
  };
  const body = JSON.stringify(payload);
  return { body, etag: createHash('sha256').update(body, 'utf8').digest('hex').slice(0, 40) };
}
