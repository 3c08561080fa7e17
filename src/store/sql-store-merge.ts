/**
 * @module store/sql-store-merge
 * $identify, $create_alias and $merge_dangerously (spec §9): linking two distinct ids to one
 * person, merging the other id's person into the distinct_id's person when allowed.
 */
import { withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { MAX_ATTEMPTS, tryCreatePerson } from './sql-store-persons.ts';

/** Input of mergePersons: `distinctId` is the event's id (its person survives), `otherDistinctId` the anon id or alias. */
export interface MergeInput {
  distinctId: string;
  otherDistinctId: string;
  /** $merge_dangerously: merge even when the other person is already identified. */
  force: boolean;
  /** $identify: the surviving person becomes identified. */
  markIdentified: boolean;
}

async function resolve(tx: SqlClient, projectId: number, dids: string[]): Promise<Map<string, string>> {
  const rows = await tx.query<{ distinct_id: string; person_id: string }>(
    'SELECT distinct_id, person_id FROM person_distinct_ids WHERE project_id = $1 AND distinct_id = ANY($2::text[])',
    [projectId, dids],
  );
  return new Map(rows.map((r) => [r.distinct_id, String(r.person_id)]));
}

/** Adds a distinct id to a person; false when another transaction took the id meanwhile. */
async function attach(tx: SqlClient, projectId: number, distinctId: string, personId: string): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO person_distinct_ids (project_id, distinct_id, person_id) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING person_id`,
    [projectId, distinctId, personId],
  );
  return rows.length > 0;
}

async function markIdentified(tx: SqlClient, personId: string, mark: boolean): Promise<void> {
  if (!mark) return;
  await tx.query('UPDATE persons SET is_identified = true, version = version + 1 WHERE id = $1 AND NOT is_identified', [personId]);
}

/**
 * Moves everything of `sourceId` onto `targetId` and deletes the source. On a property key
 * conflict the target (distinct_id's person) wins (spec §9, corrected). Memberships and
 * hash-key overrides the target already has are kept (insert-if-absent).
 */
async function mergeInto(tx: SqlClient, targetId: string, sourceId: string, mark: boolean): Promise<void> {
  await tx.query(
    `UPDATE persons t SET properties = s.properties || t.properties,
       is_identified = t.is_identified OR s.is_identified OR $3,
       created_at = LEAST(t.created_at, s.created_at), version = t.version + 1
     FROM persons s WHERE t.id = $1 AND s.id = $2`,
    [targetId, sourceId, mark],
  );
  await tx.query('UPDATE person_distinct_ids SET person_id = $1 WHERE person_id = $2', [targetId, sourceId]);
  await tx.query(
    `INSERT INTO cohort_people (cohort_id, person_id) SELECT cohort_id, $1 FROM cohort_people WHERE person_id = $2
     ON CONFLICT DO NOTHING`,
    [targetId, sourceId],
  );
  await tx.query(
    `INSERT INTO hash_key_overrides (project_id, person_id, flag_key, hash_key)
     SELECT project_id, $1, flag_key, hash_key FROM hash_key_overrides WHERE person_id = $2
     ON CONFLICT DO NOTHING`,
    [targetId, sourceId],
  );
  await tx.query('DELETE FROM persons WHERE id = $1', [sourceId]);
}

/**
 * One attempt. Persons are locked in id order (no deadlock between two merges), then the
 * distinct-id mapping is read again: if a concurrent merge moved an id meanwhile, the attempt
 * reports false and is retried from a fresh read.
 */
async function tryMerge(tx: SqlClient, projectId: number, m: MergeInput): Promise<boolean> {
  const before = await resolve(tx, projectId, [m.distinctId, m.otherDistinctId]);
  const targetId = before.get(m.distinctId);
  const sourceId = before.get(m.otherDistinctId);
  if (!targetId && !sourceId) {
    return (await tryCreatePerson(tx, projectId, [m.distinctId, m.otherDistinctId], { isIdentified: m.markIdentified })) !== null;
  }
  const wanted = [...new Set([targetId, sourceId].filter((id): id is string => id !== undefined))].sort();
  const locked = await tx.query<{ id: string; is_identified: boolean }>(
    'SELECT id, is_identified FROM persons WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
    [wanted],
  );
  const after = await resolve(tx, projectId, [m.distinctId, m.otherDistinctId]);
  if (locked.length !== wanted.length || after.get(m.distinctId) !== targetId || after.get(m.otherDistinctId) !== sourceId) {
    return false;
  }
  if (targetId && !sourceId) {
    if (!(await attach(tx, projectId, m.otherDistinctId, targetId))) return false;
    await markIdentified(tx, targetId, m.markIdentified);
  } else if (!targetId && sourceId) {
    // The new id joins the anon person, which thereby becomes the distinct_id's person.
    if (!(await attach(tx, projectId, m.distinctId, sourceId))) return false;
    await markIdentified(tx, sourceId, m.markIdentified);
  } else if (targetId && sourceId) {
    const sourceIdentified = locked.find((r) => String(r.id) === sourceId)?.is_identified === true;
    // Merging an identified person is refused unless forced (PostHog: cannot_merge_already_identified).
    if (targetId !== sourceId && (!sourceIdentified || m.force)) await mergeInto(tx, targetId, sourceId, m.markIdentified);
    else await markIdentified(tx, targetId, m.markIdentified);
  }
  return true;
}

/**
 * Links `otherDistinctId` to `distinctId`'s person (spec §9): creates one person with both ids
 * when neither exists, attaches the missing id when one exists, merges when both exist and the
 * other person is not identified (or `force`). One transaction; retried on concurrent changes.
 */
export async function mergePersons(db: SqlDriver, projectId: number, m: MergeInput): Promise<void> {
  await withTransaction(db, async (tx) => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await tryMerge(tx, projectId, m)) return;
    }
    throw new Error(`merge of ${JSON.stringify(m.otherDistinctId)} into ${JSON.stringify(m.distinctId)} kept racing with concurrent writes`);
  });
}
