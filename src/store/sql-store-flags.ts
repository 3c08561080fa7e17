/**
 * @module store/sql-store-flags
 * Feature flags: list, read, create and update, each write with its activity row, version bump
 * and project revision bump in one transaction (spec §8.1).
 */
import { VexilError, staleFlagVersion } from '../errors.ts';
import type { ActivityRow, FlagRow, FlagWrite } from './store.ts';
import { isUniqueViolation, likeEscape, sqlState, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { toFlag } from './sql-rows.ts';
import { bumpRevision } from './sql-store-projects.ts';
import { assignments, insertActivity, listActivity, type ColumnMap } from './sql-write.ts';

const FLAG_COLUMNS: ColumnMap<FlagWrite> = [
  ['key', 'key', 'plain'],
  ['name', 'name', 'plain'],
  ['filters', 'filters', 'json'],
  ['active', 'active', 'plain'],
  ['deleted', 'deleted', 'plain'],
  ['ensureExperienceContinuity', 'ensure_experience_continuity', 'plain'],
  ['tags', 'tags', 'text[]'],
  ['evaluationRuntime', 'evaluation_runtime', 'plain'],
  ['evaluationTags', 'evaluation_tags', 'text[]'],
  ['bucketingIdentifier', 'bucketing_identifier', 'plain'],
  ['isRemoteConfiguration', 'is_remote_configuration', 'plain'],
  ['hasEncryptedPayloads', 'has_encrypted_payloads', 'plain'],
];

/** The partial unique index that enforces one live flag per key. */
const KEY_INDEX = 'feature_flags_project_key_live';

/** Maps the key-uniqueness violation to the admin API's error; anything else passes through. */
function keyExists(err: unknown): unknown {
  return isUniqueViolation(err, KEY_INDEX) ? new VexilError('VXL_FLAG_KEY_EXISTS', { attr: 'key', cause: err }) : err;
}

/** Non-deleted flags, newest first; `search` matches key or name case-insensitively. */
export async function listFlags(
  db: SqlClient,
  projectId: number,
  query: { search?: string; active?: boolean; limit: number; offset: number },
): Promise<{ count: number; rows: FlagRow[] }> {
  const where = ['project_id = $1', 'NOT deleted'];
  const params: unknown[] = [projectId];
  if (query.search) {
    params.push(`%${likeEscape(query.search)}%`);
    where.push(`(key ILIKE $${params.length} OR name ILIKE $${params.length})`);
  }
  if (query.active !== undefined) {
    params.push(query.active);
    where.push(`active = $${params.length}`);
  }
  const sqlWhere = where.join(' AND ');
  const [c] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM feature_flags WHERE ${sqlWhere}`, params);
  const rows = await db.query(
    `SELECT * FROM feature_flags WHERE ${sqlWhere} ORDER BY created_at DESC, id DESC
     LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, query.limit, query.offset],
  );
  return { count: Number(c?.n ?? 0), rows: rows.map(toFlag) };
}

/** A flag of this project by id, deleted or not. */
export async function getFlag(db: SqlClient, projectId: number, flagId: number): Promise<FlagRow | null> {
  if (!Number.isSafeInteger(flagId) || flagId <= 0 || flagId > 2 ** 31 - 1) return null;
  const [row] = await db.query('SELECT * FROM feature_flags WHERE project_id = $1 AND id = $2', [projectId, flagId]);
  return row ? toFlag(row) : null;
}

/** The live (non-deleted) flag with this key. */
export async function getFlagByKey(db: SqlClient, projectId: number, key: string): Promise<FlagRow | null> {
  const [row] = await db.query('SELECT * FROM feature_flags WHERE project_id = $1 AND key = $2 AND NOT deleted', [projectId, key]);
  return row ? toFlag(row) : null;
}

/**
 * Creates a flag at version 1. A soft-deleted flag with the same key is hard-deleted first, as
 * PostHog does on create (spec §8.1); its activity rows stay.
 */
export async function createFlag(
  db: SqlDriver,
  projectId: number,
  write: FlagWrite & { key: string },
  actor: string,
): Promise<FlagRow> {
  try {
    return await withTransaction(db, async (tx) => {
      await tx.query('DELETE FROM feature_flags WHERE project_id = $1 AND key = $2 AND deleted', [projectId, write.key]);
      const a = assignments(write, FLAG_COLUMNS, 3);
      const [row] = await tx.query(
        `INSERT INTO feature_flags (project_id, created_by${a.columns.map((c) => `, ${c}`).join('')})
         VALUES ($1, $2${a.placeholders.map((p) => `, ${p}`).join('')}) RETURNING *`,
        [projectId, actor, ...a.params],
      );
      const flag = toFlag(row);
      await insertActivity(tx, { projectId, scope: 'FeatureFlag', itemId: flag.id, activity: 'created', actor, before: null, after: flag });
      await bumpRevision(tx, projectId);
      return flag;
    });
  } catch (err) {
    if (sqlState(err) === '23503') throw new VexilError('VXL_NOT_FOUND', { message: `Project ${projectId} does not exist.`, cause: err });
    throw keyExists(err);
  }
}

/** Applies the defined fields, bumps version and revision, logs before/after; null when absent. */
export async function updateFlag(
  db: SqlDriver,
  projectId: number,
  flagId: number,
  write: FlagWrite,
  actor: string,
  expectedVersion?: number,
): Promise<FlagRow | null> {
  if (!Number.isSafeInteger(flagId) || flagId <= 0 || flagId > 2 ** 31 - 1) return null;
  try {
    return await withTransaction(db, (tx) => updateFlagIn(tx, projectId, flagId, write, actor, expectedVersion));
  } catch (err) {
    throw keyExists(err);
  }
}

/** updateFlag's work inside the caller's transaction (scheduled changes apply in their claim's). */
export async function updateFlagIn(
  tx: SqlClient,
  projectId: number,
  flagId: number,
  write: FlagWrite,
  actor: string,
  expectedVersion?: number,
): Promise<FlagRow | null> {
  const [old] = await tx.query('SELECT * FROM feature_flags WHERE project_id = $1 AND id = $2 FOR UPDATE', [projectId, flagId]);
  if (!old) return null;
  const before = toFlag(old);
  // Checked under FOR UPDATE: a check before the transaction would let two racing writers
  // that both read version N both pass and the second silently overwrite the first.
  if (expectedVersion !== undefined && before.version !== expectedVersion) throw staleFlagVersion();
  const a = assignments(write, FLAG_COLUMNS, 3);
  const sets = a.columns.map((c, i) => `${c} = ${a.placeholders[i]}`);
  const [row] = await tx.query(
    `UPDATE feature_flags SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
     WHERE project_id = $1 AND id = $2 RETURNING *`,
    [projectId, flagId, ...a.params],
  );
  const after = toFlag(row);
  const activity: ActivityRow['activity'] = after.deleted && !before.deleted ? 'deleted' : 'updated';
  await insertActivity(tx, { projectId, scope: 'FeatureFlag', itemId: flagId, activity, actor, before, after });
  await bumpRevision(tx, projectId);
  return after;
}

/** The flag's activity, newest first. */
export function listFlagActivity(
  db: SqlClient,
  projectId: number,
  flagId: number,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: ActivityRow[] }> {
  return listActivity(db, projectId, 'FeatureFlag', flagId, page);
}
