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
 * `mergeExisting`), the others get a new person. Each input row finds its current person with a
 * scalar subquery, i.e. one primary-key probe per row whatever the statistics say: as a join,
 * a freshly grown table was planned as a hash join over all the project's distinct ids, which
 * made an import quadratic. The persons rows and their distinct ids are inserted by sibling
 * CTEs; foreign keys are checked at the end of the statement, so that is allowed.
 */
const UPSERT_SQL = `
WITH i AS MATERIALIZED (
  SELECT i.did, i.props, i.id,
    (SELECT d.person_id FROM person_distinct_ids d WHERE d.project_id = $1 AND d.distinct_id = i.did) AS person_id
  FROM unnest($2::text[], $3::text[], $4::uuid[]) AS i(did, props, id)
), upd AS (
  UPDATE persons p SET properties = p.properties || i.props::jsonb, version = p.version + 1
  FROM i WHERE $5::boolean AND p.id = i.person_id
  RETURNING 1
), insp AS (
  INSERT INTO persons (id, project_id, properties)
  SELECT i.id, $1, i.props::jsonb FROM i WHERE i.person_id IS NULL
  RETURNING 1
), insd AS (
  INSERT INTO person_distinct_ids (project_id, distinct_id, person_id)
  SELECT $1, i.did, i.id FROM i WHERE i.person_id IS NULL
  ON CONFLICT DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM upd)::int AS updated,
       (SELECT count(*) FROM insp)::int AS wanted,
       (SELECT count(*) FROM insd)::int AS inserted`;

/**
 * Upserts persons for the given distinct ids (deduplicated by the caller) and returns how many
 * were written. A distinct id claimed concurrently by another transaction (e.g. the same id in
 * two import batches in flight) leaves its new person without distinct ids: such orphans are
 * removed and their rows applied again, now merging into the person the other transaction
 * committed (`ON CONFLICT` waited for it, and a new statement sees it).
 */
export async function upsertPersons(
  tx: SqlClient,
  projectId: number,
  distinctIds: readonly string[],
  propertiesJson: readonly string[],
  mergeExisting: boolean,
  attempt = 0,
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
    const orphans = await tx.query<{ id: string }>(
      `DELETE FROM persons p WHERE p.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM person_distinct_ids d WHERE d.person_id = p.id)
       RETURNING p.id`,
      [ids],
    );
    if (orphans.length > 0 && attempt < 3) {
      const lost = new Set(orphans.map((o) => String(o.id)));
      const retryIds: string[] = [];
      const retryProps: string[] = [];
      ids.forEach((id, i) => {
        if (lost.has(id)) {
          retryIds.push(distinctIds[i]!);
          retryProps.push(propertiesJson[i]!);
        }
      });
      return r.updated + r.inserted + (await upsertPersons(tx, projectId, retryIds, retryProps, mergeExisting, attempt + 1));
    }
  }
  return r.updated + r.inserted;
}

/** Creates empty persons for those of `distinctIds` that have none. */
export async function ensurePersonsForDistinctIds(tx: SqlClient, projectId: number, distinctIds: readonly string[]): Promise<void> {
  await upsertPersons(tx, projectId, distinctIds, distinctIds.map(() => '{}'), false);
}

/** Batches in flight at once: one being written while the next is parsed and sent (PGlite simply queues them). */
const PARALLEL_BATCHES = 2;

/**
 * Bulk import: batches of IMPORT_BATCH_SIZE, one transaction each (up to PARALLEL_BATCHES at
 * once), so a failure keeps the batches already written and then throws. Within a batch a
 * repeated distinct id merges its properties (later wins); an existing person gets the imported
 * properties merged over its own. Returns persons written.
 */
export async function importPersons(
  db: SqlDriver,
  projectId: number,
  persons: AsyncIterable<{ distinctId: string; properties: Record<string, unknown> }>,
): Promise<number> {
  let written = 0;
  let failure: unknown;
  const pending = new Set<Promise<void>>();
  let batch = new Map<string, Record<string, unknown>>();
  const launch = (): void => {
    const dids = [...batch.keys()];
    const props = [...batch.values()].map(jsonText);
    batch = new Map();
    const job = withTransaction(db, (tx) => upsertPersons(tx, projectId, dids, props, true), { timeoutMs: 0 }).then(
      (n) => {
        written += n;
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    pending.add(job);
    void job.finally(() => pending.delete(job));
  };
  for await (const p of persons) {
    const did = String(p.distinctId);
    const prev = batch.get(did);
    batch.set(did, prev ? { ...prev, ...asObject(p.properties) } : asObject(p.properties));
    if (batch.size >= IMPORT_BATCH_SIZE) {
      launch();
      if (pending.size >= PARALLEL_BATCHES) await Promise.race(pending);
      if (failure !== undefined) break;
    }
  }
  if (failure === undefined && batch.size > 0) launch();
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
  return written;
}
