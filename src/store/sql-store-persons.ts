/**
 * @module store/sql-store-persons
 * Person property updates ($set_once, $set, $unset; spec §9), person reads and deletion.
 */
import { randomUUID } from 'node:crypto';
import type { PersonListQuery, PersonRow, PersonUpdate } from './store.ts';
import { isUuid, jsonText, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { asObject, toPerson } from './sql-rows.ts';

/** How often one step is retried when a concurrent merge or create moves the ground under it. */
export const MAX_ATTEMPTS = 8;

/**
 * The property expression of spec §9, in one place: `$set_once` only fills absent keys (the
 * existing object wins in `||`), then `$set` overwrites, then `$unset` removes. $3 = set_once,
 * $4 = set (JSON text), $5 = unset keys.
 */
const APPLY = (current: string): string => `(($3::text::jsonb || ${current}) || $4::text::jsonb) - $5::text[]`;

/** One UPDATE (row-locked, atomic) on the person the distinct id points to at this instant. */
const UPDATE_SQL = `
UPDATE persons p SET properties = ${APPLY('p.properties')}, version = p.version + 1
FROM person_distinct_ids d
WHERE d.project_id = $1 AND d.distinct_id = $2 AND p.id = d.person_id
RETURNING p.id`;

/** New person with the update applied to `{}`, plus its distinct ids; conflicts are detected, not raised. */
const CREATE_SQL = `
WITH p AS (
  INSERT INTO persons (id, project_id, properties, is_identified)
  VALUES ($2::uuid, $1, ${APPLY(`'{}'::jsonb`)}, $6) RETURNING id
)
INSERT INTO person_distinct_ids (project_id, distinct_id, person_id)
SELECT $1, did, p.id FROM p, unnest($7::text[]) AS did
ON CONFLICT DO NOTHING RETURNING distinct_id`;

interface Changes {
  setOnce: string;
  set: string;
  unset: string[];
}

const NO_CHANGES: Changes = { setOnce: '{}', set: '{}', unset: [] };

function changesOf(u: PersonUpdate): Changes {
  return { setOnce: jsonText(asObject(u.setOnce)), set: jsonText(asObject(u.set)), unset: (u.unset ?? []).map(String) };
}

/**
 * Creates a person owning all of `distinctIds`, or returns null (leaving nothing behind) when
 * another transaction claimed one of them first; the caller then re-reads and retries.
 */
export async function tryCreatePerson(
  tx: SqlClient,
  projectId: number,
  distinctIds: readonly string[],
  opts: { changes?: Changes; isIdentified?: boolean } = {},
): Promise<string | null> {
  const c = opts.changes ?? NO_CHANGES;
  const id = randomUUID();
  const ids = [...new Set(distinctIds)];
  const rows = await tx.query(CREATE_SQL, [projectId, id, c.setOnce, c.set, c.unset, opts.isIdentified ?? false, ids]);
  if (rows.length === ids.length) return id;
  await tx.query('DELETE FROM persons WHERE id = $1', [id]);
  return null;
}

async function applyOne(tx: SqlClient, projectId: number, u: PersonUpdate): Promise<void> {
  const c = changesOf(u);
  const hasChanges = c.setOnce !== '{}' || c.set !== '{}' || c.unset.length > 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const found = hasChanges
      ? await tx.query(UPDATE_SQL, [projectId, u.distinctId, c.setOnce, c.set, c.unset])
      : await tx.query('SELECT person_id FROM person_distinct_ids WHERE project_id = $1 AND distinct_id = $2', [projectId, u.distinctId]);
    if (found.length > 0) return;
    if (await tryCreatePerson(tx, projectId, [u.distinctId], { changes: c })) return;
  }
  throw new Error(`person update for distinct id ${JSON.stringify(u.distinctId)} kept racing with concurrent writes`);
}

/**
 * Applies the updates in order, in one transaction (all or nothing, so a retried batch starts
 * from the same state). Each creates its person if absent. Reapplying a batch is harmless:
 * $set and $unset are idempotent and $set_once never overwrites.
 */
export async function applyPersonUpdates(db: SqlDriver, projectId: number, updates: readonly PersonUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await withTransaction(db, async (tx) => {
    for (const u of updates) await applyOne(tx, projectId, u);
  });
}

/** The person with this distinct id, with all its distinct ids (sorted). */
export async function getPersonByDistinctId(db: SqlClient, projectId: number, distinctId: string): Promise<PersonRow | null> {
  const [row] = await db.query(
    `SELECT p.*, ARRAY(SELECT d2.distinct_id FROM person_distinct_ids d2 WHERE d2.person_id = p.id ORDER BY d2.distinct_id) AS distinct_ids
     FROM person_distinct_ids d JOIN persons p ON p.id = d.person_id
     WHERE d.project_id = $1 AND d.distinct_id = $2`,
    [projectId, distinctId],
  );
  return row ? toPerson(row) : null;
}

/** A LIKE pattern matching `text` anywhere, with LIKE's own characters taken literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of the project's persons, newest first; see Store.listPersons. */
export async function listPersons(db: SqlClient, projectId: number, q: PersonListQuery): Promise<PersonRow[]> {
  const params: unknown[] = [projectId];
  const where = ['p.project_id = $1'];
  if (q.email !== undefined) {
    params.push(q.email);
    where.push(`p.properties->>'email' = $${params.length}`);
  }
  if (q.search !== undefined) {
    params.push(containsPattern(q.search), q.search);
    const [pattern, id] = [params.length - 1, params.length];
    where.push(`(p.properties->>'email' ILIKE $${pattern}
      OR EXISTS (SELECT 1 FROM person_distinct_ids s WHERE s.project_id = $1 AND s.distinct_id = $${id} AND s.person_id = p.id))`);
  }
  if (q.cohortId !== undefined) {
    params.push(q.cohortId);
    where.push(`EXISTS (SELECT 1 FROM cohort_people c WHERE c.cohort_id = $${params.length} AND c.person_id = p.id)`);
  }
  params.push(q.limit, q.offset);
  const rows = await db.query(
    `SELECT p.*, ARRAY(SELECT d.distinct_id FROM person_distinct_ids d WHERE d.person_id = p.id ORDER BY d.distinct_id) AS distinct_ids
     FROM persons p
     WHERE ${where.join(' AND ')}
     ORDER BY p.created_at DESC, p.id DESC
     LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return rows.map(toPerson);
}

/** Deletes the person; distinct ids, hash-key overrides and cohort memberships go with it (FK cascade). */
export async function deletePerson(db: SqlClient, projectId: number, personId: string): Promise<boolean> {
  if (!isUuid(personId)) return false;
  const rows = await db.query('DELETE FROM persons WHERE project_id = $1 AND id = $2 RETURNING id', [projectId, personId]);
  return rows.length > 0;
}
