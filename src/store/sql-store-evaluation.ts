/**
 * @module store/sql-store-evaluation
 * Reads for evaluation: project definitions for snapshots, and the /flags hot-path lookup of
 * stored person, cohort, group and continuity data in one round trip.
 */
import type { EvaluationData, EvaluationDataQuery, ProjectDefinitionsRow } from './store.ts';
import type { SqlClient, SqlDriver } from './sql-client.ts';
import { asObject, PROJECT_COLUMNS, toCohort, toFlag, toProject } from './sql-rows.ts';
import { getGroupTypeMapping } from './sql-store-groups.ts';

/**
 * Everything /flags may need, as one row of one statement (so one round trip, one snapshot):
 * - `person`: one primary-key probe on person_distinct_ids, then persons by primary key;
 * - cohort ids: cohort_people by its person_id index, joined to live cohorts of the project;
 * - groups: the request's (index, key) pairs unnested and probed on the groups primary key;
 * - overrides: the override distinct ids with their position; DISTINCT ON keeps, per flag key,
 *   the row from the earliest position, i.e. the first distinct id's person wins (spec §6.5).
 * Arrays are aggregated to json so the row shape is fixed whatever the counts.
 */
const EVALUATION_SQL = `
WITH person AS (
  SELECT p.id, p.properties, p.created_at
  FROM person_distinct_ids d JOIN persons p ON p.id = d.person_id
  WHERE d.project_id = $1 AND d.distinct_id = $2
)
SELECT
  (SELECT properties FROM person) AS properties,
  (SELECT created_at FROM person) AS created_at,
  (SELECT json_agg(cp.cohort_id)
     FROM person JOIN cohort_people cp ON cp.person_id = person.id
     JOIN cohorts c ON c.id = cp.cohort_id AND c.project_id = $1 AND NOT c.deleted) AS cohort_ids,
  (SELECT json_agg(json_build_array(g.group_type_index, g.properties))
     FROM unnest($3::int[], $4::text[]) AS r(idx, gkey)
     JOIN groups g ON g.project_id = $1 AND g.group_type_index = r.idx AND g.group_key = r.gkey) AS groups,
  (SELECT json_agg(json_build_array(o.flag_key, o.hash_key)) FROM (
     SELECT DISTINCT ON (h.flag_key) h.flag_key, h.hash_key
     FROM unnest($5::text[]) WITH ORDINALITY AS r(did, ord)
     JOIN person_distinct_ids d ON d.project_id = $1 AND d.distinct_id = r.did
     JOIN hash_key_overrides h ON h.person_id = d.person_id AND h.project_id = $1
     ORDER BY h.flag_key, r.ord) o) AS overrides`;

interface EvaluationSqlRow {
  properties: Record<string, unknown> | null;
  created_at: Date | string | null;
  cohort_ids: number[] | null;
  groups: Array<[number, Record<string, unknown>]> | null;
  overrides: Array<[string, string]> | null;
}

/** See EVALUATION_SQL. Never throws for unknown ids: absent data comes back empty. */
export async function loadEvaluationData(db: SqlClient, q: EvaluationDataQuery): Promise<EvaluationData> {
  const [row] = await db.query<EvaluationSqlRow>(EVALUATION_SQL, [
    q.projectId,
    q.distinctId,
    q.groups.map((g) => g.groupTypeIndex),
    q.groups.map((g) => String(g.groupKey)),
    (q.overrideDistinctIds ?? []).map(String),
  ]);
  const found = row?.properties != null;
  return {
    personProperties: found ? asObject(row.properties) : null,
    personCreatedAt: found && row.created_at != null ? new Date(row.created_at) : null,
    staticCohortIds: (row?.cohort_ids ?? []).map(Number),
    groupProperties: new Map((row?.groups ?? []).map(([i, props]) => [Number(i), asObject(props)])),
    hashKeyOverrides: new Map((row?.overrides ?? []).map(([k, h]) => [String(k), String(h)])),
  };
}

/** Insert-if-absent (person, flag) → hashKey for the existing persons of `distinctIds` (spec §6.5 step 1). */
export async function writeHashKeyOverrides(
  db: SqlClient,
  projectId: number,
  distinctIds: readonly string[],
  hashKey: string,
  flagKeys: readonly string[],
): Promise<void> {
  if (distinctIds.length === 0 || flagKeys.length === 0) return;
  await db.query(
    `INSERT INTO hash_key_overrides (project_id, person_id, flag_key, hash_key)
     SELECT DISTINCT $1::int, d.person_id, f.key, $3
     FROM person_distinct_ids d CROSS JOIN unnest($4::text[]) AS f(key)
     WHERE d.project_id = $1 AND d.distinct_id = ANY($2::text[])
     ON CONFLICT DO NOTHING`,
    [projectId, distinctIds.map(String), hashKey, flagKeys.map(String)],
  );
}

/**
 * Project, live flags, live cohorts and group types from one REPEATABLE READ snapshot, so a
 * compiled snapshot never mixes two revisions. null when the project does not exist.
 */
export async function loadProjectDefinitions(db: SqlDriver, projectId: number): Promise<ProjectDefinitionsRow | null> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const [project] = await tx.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [projectId]);
    if (!project) return null;
    const flags = await tx.query('SELECT * FROM feature_flags WHERE project_id = $1 AND NOT deleted ORDER BY id', [projectId]);
    const cohorts = await tx.query('SELECT * FROM cohorts WHERE project_id = $1 AND NOT deleted ORDER BY id', [projectId]);
    return {
      project: toProject(project),
      flags: flags.map(toFlag),
      cohorts: cohorts.map(toCohort),
      groupTypeMapping: await getGroupTypeMapping(tx, projectId),
    };
  });
}

/** project id → revision, for every project. */
export async function listProjectRevisions(db: SqlClient): Promise<Map<number, number>> {
  const rows = await db.query<{ id: number; revision: string | number }>('SELECT id, revision FROM projects');
  return new Map(rows.map((r) => [Number(r.id), Number(r.revision)]));
}
