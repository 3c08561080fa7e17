/**
 * @module store/sql-store-evaluation
 * Reads for evaluation: project definitions for snapshots, and the /flags hot-path lookup of
 * stored person, cohort, group and continuity data, one round trip for a batch of requests.
 */
import type { EvaluationData, EvaluationDataQuery, ProjectDefinitionsRow } from './store.ts';
import type { SqlClient, SqlDriver, SqlRow } from './sql-client.ts';
import { asObject, PROJECT_COLUMNS, toCohort, toFlag, toProject } from './sql-rows.ts';

/**
 * Everything /flags may need for a batch of requests, as one statement (one round trip, one
 * snapshot) answering one row per query, in query order:
 * - `q`: the queries unnested with their position `n`; the person by one primary-key probe on
 *   person_distinct_ids, then persons by primary key;
 * - cohort ids: cohort_people by its person_id index, joined to live cohorts of the project;
 * - groups: every query's (index, key) pairs unnested with their query's `n`, probed on the
 *   groups primary key;
 * - overrides: the override distinct ids with their query's `n` and a position; DISTINCT ON
 *   keeps, per flag key, the row from the earliest position, i.e. the first distinct id's person
 *   wins (spec §6.5).
 * Arrays are aggregated to json so the row shape is fixed whatever the counts. A part no query of
 * the batch needs is a NULL column instead: each part is a subquery run for every row.
 */
function evaluationSql(parts: EvaluationParts): string {
  // Parameters: $1, $2 the queries; then the groups' three arrays and the overrides' two, when used.
  const g = 3;
  const o = parts.groups ? 6 : 3;
  const cohorts = parts.cohorts
    ? `(SELECT json_agg(cp.cohort_id)
     FROM cohort_people cp JOIN cohorts c ON c.id = cp.cohort_id AND c.project_id = q.project_id AND NOT c.deleted
     WHERE cp.person_id = p.id)`
    : 'NULL::json';
  const groups = parts.groups
    ? `(SELECT json_agg(json_build_array(g.group_type_index, g.properties))
     FROM unnest($${g}::int[], $${g + 1}::int[], $${g + 2}::text[]) AS gq(n, idx, gkey)
     JOIN groups g ON g.project_id = q.project_id AND g.group_type_index = gq.idx AND g.group_key = gq.gkey
     WHERE gq.n = q.n)`
    : 'NULL::json';
  const overrides = parts.overrides
    ? `(SELECT json_agg(json_build_array(o.flag_key, o.hash_key)) FROM (
     SELECT DISTINCT ON (h.flag_key) h.flag_key, h.hash_key
     FROM unnest($${o}::int[], $${o + 1}::text[]) WITH ORDINALITY AS oq(n, did, ord)
     JOIN person_distinct_ids d ON d.project_id = q.project_id AND d.distinct_id = oq.did
     JOIN hash_key_overrides h ON h.person_id = d.person_id AND h.project_id = q.project_id
     WHERE oq.n = q.n
     ORDER BY h.flag_key, oq.ord) o)`
    : 'NULL::json';
  return `
SELECT p.properties,
  ${cohorts} AS cohort_ids,
  ${groups} AS groups,
  ${overrides} AS overrides
FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS q(project_id, distinct_id, n)
LEFT JOIN person_distinct_ids d ON d.project_id = q.project_id AND d.distinct_id = q.distinct_id
LEFT JOIN persons p ON p.id = d.person_id
ORDER BY q.n`;
}

interface EvaluationParts {
  cohorts: boolean;
  groups: boolean;
  overrides: boolean;
}

const statements = new Map<number, string>();
function statementFor(parts: EvaluationParts): string {
  const key = (parts.cohorts ? 1 : 0) | (parts.groups ? 2 : 0) | (parts.overrides ? 4 : 0);
  let sql = statements.get(key);
  if (sql === undefined) statements.set(key, (sql = evaluationSql(parts)));
  return sql;
}

interface EvaluationSqlRow {
  properties: Record<string, unknown> | null;
  cohort_ids: number[] | null;
  groups: Array<[number, Record<string, unknown>]> | null;
  overrides: Array<[string, string]> | null;
}

/**
 * See evaluationSql: one answer per query, in order. Never throws for unknown ids: absent data
 * comes back empty.
 */
export async function loadEvaluationDataBatch(db: SqlClient, queries: readonly EvaluationDataQuery[]): Promise<EvaluationData[]> {
  const groupN: number[] = [], groupIndex: number[] = [], groupKey: string[] = [];
  const overrideN: number[] = [], overrideId: string[] = [];
  queries.forEach((q, i) => {
    // `n` of unnest … WITH ORDINALITY counts from 1.
    for (const g of q.groups) {
      groupN.push(i + 1);
      groupIndex.push(g.groupTypeIndex);
      groupKey.push(String(g.groupKey));
    }
    for (const id of q.overrideDistinctIds ?? []) {
      overrideN.push(i + 1);
      overrideId.push(String(id));
    }
  });
  const parts = {
    cohorts: queries.some((q) => q.staticCohorts !== false),
    groups: groupN.length > 0,
    overrides: overrideN.length > 0,
  };
  const params: unknown[] = [queries.map((q) => q.projectId), queries.map((q) => q.distinctId)];
  if (parts.groups) params.push(groupN, groupIndex, groupKey);
  if (parts.overrides) params.push(overrideN, overrideId);
  const rows = await db.query<EvaluationSqlRow>(statementFor(parts), params);
  return rows.map(toEvaluationData);
}

/**
 * Shared by every answer without cohorts, groups or overrides (most of them): a lookup then
 * allocates no collections. Never mutated: EvaluationData is read-only to its users.
 */
const NO_IDS: readonly number[] = Object.freeze([]);
const NO_GROUPS: ReadonlyMap<number, Record<string, unknown>> = new Map();
const NO_OVERRIDES: ReadonlyMap<string, string> = new Map();

function toEvaluationData(row: EvaluationSqlRow): EvaluationData {
  return {
    personProperties: row.properties != null ? asObject(row.properties) : null,
    staticCohortIds: row.cohort_ids == null ? NO_IDS : row.cohort_ids.map(Number),
    groupProperties: row.groups == null ? NO_GROUPS : new Map(row.groups.map(([i, props]) => [Number(i), asObject(props)])),
    hashKeyOverrides: row.overrides == null ? NO_OVERRIDES : new Map(row.overrides.map(([k, h]) => [String(k), String(h)])),
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
 * Project, live flags, live cohorts and group types in one statement: one round trip (this runs
 * on every change, on the writing node and on each node that reloads from the database), and one
 * statement sees one snapshot, so a compiled snapshot never mixes two revisions. Rows travel as
 * JSON (timestamps as ISO text, which the row mappers parse). null when the project does not exist.
 */
export async function loadProjectDefinitions(db: SqlDriver, projectId: number): Promise<ProjectDefinitionsRow | null> {
  const [row] = await db.query<{ defs: { project: SqlRow | null; flags: SqlRow[]; cohorts: SqlRow[]; groupTypes: { i: number; name: string }[] } }>(
    `SELECT json_build_object(
       'project', (SELECT row_to_json(p) FROM (SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1) p),
       'flags', coalesce((SELECT json_agg(f ORDER BY f.id) FROM feature_flags f WHERE f.project_id = $1 AND NOT f.deleted), '[]'),
       'cohorts', coalesce((SELECT json_agg(c ORDER BY c.id) FROM cohorts c WHERE c.project_id = $1 AND NOT c.deleted), '[]'),
       'groupTypes', coalesce((SELECT json_agg(json_build_object('i', g.group_type_index, 'name', g.name) ORDER BY g.group_type_index)
                               FROM group_type_mappings g WHERE g.project_id = $1), '[]')
     ) AS defs`,
    [projectId],
  );
  const defs = typeof row?.defs === 'string' ? (JSON.parse(row.defs) as typeof row.defs) : row?.defs;
  if (!defs?.project) return null;
  return {
    project: toProject(defs.project),
    flags: defs.flags.map(toFlag),
    cohorts: defs.cohorts.map(toCohort),
    groupTypeMapping: Object.fromEntries(defs.groupTypes.map((g) => [Number(g.i), g.name])),
  };
}

/** project id → revision, for every project. */
export async function listProjectRevisions(db: SqlClient): Promise<Map<number, number>> {
  const rows = await db.query<{ id: number; revision: string | number }>('SELECT id, revision FROM projects');
  return new Map(rows.map((r) => [Number(r.id), Number(r.revision)]));
}
