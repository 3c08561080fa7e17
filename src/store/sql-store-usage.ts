/**
 * @module store/sql-store-usage
 * Flag usage counters per UTC day (issue 18): batched upserts from each node's UsageRecorder,
 * and the reads behind the admin API's usage, `last_called_at` and staleness.
 */
import type { FlagUsageIncrement, FlagUsageRow, UsageSource } from './store.ts';
import type { SqlClient } from './sql-client.ts';

/**
 * One statement for the whole batch. Rows sharing a key are summed first: ON CONFLICT cannot
 * touch the same row twice in one statement.
 */
export async function recordFlagUsage(db: SqlClient, rows: readonly FlagUsageIncrement[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO flag_usage_daily AS u (project_id, flag_key, day, source, value, count, last_called_at)
     SELECT project_id, flag_key, day, source, value, sum(n), max(at)
       FROM unnest($1::int[], $2::text[], $3::date[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[])
         AS r(project_id, flag_key, day, source, value, n, at)
      WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = r.project_id)
      GROUP BY project_id, flag_key, day, source, value
      -- One order on every node: concurrent flushes lock shared rows in the same order, no deadlock.
      ORDER BY project_id, flag_key, day, source, value
     ON CONFLICT (project_id, flag_key, day, source, value) DO UPDATE
       SET count = u.count + excluded.count, last_called_at = greatest(u.last_called_at, excluded.last_called_at)`,
    [
      rows.map((r) => r.projectId),
      rows.map((r) => r.flagKey),
      rows.map((r) => r.day),
      rows.map((r) => r.source),
      rows.map((r) => r.value),
      rows.map((r) => String(r.count)),
      rows.map((r) => r.lastCalledAt.toISOString()),
    ],
  );
}

export async function listFlagUsage(db: SqlClient, projectId: number, flagKey: string, sinceDay: string): Promise<FlagUsageRow[]> {
  const rows = await db.query<{ day: string; source: string; value: string; count: string | number; last_called_at: Date | string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, source, value, count::text AS count, last_called_at
       FROM flag_usage_daily WHERE project_id = $1 AND flag_key = $2 AND day >= $3::date
      ORDER BY day, source, value`,
    [projectId, flagKey, sinceDay],
  );
  return rows.map((r) => ({
    day: r.day,
    source: r.source as UsageSource,
    value: r.value,
    count: Number(r.count),
    lastCalledAt: r.last_called_at instanceof Date ? r.last_called_at : new Date(r.last_called_at),
  }));
}

export async function flagsLastCalledAt(db: SqlClient, projectId: number, flagKeys: readonly string[]): Promise<Map<string, Date>> {
  if (flagKeys.length === 0) return new Map();
  const rows = await db.query<{ flag_key: string; at: Date | string }>(
    `SELECT flag_key, max(last_called_at) AS at FROM flag_usage_daily
      WHERE project_id = $1 AND flag_key = ANY($2::text[]) GROUP BY flag_key`,
    [projectId, [...flagKeys]],
  );
  return new Map(rows.map((r) => [r.flag_key, r.at instanceof Date ? r.at : new Date(r.at)]));
}
