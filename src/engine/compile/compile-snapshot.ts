/**
 * @module engine/compile/compile-snapshot
 * A project's definitions → an immutable, evaluation-ready snapshot. Built once per change of
 * the project's flags, cohorts or group types; evaluated many times.
 */
import type { ProjectDefs } from '../types.ts';
import type { CompiledCohort, CompiledFlag } from './compiled-types.ts';
import { compileCohorts } from './compile-cohorts.ts';
import { compileFlag } from './compile-flag.ts';
import { dependencyOrder } from './dependency-order.ts';

/** The compiled form of one project. Treat as immutable. */
export interface FlagSnapshot {
  /** Non-deleted flags by ordinal (input order). */
  readonly flags: readonly CompiledFlag[];
  /** Ordinals in evaluation order: dependencies first. */
  readonly order: readonly number[];
  readonly ordinalByKey: ReadonlyMap<string, number>;
  readonly cohorts: readonly CompiledCohort[];
  /** group_type_index (0–4) → name. */
  readonly groupTypeNames: readonly (string | undefined)[];
  readonly groupTypeIndexByName: ReadonlyMap<string, number>;
  /** 1 for each active flag: the selection of a request with no key, runtime or tag filter. Read-only. */
  readonly activeMask: Uint8Array;
  /**
   * Ordinals of flags with buckets to hash ahead in the request's batch (`prefetch`): those
   * bucketed on the distinct id for sure (person aggregation, no device bucketing, no
   * continuity), and the others, whose identifier depends on the request.
   */
  readonly prefetchByDistinctId: readonly number[];
  readonly prefetchOrdinals: readonly number[];
  /** Some active flag has `ensure_experience_continuity`. */
  readonly hasContinuityFlags: boolean;
  readonly timezone: string;
}

function isSimple(f: CompiledFlag): boolean {
  const only = f.conditions.length === 1 ? f.conditions[0]! : null;
  return only !== null && only.filters.length === 0 && only.aggregation < 0 && f.error === null && !f.missingDependency &&
    f.enrollmentKey === null && f.holdout === null && !f.deviceBucketing && !f.continuity;
}

/**
 * Compiles a project's definitions. Deleted flags and cohorts are dropped; references to them
 * become missing dependencies. Never throws for bad definitions: they compile to flags that fail.
 */
export function compileSnapshot(defs: ProjectDefs): FlagSnapshot {
  const timezone = defs.timezone ?? 'UTC';
  const live = defs.flags.filter((f) => !f.deleted);
  const flagOrdinalById = new Map<number, number>();
  const flagOrdinalByKey = new Map<string, number>();
  live.forEach((f, i) => {
    flagOrdinalById.set(f.id, i);
    flagOrdinalByKey.set(f.key, i);
  });
  const { cohorts, resolveCohort } = compileCohorts(defs.cohorts, { timezone, flagOrdinalById, flagOrdinalByKey });
  const scope = { timezone, flagOrdinalById, flagOrdinalByKey, resolveCohort };
  const flags = live.map((def, i) => compileFlag(def, i, scope));
  const { order, missing } = dependencyOrder(flags.map((f) => f.dependencies));
  flags.forEach((f, i) => (f.missingDependency = missing[i]!));
  for (const f of flags) for (const d of f.dependencies) if (d >= 0) flags[d]!.hasDependents = true;
  for (const f of flags) f.simple = isSimple(f);

  const groupTypeNames: (string | undefined)[] = [];
  const groupTypeIndexByName = new Map<string, number>();
  for (const [index, name] of Object.entries(defs.groupTypeMapping)) {
    const i = Number(index);
    if (!Number.isInteger(i) || i < 0 || typeof name !== 'string') continue;
    groupTypeNames[i] = name;
    groupTypeIndexByName.set(name, i);
  }
  const prefetchable = flags.filter((f) => f.prefetch !== 0 && f.error === null && !f.missingDependency);
  const byDistinctId = (f: CompiledFlag) => f.conditions[0]!.aggregation < 0 && !f.deviceBucketing && !f.continuity;
  return {
    flags,
    order,
    ordinalByKey: flagOrdinalByKey,
    cohorts,
    groupTypeNames,
    groupTypeIndexByName,
    activeMask: Uint8Array.from(flags, (f) => (f.active ? 1 : 0)),
    prefetchByDistinctId: prefetchable.filter(byDistinctId).map((f) => f.ordinal),
    prefetchOrdinals: prefetchable.filter((f) => !byDistinctId(f)).map((f) => f.ordinal),
    hasContinuityFlags: flags.some((f) => f.active && f.continuity),
    timezone,
  };
}
