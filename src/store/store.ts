/**
 * @module store/store
 * What Vexil needs from storage. Two backends implement it with the same SQL and migrations:
 * PostgreSQL (production) and PGlite (embedded default). Nothing outside store/ knows which runs.
 */
import type { FlagFiltersDef, Properties } from '../engine/types.ts';

export interface ProjectRow {
  id: number;
  uuid: string;
  name: string;
  /** Public project token `phc_…` (not secret: browsers send it). */
  apiToken: string;
  /** IANA timezone for date filters. */
  timezone: string;
  /** Bumped on every change to the project's flags, cohorts or group types (snapshot invalidation). */
  revision: number;
  createdAt: Date;
}

export interface PersonalApiKeyRow {
  id: string;
  label: string;
  /** e.g. ["*"] or ["feature_flag:read", "cohort:write"]. */
  scopes: string[];
  /** null ⇒ every project. */
  scopedProjects: number[] | null;
  /** First and last four characters of the value (`phx_...abcd`); null for keys made before masks were kept. */
  maskValue: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface FlagRow {
  id: number;
  projectId: number;
  key: string;
  name: string;
  filters: FlagFiltersDef;
  active: boolean;
  deleted: boolean;
  ensureExperienceContinuity: boolean;
  version: number;
  tags: string[];
  evaluationRuntime: string;
  evaluationTags: string[];
  bucketingIdentifier: string | null;
  /** Served only by the remote_config endpoint when its payload is encrypted; never in definitions. */
  isRemoteConfiguration: boolean;
  /** `filters.payloads` values are Fernet tokens (VEXIL_FLAGS_SECRET_KEYS), not plaintext. */
  hasEncryptedPayloads: boolean;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Fields a create or update may set (undefined = leave as is on update). */
export interface FlagWrite {
  key?: string;
  name?: string;
  filters?: FlagFiltersDef;
  active?: boolean;
  deleted?: boolean;
  ensureExperienceContinuity?: boolean;
  tags?: string[];
  evaluationRuntime?: string;
  evaluationTags?: string[];
  bucketingIdentifier?: string | null;
  isRemoteConfiguration?: boolean;
  hasEncryptedPayloads?: boolean;
}

export interface CohortRow {
  id: number;
  projectId: number;
  name: string;
  description: string;
  isStatic: boolean;
  filters: unknown;
  deleted: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface CohortWrite {
  name?: string;
  description?: string;
  isStatic?: boolean;
  filters?: unknown;
  deleted?: boolean;
}

export interface ActivityRow {
  id: number;
  projectId: number;
  scope: 'FeatureFlag' | 'Cohort';
  itemId: number;
  activity: 'created' | 'updated' | 'deleted';
  /** Label of the personal API key (or "system") that made the change. */
  actor: string;
  before: unknown;
  after: unknown;
  createdAt: Date;
}

export interface PersonRow {
  /** UUID. */
  id: string;
  projectId: number;
  properties: Record<string, unknown>;
  isIdentified: boolean;
  distinctIds: string[];
  createdAt: Date;
}

/** Who to add to a static cohort. */
export interface StaticCohortMembers {
  /** Person UUIDs; unknown ones add nothing. */
  personIds?: string[];
  /** Distinct ids; unknown ones get a new person (Vexil's `distinct_ids` extension). */
  distinctIds?: string[];
  /** Distinct ids of existing persons only; unknown ones add nothing (PostHog's CSV upload). */
  knownDistinctIds?: string[];
  /** Persons whose `email` property is one of these; unknown ones add nothing. */
  emails?: string[];
}

/** Filters and page of a persons listing. */
export interface PersonListQuery {
  limit: number;
  offset: number;
  /** Exact match on the `email` property. */
  email?: string;
  /** Case-insensitive substring of the `email` property, or an exact distinct id (PostHog's `search`). */
  search?: string;
  /** Only members of this static cohort (the caller checks that it belongs to the project). */
  cohortId?: number;
}

export interface GroupRow {
  projectId: number;
  groupTypeIndex: number;
  groupKey: string;
  properties: Record<string, unknown>;
  createdAt: Date;
}

/** Everything compileSnapshot needs for one project, read in one consistent transaction. */
export interface ProjectDefinitionsRow {
  project: ProjectRow;
  /** Non-deleted flags, including inactive ones. */
  flags: FlagRow[];
  /** Non-deleted cohorts. */
  cohorts: CohortRow[];
  /** group_type_index → name. */
  groupTypeMapping: Record<number, string>;
}

/** What /flags needs from storage for one request, fetched in one round trip. */
export interface EvaluationDataQuery {
  projectId: number;
  distinctId: string;
  /** Group type index → group key for the request's groups. */
  groups: ReadonlyArray<{ groupTypeIndex: number; groupKey: string }>;
  /** When set, hash-key overrides are read for the persons of these distinct ids (first wins). */
  overrideDistinctIds?: readonly string[];
  /** false: the project has no static cohorts, so membership is not read (staticCohortIds empty). */
  staticCohorts?: boolean;
}

export interface EvaluationData {
  /** null when no person has this distinct id. */
  personProperties: Properties | null;
  /** Static cohorts the person belongs to. */
  staticCohortIds: readonly number[];
  /** Group type index → stored properties (absent when the group is unknown). */
  groupProperties: ReadonlyMap<number, Properties>;
  /** Flag key → hash key; for a flag with overrides on both persons, the first distinct id's wins. */
  hashKeyOverrides: ReadonlyMap<string, string>;
}

/** One person-changing event, already validated (spec §9). */
export interface PersonUpdate {
  distinctId: string;
  set?: Record<string, unknown>;
  setOnce?: Record<string, unknown>;
  unset?: string[];
}

/** Where a usage count came from: /flags answers, or `$feature_flag_called` events. */
export type UsageSource = 'flags' | 'event';

/** Evaluations to add to one (project, flag key, UTC day, source, value) counter. */
export interface FlagUsageIncrement {
  projectId: number;
  flagKey: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  source: UsageSource;
  /** Variant key, or `true` / `false`. */
  value: string;
  count: number;
  lastCalledAt: Date;
}

/** One stored usage counter (as FlagUsageIncrement, totals so far). */
export type FlagUsageRow = Omit<FlagUsageIncrement, 'projectId' | 'flagKey'>;

/** PostHog's ScheduledChange (posthog/models/scheduled_change.py), plus Vexil's recurrence anchor. */
export interface ScheduledChangeRow {
  id: number;
  projectId: number;
  recordId: string;
  modelName: string;
  payload: unknown;
  scheduledAt: Date;
  executedAt: Date | null;
  /** The sentence the API shows, PostHog's `formatted_failure_reason`. */
  failureReason: string | null;
  failureCount: number;
  isRecurring: boolean;
  recurrenceInterval: string | null;
  cronExpression: string | null;
  lastExecutedAt: Date | null;
  endDate: Date | null;
  /** IANA zone the change recurs in, the project's when it was created; null = UTC. */
  timezone: string | null;
  /** The `scheduledAt` a user last set: interval recurrences count from it. Not shown by the API. */
  recurrenceAnchorAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Fields of a new scheduled change. */
export type ScheduledChangeWrite = Pick<
  ScheduledChangeRow,
  'recordId' | 'modelName' | 'payload' | 'scheduledAt' | 'isRecurring' | 'recurrenceInterval' | 'cronExpression' | 'endDate' | 'timezone' | 'createdBy'
>;

/** Fields an edit may change (undefined leaves one as is); a new `scheduledAt` is also the new anchor. */
export type ScheduledChangePatch = Partial<
  Pick<ScheduledChangeRow, 'recordId' | 'payload' | 'scheduledAt' | 'isRecurring' | 'recurrenceInterval' | 'cronExpression' | 'endDate'>
>;

/** What a claimed change is applied to: its flag (null when absent) and the project's live flags and cohorts. */
export interface ScheduledChangeTarget {
  flag: FlagRow | null;
  flags: FlagRow[];
  cohorts: CohortRow[];
}

/**
 * Decides what a claimed change does: the flag write and, for a recurring change, when it runs
 * next (null: done). Pure; throwing records the failure on the change and closes it.
 */
export type ScheduledChangePlan = (change: ScheduledChangeRow, target: ScheduledChangeTarget) => { write: FlagWrite; next: Date | null };

/** What running one due change did. */
export interface ScheduledChangeOutcome {
  change: ScheduledChangeRow;
  /** The flag after the change; null when it failed or was skipped. */
  flag: FlagRow | null;
  /** Why it failed; null when it was applied or skipped. */
  failure: string | null;
  /** True when the change was closed without applying: a recurring change past its end_date. */
  skipped?: boolean;
}

export interface Store {
  /** Applies pending migrations; safe when several nodes call it at once (advisory lock). */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Projects and keys. Secrets arrive already hashed (sha256 hex); tokens are generated by the caller.
  createProject(input: { name: string; apiToken: string; secretTokenHash: string; timezone?: string }): Promise<ProjectRow>;
  listProjects(): Promise<ProjectRow[]>;
  /** Renames and/or moves the project to another time zone; bumps its revision. null if absent. */
  updateProject(id: number, patch: { name?: string; timezone?: string }): Promise<ProjectRow | null>;
  getProject(id: number): Promise<ProjectRow | null>;
  /** Deletes the project and everything in it (flags, cohorts, persons, groups, overrides, activity); false when there is none. */
  deleteProject(id: number): Promise<boolean>;
  getProjectByApiToken(apiToken: string): Promise<ProjectRow | null>;
  /** The project's secret token hash (primary and backup), for `phs_…` authentication. */
  getProjectSecretHashes(projectId: number): Promise<string[]>;
  setProjectSecretHash(projectId: number, secretTokenHash: string): Promise<void>;
  createPersonalApiKey(input: { label: string; keyHash: string; scopes: string[]; scopedProjects: number[] | null; maskValue?: string | null }): Promise<PersonalApiKeyRow>;
  /** Idempotent: inserts the key hash if absent (VEXIL_BOOTSTRAP_KEY). */
  ensurePersonalApiKey(input: { label: string; keyHash: string; scopes: string[]; maskValue?: string | null }): Promise<PersonalApiKeyRow>;
  /** Every personal API key, newest first. */
  listPersonalApiKeys(): Promise<PersonalApiKeyRow[]>;
  /** One key by id; null when there is none (or the id is not a UUID). */
  getPersonalApiKey(id: string): Promise<PersonalApiKeyRow | null>;
  /** Deletes a key by id; false when there is none (or the id is not a UUID). */
  deletePersonalApiKey(id: string): Promise<boolean>;
  getPersonalApiKeyByHash(keyHash: string): Promise<PersonalApiKeyRow | null>;
  /** Sets the key's `last_used_at` to `at` unless it is already within the hour before `at`. */
  markPersonalApiKeyUsed(id: string, at: Date): Promise<void>;
  countPersonalApiKeys(): Promise<number>;
  /**
   * First-start provisioning, once however many nodes start together: under a lock, creates
   * the project — and the personal key, when given and no key exists yet — only if the store
   * has no project. null when the store already had one.
   */
  provisionFirstProject(input: {
    project: { name: string; apiToken: string; secretTokenHash: string };
    personalKey: { label: string; keyHash: string; scopes: string[]; maskValue?: string | null } | null;
  }): Promise<{ project: ProjectRow; personalKeyCreated: boolean } | null>;

  // Flags. Every write bumps the flag's version and the project's revision and writes an activity row, in one transaction.
  listFlags(projectId: number, query: { search?: string; active?: boolean; limit: number; offset: number }): Promise<{ count: number; rows: FlagRow[] }>;
  getFlag(projectId: number, flagId: number): Promise<FlagRow | null>;
  getFlagByKey(projectId: number, key: string): Promise<FlagRow | null>;
  /** Throws VexilError VXL_FLAG_KEY_EXISTS when a non-deleted flag has the key; hard-deletes a soft-deleted one with the same key. */
  createFlag(projectId: number, write: FlagWrite & { key: string }, actor: string): Promise<FlagRow>;
  /** null when the flag does not exist in this project. */
  /**
   * Updates a flag and bumps its version. With `expectedVersion`, the stored version is compared
   * under the row lock, so two writers that read the same version cannot both win: the loser
   * gets VXL_CONFLICT (PostHog's 409) instead of silently overwriting the winner.
   */
  updateFlag(projectId: number, flagId: number, write: FlagWrite, actor: string, expectedVersion?: number): Promise<FlagRow | null>;
  listFlagActivity(projectId: number, flagId: number, query: { limit: number; offset: number }): Promise<{ count: number; rows: ActivityRow[] }>;

  // Cohorts.
  listCohorts(projectId: number, query: { limit: number; offset: number }): Promise<{ count: number; rows: CohortRow[] }>;
  getCohort(projectId: number, cohortId: number): Promise<CohortRow | null>;
  createCohort(projectId: number, write: CohortWrite & { name: string; isStatic: boolean }, actor: string): Promise<CohortRow>;
  updateCohort(projectId: number, cohortId: number, write: CohortWrite, actor: string): Promise<CohortRow | null>;
  /** Adds persons to a static cohort; returns how many were added (see StaticCohortMembers). */
  addStaticCohortMembers(projectId: number, cohortId: number, members: StaticCohortMembers): Promise<number>;
  removeStaticCohortMember(projectId: number, cohortId: number, personId: string): Promise<boolean>;

  // Definitions for snapshots.
  loadProjectDefinitions(projectId: number): Promise<ProjectDefinitionsRow | null>;
  /** Current revision of every project (cheap; used to detect changes when no change bus is available). */
  listProjectRevisions(): Promise<Map<number, number>>;

  // Evaluation-time data (the /flags hot path when the engine is inconclusive).
  loadEvaluationData(query: EvaluationDataQuery): Promise<EvaluationData>;
  /** Experience continuity: insert-if-absent (person, flag key) → hashKey for the persons of the distinct ids. */
  writeHashKeyOverrides(projectId: number, distinctIds: readonly string[], hashKey: string, flagKeys: readonly string[]): Promise<void>;

  // Persons and groups (ingestion, issue 4).
  getGroupTypeMapping(projectId: number): Promise<Record<number, string>>;
  /** Lowest free index 0–4 for a new name; null when all five are taken. Bumps the project revision when it adds one. */
  ensureGroupTypeIndex(projectId: number, groupTypeName: string): Promise<number | null>;
  applyPersonUpdates(projectId: number, updates: readonly PersonUpdate[]): Promise<void>;
  /** $identify / $create_alias / $merge_dangerously (spec §9). */
  mergePersons(projectId: number, input: { distinctId: string; otherDistinctId: string; force: boolean; markIdentified: boolean }): Promise<void>;
  upsertGroup(projectId: number, groupTypeIndex: number, groupKey: string, set: Record<string, unknown>): Promise<void>;
  getPersonByDistinctId(projectId: number, distinctId: string): Promise<PersonRow | null>;
  /** One page of the project's persons, newest first (created_at, then id, descending). */
  listPersons(projectId: number, query: PersonListQuery): Promise<PersonRow[]>;
  deletePerson(projectId: number, personId: string): Promise<boolean>;
  getGroup(projectId: number, groupTypeIndex: number, groupKey: string): Promise<GroupRow | null>;
  /** Bulk import; returns persons written. */
  importPersons(projectId: number, persons: AsyncIterable<{ distinctId: string; properties: Record<string, unknown> }>): Promise<number>;

  // Usage (issue 18).
  /** Adds the counts in one statement (rows with the same key are summed). */
  recordFlagUsage(rows: readonly FlagUsageIncrement[]): Promise<void>;
  /** The flag key's counters from `sinceDay` (`YYYY-MM-DD`, inclusive), oldest first. */
  listFlagUsage(projectId: number, flagKey: string, sinceDay: string): Promise<FlagUsageRow[]>;
  /** Latest evaluation or `$feature_flag_called` time per flag key (keys never called are absent). */
  flagsLastCalledAt(projectId: number, flagKeys: readonly string[]): Promise<Map<string, Date>>;

  // Scheduled changes (issue 18).
  createScheduledChange(projectId: number, write: ScheduledChangeWrite): Promise<ScheduledChangeRow>;
  listScheduledChanges(projectId: number, query: { recordId?: string; modelName?: string; limit: number; offset: number }): Promise<{ count: number; rows: ScheduledChangeRow[] }>;
  getScheduledChange(projectId: number, id: number): Promise<ScheduledChangeRow | null>;
  deleteScheduledChange(projectId: number, id: number): Promise<boolean>;
  /**
   * Edits a change under its row lock: `decide` sees the current row and returns the fields to
   * change, or throws (nothing is written). null when the change does not exist.
   */
  updateScheduledChange(projectId: number, id: number, decide: (current: ScheduledChangeRow) => ScheduledChangePatch): Promise<ScheduledChangeRow | null>;
  /**
   * Claims the earliest change due at `now` that no other node holds (FOR UPDATE SKIP LOCKED;
   * paused recurring changes are never due) and, in that same transaction, applies `plan`'s
   * flag write (activity logged as `scheduled change #id`) and marks it executed or moves it to
   * its next occurrence. A recurring change whose end_date has passed is closed unapplied. null
   * when nothing is due. A `plan` that throws closes the change with the reason; when the
   * transaction itself fails (database error) the failure is counted and the change retried on
   * later runs, up to 5 failures, after which it is closed with its failure_reason.
   */
  runDueScheduledChange(now: Date, plan: ScheduledChangePlan): Promise<ScheduledChangeOutcome | null>;
}
