/**
 * @module store/sql-store-import
 * Set-based person upserts: bulk import, and creating persons for unknown distinct ids.
 */
import { randomUUID } from 'node:crypto';
import { jsonText, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { asObject } from './sql-rows.ts';

/** Rows per statement: large enough to amortise round trips, small enough to keep parameters and locks modest. */
export const IMPORT_BATCH_SIZE = 5000;

/**
 * One statement for a whole batch: distinct ids with a person get `properties || new` (when
 * `mergeExisting`), the others get a new person. Parent and child rows are inserted by sibling
 * CTEs; foreign keys are checked at the end of the statement, so that is allowed.
 */
const UPSERT_SQL = `
WITH i AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::uuid[]) AS i(did, props, id)
), e AS (
  SELECT i.did, i.props, d.person_id FROM i
  JOIN person_distinct_ids d ON d.project_id = $1 AND d.distinct_id = i.did
), upd AS (
  UPDATE persons p SET properties = p.properties || e.props::jsonb, version = p.version + 1
  FROM e WHERE $5::boolean AND p.id = e.person_id AND p.project_id = $1
  RETURNING p.id
), n AS (
  SELECT i.* FROM i WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.did = i.did)
), insp AS (
  INSERT INTO persons (id, project_id, properties) SELECT n.id, $1, n.props::jsonb FROM n RETURNING id
), insd AS (
  INSERT INTO person_distinct_ids (project_id, distinct_id, person_id)
  SELECT $1, n.did, n.id FROM n JOIN insp ON insp.id = n.id
  ON CONFLICT DO NOTHING RETURNING person_id
)
SELECT (SELECT count(*) FROM upd)::int AS updated,
       (SELECT count(*) FROM n)::int AS wanted,
       (SELECT count(*) FROM insd)::int AS inserted`;

/**
 * Upserts persons for the given distinct ids (deduplicated by the caller) and returns how many
 * were written. A distinct id claimed concurrently by another transaction leaves its new person
 * without distinct ids; such orphans are removed right away.
 */
export async function upsertPersons(
  tx: SqlClient,
  projectId: number,
  distinctIds: readonly string[],
  propertiesJson: readonly string[],
  mergeExisting: boolean,
): Promise<number> {
  const ids = distinctIds.map(() => randomUUID());
  const [r] = await tx.query<{ updated: number; wanted: number; inserted: number }>(UPSERT_SQL, [
    projectId,
    distinctIds,
    propertiesJson,
    ids,
    mergeExisting,
  ]);
  if (r.inserted < r.wanted) {
    await tx.query(
      `DELETE FROM persons p WHERE p.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM person_distinct_ids d WHERE d.person_id = p.id)`,
      [ids],
    );
  }
  return r.updated + r.inserted;
}

/** Creates empty persons for those of `distinctIds` that have none. */
export async function ensurePersonsForDistinctIds(tx: SqlClient, projectId: number, distinctIds: readonly string[]): Promise<void> {
  await upsertPersons(tx, projectId, distinctIds, distinctIds.map(() => '{}'), false);
}

/**
 * Bulk import: batches of IMPORT_BATCH_SIZE, one transaction each, so a failure keeps the
 * batches before it. Within a batch a repeated distinct id merges its properties (later wins);
 * an existing person gets the imported properties merged over its own. Returns persons written.
 */
export async function importPersons(
  db: SqlDriver,
  projectId: number,
  persons: AsyncIterable<{ distinctId: string; properties: Record<string, unknown> }>,
): Promise<number> {
  let written = 0;
  let batch = new Map<string, Record<string, unknown>>();
  const flush = async (): Promise<void> => {
    if (batch.size === 0) return;
    const dids = [...batch.keys()];
    const props = [...batch.values()].map(jsonText);
    batch = new Map();
    written += await withTransaction(db, (tx) => upsertPersons(tx, projectId, dids, props, true));
  };
  for await (const p of persons) {
    const did = String(p.distinctId);
    const prev = batch.get(did);
    batch.set(did, prev ? { ...prev, ...asObject(p.properties) } : asObject(p.properties));
    if (batch.size >= IMPORT_BATCH_SIZE) await flush();
  }
  await flush();
  return written;
}
