/**
 * @module store/sql-store-cohorts
 * Cohorts (dynamic and static) and static membership. Definition writes bump the project
 * revision; membership changes do not, because snapshots never contain members.
 */
import { VexilError } from '../errors.ts';
import type { CohortRow, CohortWrite, StaticCohortMembers } from './store.ts';
import { isUuid, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { toCohort } from './sql-rows.ts';
import { ensurePersonsForDistinctIds } from './sql-store-import.ts';
import { bumpRevision } from './sql-store-projects.ts';
import { assignments, insertActivity, type ColumnMap } from './sql-write.ts';

const COHORT_COLUMNS: ColumnMap<CohortWrite> = [
  ['name', 'name', 'plain'],
  ['description', 'description', 'plain'],
  ['isStatic', 'is_static', 'plain'],
  ['filters', 'filters', 'json'],
  ['deleted', 'deleted', 'plain'],
];

const validId = (id: number): boolean => Number.isSafeInteger(id) && id > 0 && id <= 2 ** 31 - 1;

/** Non-deleted cohorts, newest first, with the total count. */
export async function listCohorts(
  db: SqlClient,
  projectId: number,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: CohortRow[] }> {
  const [c] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cohorts WHERE project_id = $1 AND NOT deleted', [projectId]);
  const rows = await db.query(
    'SELECT * FROM cohorts WHERE project_id = $1 AND NOT deleted ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3',
    [projectId, page.limit, page.offset],
  );
  return { count: Number(c?.n ?? 0), rows: rows.map(toCohort) };
}

/** A cohort of this project, deleted or not. */
export async function getCohort(db: SqlClient, projectId: number, cohortId: number): Promise<CohortRow | null> {
  if (!validId(cohortId)) return null;
  const [row] = await db.query('SELECT * FROM cohorts WHERE project_id = $1 AND id = $2', [projectId, cohortId]);
  return row ? toCohort(row) : null;
}

export async function createCohort(
  db: SqlDriver,
  projectId: number,
  write: CohortWrite & { name: string; isStatic: boolean },
  actor: string,
): Promise<CohortRow> {
  return withTransaction(db, async (tx) => {
    const a = assignments(write, COHORT_COLUMNS, 3);
    const [row] = await tx.query(
      `INSERT INTO cohorts (project_id, created_by${a.columns.map((c) => `, ${c}`).join('')})
       VALUES ($1, $2${a.placeholders.map((p) => `, ${p}`).join('')}) RETURNING *`,
      [projectId, actor, ...a.params],
    );
    const cohort = toCohort(row);
    await insertActivity(tx, { projectId, scope: 'Cohort', itemId: cohort.id, activity: 'created', actor, before: null, after: cohort });
    await bumpRevision(tx, projectId);
    return cohort;
  });
}

/** Applies the defined fields, bumps version and revision, logs before/after; null when absent. */
export async function updateCohort(
  db: SqlDriver,
  projectId: number,
  cohortId: number,
  write: CohortWrite,
  actor: string,
): Promise<CohortRow | null> {
  if (!validId(cohortId)) return null;
  return withTransaction(db, async (tx) => {
    const [old] = await tx.query('SELECT * FROM cohorts WHERE project_id = $1 AND id = $2 FOR UPDATE', [projectId, cohortId]);
    if (!old) return null;
    const before = toCohort(old);
    const a = assignments(write, COHORT_COLUMNS, 3);
    const sets = a.columns.map((c, i) => `${c} = ${a.placeholders[i]}`);
    const [row] = await tx.query(
      `UPDATE cohorts SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
       WHERE project_id = $1 AND id = $2 RETURNING *`,
      [projectId, cohortId, ...a.params],
    );
    const after = toCohort(row);
    const activity = after.deleted && !before.deleted ? 'deleted' : 'updated';
    await insertActivity(tx, { projectId, scope: 'Cohort', itemId: cohortId, activity, actor, before, after });
    await bumpRevision(tx, projectId);
    return after;
  });
}

/** Throws unless the cohort exists in this project and is static. */
async function requireStaticCohort(tx: SqlClient, projectId: number, cohortId: number): Promise<void> {
  const [row] = validId(cohortId)
    ? await tx.query<{ is_static: boolean }>('SELECT is_static FROM cohorts WHERE project_id = $1 AND id = $2', [projectId, cohortId])
    : [];
  if (!row) throw new VexilError('VXL_NOT_FOUND', { message: `Cohort ${cohortId} does not exist.` });
  if (!row.is_static) throw new VexilError('VXL_VALIDATION', { message: `Cohort ${cohortId} is not static.`, attr: 'is_static' });
}

/**
 * Adds members by person UUID (only persons of this project; others are ignored) and by
 * distinct id (persons are created for unknown ones). Returns how many memberships are new.
 */
export async function addStaticCohortMembers(
  db: SqlDriver,
  projectId: number,
  cohortId: number,
  members: StaticCohortMembers,
): Promise<number> {
  const personIds = [...new Set((members.personIds ?? []).filter(isUuid))];
  const created = [...new Set((members.distinctIds ?? []).map(String))];
  const distinctIds = [...new Set([...created, ...(members.knownDistinctIds ?? []).map(String)])];
  const emails = [...new Set((members.emails ?? []).map(String))];
  return withTransaction(db, async (tx) => {
    await requireStaticCohort(tx, projectId, cohortId);
    if (created.length) await ensurePersonsForDistinctIds(tx, projectId, created);
    // Emails are matched by scanning the project's persons, so only when some are given.
    const byEmail = emails.length
      ? `UNION
       SELECT $2::int, p.id FROM persons p WHERE p.project_id = $1 AND p.properties->>'email' = ANY($5::text[])`
      : '';
    const added = await tx.query(
      `INSERT INTO cohort_people (cohort_id, person_id)
       SELECT $2::int, d.person_id FROM person_distinct_ids d WHERE d.project_id = $1 AND d.distinct_id = ANY($3::text[])
       UNION
       SELECT $2::int, p.id FROM persons p WHERE p.project_id = $1 AND p.id = ANY($4::uuid[])
       ${byEmail}
       ON CONFLICT DO NOTHING RETURNING person_id`,
      emails.length ? [projectId, cohortId, distinctIds, personIds, emails] : [projectId, cohortId, distinctIds, personIds],
    );
    return added.length;
  });
}

/** Removes one member by person UUID; false when it was not a member (or ids are foreign). */
export async function removeStaticCohortMember(
  db: SqlClient,
  projectId: number,
  cohortId: number,
  personId: string,
): Promise<boolean> {
  if (!isUuid(personId) || !validId(cohortId)) return false;
  const rows = await db.query(
    `DELETE FROM cohort_people cp USING cohorts c
     WHERE cp.cohort_id = $2 AND cp.person_id = $3 AND c.id = cp.cohort_id AND c.project_id = $1
     RETURNING cp.person_id`,
    [projectId, cohortId, personId],
  );
  return rows.length > 0;
}
