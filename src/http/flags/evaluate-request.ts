/**
 * @module http/flags/evaluate-request
 * Evaluates one /flags request in at most two passes (spec §4.1, §6): first with the request's
 * own data only (no I/O); only when some flag is inconclusive, or continuity overrides must be
 * written, one store round trip and a second pass. A failing store degrades affected flags to
 * `failed` (spec §10) — it never fails the request.
 */
import type { FastifyBaseLogger } from 'fastify';
import { buildPersonProperties, evaluateFlags, explainFlags } from '../../engine/index.ts';
import type { ConditionExplanation, EvaluationContext, EvaluationResult, EvaluationRuntime, FlagErrorCode, FlagResult, Properties } from '../../engine/index.ts';
import type { PersonCache } from '../../cache/person-cache.ts';
import type { ProjectEntry } from '../../cache/snapshot-cache.ts';
import type { EvaluationData, Store } from '../../store/store.ts';
import type { Metrics } from '../../metrics.ts';
import type { FlagsBody } from './flags-body.ts';
import { hotCounters } from '../hot-metrics.ts';

/** Long-lived dependencies of request evaluation. */
export interface EvaluateDeps {
  store: Store;
  metrics: Metrics;
  /** Longest wait for the store, ms; then the affected flags fail with `timeout`. */
  lookupTimeoutMs: number;
  /** Matching budget per evaluation (engine/match/match-budget.ts); absent = the engine's default. */
  matchBudget?: number;
  /** Per-node cache of lookups (VEXIL_PERSON_CACHE_SIZE > 0); null = always ask the store. */
  personCache: PersonCache | null;
}

/** Per-request switches from the query, headers and clock. */
export interface RequestOptions {
  runtime: EvaluationRuntime;
  onlySurveyFlags: boolean;
  onlyOverridePersonProperties: boolean;
  now: number;
  log: FastifyBaseLogger;
  /** `detailed_analysis`: explain each flag's conditions (always evaluated with stored data). */
  detailedAnalysis?: boolean;
}

/** The flags to return, in snapshot order, and whether any failed. */
export interface RequestEvaluation {
  flags: FlagResult[];
  /** errorsWhileComputingFlags. */
  errors: boolean;
  /** With `detailedAnalysis`: each flag's condition explanations by key. */
  conditions?: ReadonlyMap<string, ConditionExplanation[]>;
}

/** PostHog prefixes survey-targeting flags with this (`SURVEY_TARGETING_FLAG_PREFIX`, spec §1.2). */
const SURVEY_PREFIX = 'survey-targeting-';

const DESCRIPTIONS: Partial<Record<FlagErrorCode, string>> = {
  database_error: 'Database connection error during evaluation',
  timeout: 'Timeout: store lookup',
  hash_key_override_error: 'Failed to fetch hash key override for experience continuity',
};

class LookupTimeout extends Error {}

/** Shared by every person in no static cohort (most lookups): no Set per request. */
const NO_STATIC_COHORTS: ReadonlySet<number> = new Set();

/**
 * Races a store call against the lookup timeout; a late answer or rejection is ignored. One
 * promise and one timer per lookup (Promise.race and an async wrapper cost four more promises).
 */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LookupTimeout(`store lookup exceeded ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** The same flag, failed with an error code (spec §1.5: enabled false, no variant, no payload). */
function failed(flag: FlagResult, code: FlagErrorCode): FlagResult {
  return {
    ...flag,
    enabled: false,
    variant: null,
    payload: undefined,
    payloadValue: undefined,
    reason: code,
    conditionIndex: null,
    description: DESCRIPTIONS[code] ?? code,
    failed: true,
    inconclusive: false,
  };
}

/** Keys of the active continuity flags, computed once per snapshot. */
function continuityKeys(entry: ProjectEntry): string[] {
  return entry.derive('continuityKeys', (e) => e.snapshot.flags.filter((f) => f.active && f.continuity).map((f) => f.key));
}

function surveyKeys(entry: ProjectEntry): string[] {
  return entry.derive('surveyKeys', (e) => e.snapshot.flags.filter((f) => f.key.startsWith(SURVEY_PREFIX)).map((f) => f.key));
}

function isContinuity(entry: ProjectEntry, key: string): boolean {
  const ordinal = entry.snapshot.ordinalByKey.get(key);
  return ordinal !== undefined && entry.snapshot.flags[ordinal]!.continuity;
}

/** Stored group properties under request overrides (request wins key by key), by group type name. */
function mergeGroups(entry: ProjectEntry, body: FlagsBody, data: EvaluationData | null): Record<string, Properties> {
  if (!data || data.groupProperties.size === 0) return body.groupProperties;
  const merged: Record<string, Properties> = Object.create(null);
  for (const name of Object.keys(body.groups)) {
    const index = entry.snapshot.groupTypeIndexByName.get(name);
    const stored = index === undefined ? undefined : data.groupProperties.get(index);
    const overrides = body.groupProperties[name];
    if (stored || overrides) merged[name] = { ...stored, ...overrides };
  }
  for (const name of Object.keys(body.groupProperties)) merged[name] ??= body.groupProperties[name]!;
  return merged;
}

/** The request's groups the store can look up: known type name, non-empty string or numeric key. */
function groupQuery(entry: ProjectEntry, groups: Record<string, unknown>): { groupTypeIndex: number; groupKey: string }[] {
  const out: { groupTypeIndex: number; groupKey: string }[] = [];
  for (const [name, key] of Object.entries(groups)) {
    const groupTypeIndex = entry.snapshot.groupTypeIndexByName.get(name);
    if (groupTypeIndex === undefined) continue;
    if (typeof key === 'string' && key !== '') out.push({ groupTypeIndex, groupKey: key });
    else if (typeof key === 'number' && Number.isFinite(key)) out.push({ groupTypeIndex, groupKey: JSON.stringify(key) });
  }
  return out;
}

/**
 * Evaluates the request's flags against the project's snapshot. Never throws for store
 * failures; they become failed flags and `errors: true`. Returns the answer itself when the
 * request's own data decides every flag (the common case: no promise, no microtask), and a
 * promise only when stored data must be read or continuity overrides written.
 */
export function evaluateRequest(
  deps: EvaluateDeps,
  entry: ProjectEntry,
  body: FlagsBody,
  distinctId: string,
  opts: RequestOptions,
): RequestEvaluation | Promise<RequestEvaluation> {
  const { snapshot } = entry;
  let flagKeys = body.flagKeys;
  if (opts.onlySurveyFlags) {
    const survey = surveyKeys(entry);
    flagKeys = flagKeys === null ? survey : flagKeys.filter((k) => k.startsWith(SURVEY_PREFIX));
  }
  // An empty top-level device id falls back to a non-empty `person_properties.$device_id`
  // (PostHog `extract_device_id`, spec posthog-newer.md §4).
  const propDevice = body.personProperties?.$device_id;
  const deviceId = body.deviceId ? body.deviceId : typeof propDevice === 'string' && propDevice !== '' ? propDevice : undefined;
  const base: EvaluationContext = {
    distinctId,
    personProperties: buildPersonProperties(null, body.personProperties, distinctId, false),
    groups: body.groups,
    groupProperties: body.groupProperties,
    storedDataLoaded: false,
    staticCohorts: undefined,
    hashKeyOverrides: undefined,
    anonDistinctId: body.anonDistinctId,
    deviceId,
    flagKeys,
    runtime: opts.runtime,
    evaluationContexts: body.evaluationContexts,
    now: opts.now,
    // Every flag is evaluated again once stored data is in, so this pass stops at the first
    // inconclusive flag (a request without properties used to pay for two full passes).
    stopAtInconclusive: true,
    matchBudget: deps.matchBudget,
  };
  // An explanation reads every condition, so it is made from the stored-data pass.
  const first = opts.detailedAnalysis === true || needsStoreAnyway(entry, body, flagKeys, opts) ? STORE_NEEDED : evaluateFlags(snapshot, base);
  const writeOverrides = snapshot.hasContinuityFlags && body.anonDistinctId !== undefined;
  if (!first.inconclusive && !writeOverrides) {
    hotCounters(deps.metrics).fromRequest.inc();
    return finish(first.flags, opts.onlySurveyFlags);
  }
  hotCounters(deps.metrics).fromStore.inc();
  return evaluateWithStoredData(deps, entry, body, distinctId, opts, base, first, writeOverrides);
}

/** The second pass: writes continuity overrides if asked, loads stored data, evaluates again. */
async function evaluateWithStoredData(
  deps: EvaluateDeps,
  entry: ProjectEntry,
  body: FlagsBody,
  distinctId: string,
  opts: RequestOptions,
  base: EvaluationContext,
  first: EvaluationResult,
  writeOverrides: boolean,
): Promise<RequestEvaluation> {
  const { snapshot } = entry;
  const projectId = entry.project.id;
  let overridesFailed = false;
  if (writeOverrides) {
    try {
      const ids = [distinctId, body.anonDistinctId!];
      await withTimeout(deps.store.writeHashKeyOverrides(projectId, ids, body.anonDistinctId!, continuityKeys(entry)), deps.lookupTimeoutMs);
      // Cached lookups of these ids may predate the overrides just written.
      deps.personCache?.invalidate(projectId, ids);
    } catch (err) {
      overridesFailed = true;
      deps.metrics.storeLookups.inc({ result: err instanceof LookupTimeout ? 'timeout' : 'error' });
      opts.log.warn({ err, projectId }, 'hash key override write failed');
    }
  }

  let data: EvaluationData;
  try {
    const query = {
      projectId,
      distinctId,
      groups: groupQuery(entry, body.groups),
      staticCohorts: entry.derive('hasStaticCohorts', (e) => e.snapshot.cohorts.some((c) => c.isStatic)),
      overrideDistinctIds: snapshot.hasContinuityFlags && !overridesFailed
        ? (body.anonDistinctId !== undefined ? [distinctId, body.anonDistinctId] : [distinctId])
        : undefined,
    };
    const load = () => withTimeout(deps.store.loadEvaluationData(query), deps.lookupTimeoutMs);
    data = deps.personCache ? await deps.personCache.getOrLoad(query, load) : await load();
    hotCounters(deps.metrics).lookupOk.inc();
  } catch (err) {
    const timedOut = err instanceof LookupTimeout;
    deps.metrics.storeLookups.inc({ result: timedOut ? 'timeout' : 'error' });
    opts.log.warn({ err, projectId }, 'evaluation data lookup failed; affected flags marked failed');
    // Only the flags that needed stored data fail; the rest keep their first-pass answer (spec §10).
    const complete = first.inconclusive ? evaluateFlags(snapshot, { ...base, stopAtInconclusive: false }) : first;
    const flags = complete.flags.map((f) => {
      if (isContinuity(entry, f.key) && (f.inconclusive || overridesFailed)) return failed(f, 'hash_key_override_error');
      return f.inconclusive ? failed(f, timedOut ? 'timeout' : 'database_error') : f;
    });
    return finish(flags, opts.onlySurveyFlags);
  }

  // Spelled out in base's field order: both passes then share one object shape, which a spread
  // followed by new fields does not give (the spread showed as 2 % of case 3's CPU).
  const ctx: EvaluationContext = {
    distinctId,
    personProperties: buildPersonProperties(opts.onlyOverridePersonProperties ? null : data.personProperties, body.personProperties, distinctId, true),
    groups: base.groups,
    groupProperties: mergeGroups(entry, body, data),
    storedDataLoaded: true,
    staticCohorts: data.staticCohortIds.length === 0 ? NO_STATIC_COHORTS : new Set(data.staticCohortIds),
    hashKeyOverrides: overridesFailed ? undefined : data.hashKeyOverrides,
    anonDistinctId: base.anonDistinctId,
    deviceId: base.deviceId,
    flagKeys: base.flagKeys,
    runtime: base.runtime,
    evaluationContexts: base.evaluationContexts,
    now: base.now,
    stopAtInconclusive: false,
    matchBudget: base.matchBudget,
  };
  const second = evaluateFlags(snapshot, ctx);
  const flags = overridesFailed ? second.flags.map((f) => (isContinuity(entry, f.key) ? failed(f, 'hash_key_override_error') : f)) : second.flags;
  const out = finish(flags, opts.onlySurveyFlags);
  if (opts.detailedAnalysis === true) {
    const explained = explainFlags(snapshot, ctx, out.flags);
    out.conditions = new Map(out.flags.map((f, i) => [f.key, explained[i]!]));
  }
  return out;
}

/** A first pass that was skipped because its answer is known: stored data is needed. */
const STORE_NEEDED: EvaluationResult = Object.freeze({ flags: [], inconclusive: true, errors: false });

const PROBE_ID = 'vexil-id-only-probe';

/**
 * Whether a request that carries no person properties, and asks for every flag, would find some
 * flag inconclusive without stored data: then its first pass only tells what is already known,
 * and the lookup can start at once. Decided once per snapshot and runtime, by evaluating such a
 * request. Answers do not change either way (a conclusive first-pass answer is what the second
 * pass gives); a project whose flags depend on the distinct id can at worst make a lookup that a
 * first pass would have spared.
 */
function needsStoreAnyway(entry: ProjectEntry, body: FlagsBody, flagKeys: readonly string[] | null, opts: RequestOptions): boolean {
  if (flagKeys !== null || opts.onlySurveyFlags || body.evaluationContexts !== null) return false;
  if (body.personProperties !== null && Object.keys(body.personProperties).length > 0) return false;
  return entry.derive(`idOnlyNeedsStore:${opts.runtime}`, (e) =>
    evaluateFlags(e.snapshot, {
      distinctId: PROBE_ID,
      personProperties: buildPersonProperties(null, null, PROBE_ID, false),
      groups: {},
      groupProperties: {},
      storedDataLoaded: false,
      runtime: opts.runtime,
      now: opts.now,
      stopAtInconclusive: true,
    }).inconclusive,
  );
}

function finish(flags: FlagResult[], onlySurvey: boolean): RequestEvaluation {
  // Dependencies of survey flags are evaluated but not returned: only survey flags are asked for.
  const out = onlySurvey ? flags.filter((f) => f.key.startsWith(SURVEY_PREFIX)) : flags;
  return { flags: out, errors: out.some((f) => f.failed) };
}
