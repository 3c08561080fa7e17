/**
 * @module cli/flags-as-code/code-plan
 * Compares a flags-as-code file with a project's live flags and cohorts: what to create, what to
 * change (with a field diff), what is unchanged, and — with prune — what to delete. Comparison
 * happens in the file's form (names, not ids), so it is the same on any server.
 */
import { CliError } from '../admin-client.ts';
import { normalCohort, normalFlag, toCodeFile, type ApiObject, type CodeCohort, type CodeFile, type CodeFlag } from './code-model.ts';
import { fieldPath, type ParsedCode } from './code-parse.ts';

/** One changed field: its path in the object and both values. */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** What happens to one flag or cohort. */
export interface PlanItem {
  kind: 'flag' | 'cohort';
  action: 'create' | 'update' | 'unchanged' | 'delete';
  /** The flag key or cohort name. */
  name: string;
  changes: FieldChange[];
  /** The file's version (create, update), or null. */
  wanted: CodeFlag | CodeCohort | null;
  /** The server's id (update, unchanged, delete), or null. */
  id: number | null;
}

/** Field-level differences, recursing into objects and same-length arrays. */
export function diff(before: unknown, after: unknown, path: (string | number)[] = []): FieldChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diff(before[k], after[k], [...path, k]));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((v, i) => diff(v, after[i], [...path, i]));
  }
  return [{ path: fieldPath(path), before, after }];
}

/** Every reference of `type` ('cohort' values or 'flag' keys) in filters, with its path. */
function references(value: unknown, type: 'cohort' | 'flag', path: (string | number)[], out: { ref: unknown; path: (string | number)[] }[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => references(v, type, [...path, i], out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (obj.type === type) out.push(type === 'cohort' ? { ref: obj.value, path: [...path, 'value'] } : { ref: obj.key, path: [...path, 'key'] });
  for (const [k, v] of Object.entries(obj)) references(v, type, [...path, k], out);
}

/** Cohort names / flag keys referenced by filters, in order of appearance. */
export function referencedNames(filters: unknown, type: 'cohort' | 'flag'): string[] {
  const out: { ref: unknown; path: (string | number)[] }[] = [];
  references(filters, type, [], out);
  return out.map((r) => String(r.ref));
}

/**
 * Checks that every cohort and flag the file references exists in the file or on the server,
 * naming the line of the first that does not.
 */
function checkReferences(parsed: ParsedCode, liveCohorts: ReadonlySet<string>, liveFlags: ReadonlySet<string>): void {
  const { file, where } = parsed;
  const cohorts = new Set([...liveCohorts, ...file.cohorts.map((c) => c.name)]);
  const flags = new Set([...liveFlags, ...file.flags.map((f) => f.key)]);
  const check = (filters: unknown, base: (string | number)[]) => {
    for (const type of ['cohort', 'flag'] as const) {
      const refs: { ref: unknown; path: (string | number)[] }[] = [];
      references(filters, type, base, refs);
      for (const { ref, path } of refs) {
        const known = type === 'cohort' ? cohorts : flags;
        if (typeof ref !== 'string' || !known.has(ref)) {
          const what = type === 'cohort' ? 'a cohort name' : 'a flag key';
          throw new CliError(`${where(path)}: ${fieldPath(path)}: ${JSON.stringify(ref)} is not ${what} in the file or the project (refer to ${type === 'cohort' ? 'cohorts by name' : 'flags by key'})`, 65);
        }
      }
    }
  };
  file.cohorts.forEach((c, i) => check(c.filters, ['cohorts', i, 'filters']));
  file.flags.forEach((f, i) => check(f.filters, ['flags', i, 'filters']));
}

/**
 * The plan for applying `parsed` to a project whose live state is `flags` and `cohorts` (as the
 * admin API lists them). Creates and updates keep the file's order; deletes only with `prune`.
 * @throws CliError naming the line of a reference to an unknown cohort or flag, or of a cohort
 *   whose static/dynamic kind would change.
 */
export function planImport(parsed: ParsedCode, flags: readonly ApiObject[], cohorts: readonly ApiObject[], prune: boolean): PlanItem[] {
  const live = toCodeFile(flags, cohorts);
  const liveCohortIds = new Map(cohorts.filter((c) => !c.deleted).map((c) => [c.name as string, c.id as number]));
  const liveFlagIds = new Map(flags.filter((f) => !f.deleted).map((f) => [f.key as string, f.id as number]));
  checkReferences(parsed, new Set(liveCohortIds.keys()), new Set(liveFlagIds.keys()));
  const file: CodeFile = parsed.file;
  const plan: PlanItem[] = [];

  const liveCohort = new Map(live.cohorts.map((c) => [c.name, c]));
  file.cohorts.forEach((wantedRaw, i) => {
    const wanted = normalCohort(wantedRaw);
    const current = liveCohort.get(wanted.name);
    if (!current) return plan.push({ kind: 'cohort', action: 'create', name: wanted.name, changes: [], wanted, id: null });
    if (current.static !== wanted.static) {
      throw new CliError(`${parsed.where(['cohorts', i, 'static'])}: cohorts[${i}].static: cohort '${wanted.name}' is ${current.static ? 'static' : 'dynamic'} in the project; the kind cannot change`, 65);
    }
    const changes = diff(current, wanted);
    plan.push({ kind: 'cohort', action: changes.length ? 'update' : 'unchanged', name: wanted.name, changes, wanted, id: liveCohortIds.get(wanted.name)! });
  });

  const liveFlag = new Map(live.flags.map((f) => [f.key, f]));
  for (const wantedRaw of file.flags) {
    const wanted = normalFlag(wantedRaw);
    const current = liveFlag.get(wanted.key);
    if (!current) {
      plan.push({ kind: 'flag', action: 'create', name: wanted.key, changes: [], wanted, id: null });
      continue;
    }
    const changes = diff(current, wanted);
    plan.push({ kind: 'flag', action: changes.length ? 'update' : 'unchanged', name: wanted.key, changes, wanted, id: liveFlagIds.get(wanted.key)! });
  }

  if (prune) {
    const inFile = new Set(file.flags.map((f) => f.key));
    for (const f of live.flags) if (!inFile.has(f.key)) plan.push({ kind: 'flag', action: 'delete', name: f.key, changes: [], wanted: null, id: liveFlagIds.get(f.key)! });
    const cohortsInFile = new Set(file.cohorts.map((c) => c.name));
    for (const c of live.cohorts) if (!cohortsInFile.has(c.name)) plan.push({ kind: 'cohort', action: 'delete', name: c.name, changes: [], wanted: null, id: liveCohortIds.get(c.name)! });
  }
  return plan;
}
