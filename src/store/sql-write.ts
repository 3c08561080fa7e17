/**
 * @module store/sql-write
 * What flag and cohort writes share: partial-update column maps and the activity log.
 */
import type { ActivityRow } from './store.ts';
import { jsonText, type SqlClient } from './sql-client.ts';
import { toActivity } from './sql-rows.ts';

/** A writable field: its column and how its parameter is cast. */
export type ColumnMap<W> = ReadonlyArray<readonly [field: keyof W & string, column: string, kind: 'plain' | 'json' | 'text[]']>;

/**
 * `column = $n` assignments for the fields of `write` that are not undefined, numbered from
 * `firstParam`. JSON goes as text (see jsonText) and arrays with explicit casts, so both drivers
 * bind them the same way.
 */
export function assignments<W extends object>(
  write: W,
  columns: ColumnMap<W>,
  firstParam: number,
): { columns: string[]; placeholders: string[]; params: unknown[] } {
  const out = { columns: [] as string[], placeholders: [] as string[], params: [] as unknown[] };
  for (const [field, column, kind] of columns) {
    const value = (write as Record<string, unknown>)[field];
    if (value === undefined) continue;
    const n = firstParam + out.params.length;
    out.columns.push(column);
    if (kind === 'json') {
      out.placeholders.push(`$${n}::text::jsonb`);
      out.params.push(jsonText(value));
    } else if (kind === 'text[]') {
      out.placeholders.push(`$${n}::text[]`);
      out.params.push(Array.isArray(value) ? value.map(String) : []);
    } else {
      out.placeholders.push(`$${n}`);
      out.params.push(value);
    }
  }
  return out;
}

/** One activity row, written in the caller's transaction. before/after are whole rows as JSON. */
export async function insertActivity(
  tx: SqlClient,
  entry: Omit<ActivityRow, 'id' | 'createdAt'>,
): Promise<void> {
  await tx.query(
    `INSERT INTO activity_log (project_id, scope, item_id, activity, actor, before, after)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb)`,
    [entry.projectId, entry.scope, entry.itemId, entry.activity, entry.actor, jsonText(entry.before), jsonText(entry.after)],
  );
}

/** Newest first, with the total count. */
export async function listActivity(
  db: SqlClient,
  projectId: number,
  scope: ActivityRow['scope'],
  itemId: number,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: ActivityRow[] }> {
  const where = 'project_id = $1 AND scope = $2 AND item_id = $3';
  const [c] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM activity_log WHERE ${where}`, [projectId, scope, itemId]);
  const rows = await db.query(
    `SELECT * FROM activity_log WHERE ${where} ORDER BY id DESC LIMIT $4 OFFSET $5`,
    [projectId, scope, itemId, page.limit, page.offset],
  );
  return { count: Number(c?.n ?? 0), rows: rows.map(toActivity) };
}
