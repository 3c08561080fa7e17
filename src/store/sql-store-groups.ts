/**
 * @module store/sql-store-groups
 * Group type mapping (index 0–4 per project) and group properties ($groupidentify, spec §9).
 */
import { VexilError } from '../errors.ts';
import type { GroupRow } from './store.ts';
import { jsonText, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { asObject, toGroup } from './sql-rows.ts';
import { bumpRevision } from './sql-store-projects.ts';

/** PostHog's MAX_GROUP_TYPES_PER_TEAM. */
export const MAX_GROUP_TYPES = 5;

function checkIndex(groupTypeIndex: number): void {
  if (!Number.isInteger(groupTypeIndex) || groupTypeIndex < 0 || groupTypeIndex >= MAX_GROUP_TYPES) {
    throw new VexilError('VXL_VALIDATION', { message: `group_type_index must be an integer 0–4, got ${groupTypeIndex}`, attr: 'group_type_index' });
  }
}

/** group_type_index → name. */
export async function getGroupTypeMapping(db: SqlClient, projectId: number): Promise<Record<number, string>> {
  const rows = await db.query<{ i: number; name: string }>(
    'SELECT group_type_index::int AS i, name FROM group_type_mappings WHERE project_id = $1 ORDER BY 1',
    [projectId],
  );
  return Object.fromEntries(rows.map((r) => [Number(r.i), r.name]));
}

/**
 * The index of `name`, adding it at the lowest free index when new (and bumping the revision);
 * null when all five are taken. Creation locks the project row, so two nodes seeing a new name
 * at once cannot hand out the same index or two indexes for one name.
 */
export async function ensureGroupTypeIndex(db: SqlDriver, projectId: number, name: string): Promise<number | null> {
  const [hit] = await db.query<{ i: number }>(
    'SELECT group_type_index::int AS i FROM group_type_mappings WHERE project_id = $1 AND name = $2',
    [projectId, name],
  );
  if (hit) return Number(hit.i);
  return withTransaction(db, async (tx) => {
    const project = await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    if (project.length === 0) throw new VexilError('VXL_NOT_FOUND', { message: `Project ${projectId} does not exist.` });
    const rows = await tx.query<{ i: number; name: string }>(
      'SELECT group_type_index::int AS i, name FROM group_type_mappings WHERE project_id = $1',
      [projectId],
    );
    const same = rows.find((r) => r.name === name);
    if (same) return Number(same.i);
    const used = new Set(rows.map((r) => Number(r.i)));
    let free = 0;
    while (free < MAX_GROUP_TYPES && used.has(free)) free++;
    if (free >= MAX_GROUP_TYPES) return null;
    await tx.query('INSERT INTO group_type_mappings (project_id, group_type_index, name) VALUES ($1, $2, $3)', [projectId, free, name]);
    await bumpRevision(tx, projectId);
    return free;
  });
}

/** Creates the group or merges `set` over its properties ($group_set overwrites keys). */
export async function upsertGroup(
  db: SqlClient,
  projectId: number,
  groupTypeIndex: number,
  groupKey: string,
  set: Record<string, unknown>,
): Promise<void> {
  checkIndex(groupTypeIndex);
  await db.query(
    `INSERT INTO groups (project_id, group_type_index, group_key, properties) VALUES ($1, $2, $3, $4::text::jsonb)
     ON CONFLICT (project_id, group_type_index, group_key)
     DO UPDATE SET properties = groups.properties || EXCLUDED.properties, version = groups.version + 1`,
    [projectId, groupTypeIndex, groupKey, jsonText(asObject(set))],
  );
}

export async function getGroup(db: SqlClient, projectId: number, groupTypeIndex: number, groupKey: string): Promise<GroupRow | null> {
  if (!Number.isInteger(groupTypeIndex) || groupTypeIndex < 0 || groupTypeIndex >= MAX_GROUP_TYPES) return null;
  const [row] = await db.query(
    'SELECT * FROM groups WHERE project_id = $1 AND group_type_index = $2 AND group_key = $3',
    [projectId, groupTypeIndex, groupKey],
  );
  return row ? toGroup(row) : null;
}
