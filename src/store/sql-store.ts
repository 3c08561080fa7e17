/**
 * @module store/sql-store
 * The one SQL implementation of Store, over a SqlDriver that PostgreSQL and PGlite both provide.
 * Each method delegates to the module of its noun (sql-store-flags.ts, sql-store-persons.ts, …).
 */
import { VexilError } from '../errors.ts';
import type { EvaluationDataQuery, Store } from './store.ts';
import type { SqlDriver } from './sql-client.ts';
import { runMigrations } from './migrate.ts';
import * as projects from './sql-store-projects.ts';
import * as flags from './sql-store-flags.ts';
import * as cohorts from './sql-store-cohorts.ts';
import * as persons from './sql-store-persons.ts';
import * as merge from './sql-store-merge.ts';
import * as groups from './sql-store-groups.ts';
import * as evaluation from './sql-store-evaluation.ts';
import * as bulk from './sql-store-import.ts';
import * as usage from './sql-store-usage.ts';
import * as schedules from './sql-store-schedules.ts';
import { batchPerTurn } from './turn-batch.ts';

type P<K extends keyof Store> = Parameters<Store[K]>;

/**
 * /flags lookups: at most 64 in one statement, and at most 2 statements at once per process;
 * lookups made meanwhile wait for the next statement (see turn-batch.ts). A statement not
 * answered in 10 s fails and frees its place (callers give up sooner: VEXIL_LOOKUP_TIMEOUT_MS;
 * on PostgreSQL the driver's deadline, VEXIL_DB_TIMEOUT_MS, ends it sooner still and fails the
 * next ones at once while the database is down); beyond 20,000 waiting lookups a lookup fails at once.
 */
const EVALUATION_BATCHES = { maxBatch: 64, maxInFlight: 2, batchTimeoutMs: 10_000, maxPending: 20_000 };

/**
 * Store over SQL. Construct with a driver whose connections already use `schema` as their
 * search_path (when given); `migrate()` creates that schema.
 */
export class SqlStore implements Store {
  readonly #db: SqlDriver;
  readonly #schema: string | undefined;

  constructor(db: SqlDriver, options: { schema?: string } = {}) {
    this.#db = db;
    this.#schema = options.schema;
  }

  async migrate(): Promise<void> {
    await runMigrations(this.#db, this.#schema);
  }

  /** Throws VXL_STORE_UNAVAILABLE (with the driver error as cause) when the database does not answer. */
  async ping(): Promise<void> {
    try {
      await this.#db.query('SELECT 1 AS ok');
    } catch (cause) {
      throw new VexilError('VXL_STORE_UNAVAILABLE', { cause });
    }
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  createProject = (...a: P<'createProject'>) => projects.createProject(this.#db, ...a);
  listProjects = () => projects.listProjects(this.#db);
  updateProject = (...a: P<'updateProject'>) => projects.updateProject(this.#db, ...a);
  getProject = (...a: P<'getProject'>) => projects.getProject(this.#db, ...a);
  deleteProject = (...a: P<'deleteProject'>) => projects.deleteProject(this.#db, ...a);
  getProjectByApiToken = (...a: P<'getProjectByApiToken'>) => projects.getProjectByApiToken(this.#db, ...a);
  getProjectSecretHashes = (...a: P<'getProjectSecretHashes'>) => projects.getProjectSecretHashes(this.#db, ...a);
  setProjectSecretHash = (...a: P<'setProjectSecretHash'>) => projects.setProjectSecretHash(this.#db, ...a);
  createPersonalApiKey = (...a: P<'createPersonalApiKey'>) => projects.createPersonalApiKey(this.#db, ...a);
  ensurePersonalApiKey = (...a: P<'ensurePersonalApiKey'>) => projects.ensurePersonalApiKey(this.#db, ...a);
  getPersonalApiKeyByHash = (...a: P<'getPersonalApiKeyByHash'>) => projects.getPersonalApiKeyByHash(this.#db, ...a);
  countPersonalApiKeys = () => projects.countPersonalApiKeys(this.#db);
  listPersonalApiKeys = () => projects.listPersonalApiKeys(this.#db);
  getPersonalApiKey = (...a: P<'getPersonalApiKey'>) => projects.getPersonalApiKey(this.#db, ...a);
  deletePersonalApiKey = (...a: P<'deletePersonalApiKey'>) => projects.deletePersonalApiKey(this.#db, ...a);
  markPersonalApiKeyUsed = (...a: P<'markPersonalApiKeyUsed'>) => projects.markPersonalApiKeyUsed(this.#db, ...a);
  provisionFirstProject = (...a: P<'provisionFirstProject'>) => projects.provisionFirstProject(this.#db, ...a);

  listFlags = (...a: P<'listFlags'>) => flags.listFlags(this.#db, ...a);
  getFlag = (...a: P<'getFlag'>) => flags.getFlag(this.#db, ...a);
  getFlagByKey = (...a: P<'getFlagByKey'>) => flags.getFlagByKey(this.#db, ...a);
  createFlag = (...a: P<'createFlag'>) => flags.createFlag(this.#db, ...a);
  updateFlag = (...a: P<'updateFlag'>) => flags.updateFlag(this.#db, ...a);
  listFlagActivity = (...a: P<'listFlagActivity'>) => flags.listFlagActivity(this.#db, ...a);

  listCohorts = (...a: P<'listCohorts'>) => cohorts.listCohorts(this.#db, ...a);
  getCohort = (...a: P<'getCohort'>) => cohorts.getCohort(this.#db, ...a);
  createCohort = (...a: P<'createCohort'>) => cohorts.createCohort(this.#db, ...a);
  updateCohort = (...a: P<'updateCohort'>) => cohorts.updateCohort(this.#db, ...a);
  addStaticCohortMembers = (...a: P<'addStaticCohortMembers'>) => cohorts.addStaticCohortMembers(this.#db, ...a);
  removeStaticCohortMember = (...a: P<'removeStaticCohortMember'>) => cohorts.removeStaticCohortMember(this.#db, ...a);

  loadProjectDefinitions = (...a: P<'loadProjectDefinitions'>) => evaluation.loadProjectDefinitions(this.#db, ...a);
  listProjectRevisions = () => evaluation.listProjectRevisions(this.#db);
  // Lookups of one event-loop turn share a statement (see turn-batch.ts).
  loadEvaluationData = batchPerTurn((queries: EvaluationDataQuery[]) => evaluation.loadEvaluationDataBatch(this.#db, queries), EVALUATION_BATCHES);
  writeHashKeyOverrides = (...a: P<'writeHashKeyOverrides'>) => evaluation.writeHashKeyOverrides(this.#db, ...a);

  getGroupTypeMapping = (...a: P<'getGroupTypeMapping'>) => groups.getGroupTypeMapping(this.#db, ...a);
  ensureGroupTypeIndex = (...a: P<'ensureGroupTypeIndex'>) => groups.ensureGroupTypeIndex(this.#db, ...a);
  upsertGroup = (...a: P<'upsertGroup'>) => groups.upsertGroup(this.#db, ...a);
  getGroup = (...a: P<'getGroup'>) => groups.getGroup(this.#db, ...a);

  applyPersonUpdates = (...a: P<'applyPersonUpdates'>) => persons.applyPersonUpdates(this.#db, ...a);
  mergePersons = (...a: P<'mergePersons'>) => merge.mergePersons(this.#db, ...a);
  getPersonByDistinctId = (...a: P<'getPersonByDistinctId'>) => persons.getPersonByDistinctId(this.#db, ...a);
  listPersons = (...a: P<'listPersons'>) => persons.listPersons(this.#db, ...a);
  deletePerson = (...a: P<'deletePerson'>) => persons.deletePerson(this.#db, ...a);
  importPersons = (...a: P<'importPersons'>) => bulk.importPersons(this.#db, ...a);

  recordFlagUsage = (...a: P<'recordFlagUsage'>) => usage.recordFlagUsage(this.#db, ...a);
  listFlagUsage = (...a: P<'listFlagUsage'>) => usage.listFlagUsage(this.#db, ...a);
  flagsLastCalledAt = (...a: P<'flagsLastCalledAt'>) => usage.flagsLastCalledAt(this.#db, ...a);

  createScheduledChange = (...a: P<'createScheduledChange'>) => schedules.createScheduledChange(this.#db, ...a);
  listScheduledChanges = (...a: P<'listScheduledChanges'>) => schedules.listScheduledChanges(this.#db, ...a);
  getScheduledChange = (...a: P<'getScheduledChange'>) => schedules.getScheduledChange(this.#db, ...a);
  deleteScheduledChange = (...a: P<'deleteScheduledChange'>) => schedules.deleteScheduledChange(this.#db, ...a);
  updateScheduledChange = (...a: P<'updateScheduledChange'>) => schedules.updateScheduledChange(this.#db, ...a);
  runDueScheduledChange = (...a: P<'runDueScheduledChange'>) => schedules.runDueScheduledChange(this.#db, ...a);
}
