/**
 * @module store/sql-store-schedules
 * PostHog's scheduled changes (issue 18). A due change is claimed with FOR UPDATE SKIP LOCKED
 * and applied in the claim's transaction, so however many nodes run their scheduler at once,
 * each occurrence is applied exactly once and no node waits on another.
 */
import type { FlagRow, ScheduledChangeOutcome, ScheduledChangePlan, ScheduledChangeRow, ScheduledChangeWrite } from './store.ts';
import { jsonText, withTransaction, type SqlClient, type SqlDriver, type SqlRow } from './sql-client.ts';
import { toFlag } from './sql-rows.ts';
import { updateFlagIn } from './sql-store-flags.ts';

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));
const strOrNull = (v: unknown): string | null => (v == null ? null : String(v));

function toScheduledChange(r: SqlRow): ScheduledChangeRow {
  return {
    id: Number(r.id),
    projectId: Number(r.project_id),
    recordId: String(r.record_id),
    modelName: String(r.model_name),
    payload: r.payload,
    scheduledAt: date(r.scheduled_at),
    executedAt: dateOrNull(r.executed_at),
    failureReason: strOrNull(r.failure_reason),
    failureCount: Number(r.failure_count),
    isRecurring: r.is_recurring === true,
    recurrenceInterval: strOrNull(r.recurrence_interval),
    cronExpression: strOrNull(r.cron_expression),
    lastExecutedAt: dateOrNull(r.last_executed_at),
    endDate: dateOrNull(r.end_date),
    createdBy: strOrNull(r.created_by),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

const validId = (id: number): boolean => Number.isSafeInteger(id) && id > 0;

export async function createScheduledChange(db: SqlClient, projectId: number, w: ScheduledChangeWrite): Promise<ScheduledChangeRow> {
  const [row] = await db.query(
    `INSERT INTO scheduled_changes
       (project_id, record_id, model_name, payload, scheduled_at, is_recurring, recurrence_interval, cron_expression, end_date, created_by)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [projectId, w.recordId, w.modelName, jsonText(w.payload), w.scheduledAt, w.isRecurring, w.recurrenceInterval, w.cronExpression, w.endDate, w.createdBy],
  );
  return toScheduledChange(row!);
}

export async function listScheduledChanges(
  db: SqlClient,
  projectId: number,
  q: { recordId?: string; modelName?: string; limit: number; offset: number },
): Promise<{ count: number; rows: ScheduledChangeRow[] }> {
  const where = 'project_id = $1 AND ($2::text IS NULL OR record_id = $2) AND ($3::text IS NULL OR model_name = $3)';
  const params = [projectId, q.recordId ?? null, q.modelName ?? null];
  const [c] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scheduled_changes WHERE ${where}`, params);
  const rows = await db.query(`SELECT * FROM scheduled_changes WHERE ${where} ORDER BY scheduled_at DESC, id DESC LIMIT $4 OFFSET $5`, [
    ...params,
    q.limit,
    q.offset,
  ]);
  return { count: Number(c?.n ?? 0), rows: rows.map(toScheduledChange) };
}

export async function getScheduledChange(db: SqlClient, projectId: number, id: number): Promise<ScheduledChangeRow | null> {
  if (!validId(id)) return null;
  const [row] = await db.query('SELECT * FROM scheduled_changes WHERE project_id = $1 AND id = $2', [projectId, id]);
  return row ? toScheduledChange(row) : null;
}

export async function deleteScheduledChange(db: SqlClient, projectId: number, id: number): Promise<boolean> {
  if (!validId(id)) return false;
  const rows = await db.query('DELETE FROM scheduled_changes WHERE project_id = $1 AND id = $2 RETURNING id', [projectId, id]);
  return rows.length > 0;
}

/** Who a scheduled change's activity rows name. */
export function scheduledChangeActor(change: ScheduledChangeRow): string {
  return `scheduled change #${change.id}${change.createdBy ? ` (${change.createdBy})` : ''}`;
}

/** A change whose claim transaction failed this many times (database errors) is closed, not retried. */
const MAX_FAILURES = 5;

export async function runDueScheduledChange(db: SqlDriver, now: Date, plan: ScheduledChangePlan): Promise<ScheduledChangeOutcome | null> {
  let claimedId: number | null = null;
  try {
    return await claimAndApply(db, now, plan, (id) => (claimedId = id));
  } catch (err) {
    // The transaction rolled back: count the failure outside it, so it is retried a few times only.
    if (claimedId !== null) {
      const reason = err instanceof Error ? err.message : String(err);
      await recordScheduledChangeFailure(db, claimedId, reason, now, MAX_FAILURES).catch(() => undefined);
    }
    throw err;
  }
}

async function claimAndApply(db: SqlDriver, now: Date, plan: ScheduledChangePlan, claimed: (id: number) => void): Promise<ScheduledChangeOutcome | null> {
  return withTransaction(db, async (tx) => {
    const [row0] = await tx.query(
      `SELECT sc.*, p.timezone AS project_timezone FROM scheduled_changes sc JOIN projects p ON p.id = sc.project_id
        WHERE sc.executed_at IS NULL AND sc.scheduled_at <= $1
        ORDER BY sc.scheduled_at, sc.id LIMIT 1 FOR UPDATE OF sc SKIP LOCKED`,
      [now],
    );
    if (!row0) return null;
    const change = toScheduledChange(row0);
    claimed(change.id);
    const flagId = /^\d{1,9}$/.test(change.recordId) ? Number(change.recordId) : 0;
    const [flagRow] = change.modelName === 'FeatureFlag' && flagId > 0
      ? await tx.query('SELECT * FROM feature_flags WHERE project_id = $1 AND id = $2 FOR UPDATE', [change.projectId, flagId])
      : [];
    let decided: ReturnType<ScheduledChangePlan>;
    try {
      decided = plan(change, flagRow ? toFlag(flagRow) : null, String(row0.project_timezone));
    } catch (err) {
      // A change that cannot apply will not apply later either: record why and close it.
      const failure = (err instanceof Error ? err.message : String(err)).slice(0, 400);
      const [row] = await tx.query(
        `UPDATE scheduled_changes SET failure_reason = $2, failure_count = failure_count + 1, executed_at = $3, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [change.id, failure, now],
      );
      return { change: toScheduledChange(row!), flag: null, failure };
    }
    const flag: FlagRow | null = await updateFlagIn(tx, change.projectId, flagId, decided.write, scheduledChangeActor(change));
    const [row] = decided.next === null
      ? await tx.query(
          `UPDATE scheduled_changes SET executed_at = $2, last_executed_at = $2, failure_reason = NULL, updated_at = now()
            WHERE id = $1 RETURNING *`,
          [change.id, now],
        )
      : await tx.query(
          `UPDATE scheduled_changes SET scheduled_at = $3, last_executed_at = $2, failure_reason = NULL, updated_at = now()
            WHERE id = $1 RETURNING *`,
          [change.id, now, decided.next],
        );
    return { change: toScheduledChange(row!), flag, failure: null };
  });
}

async function recordScheduledChangeFailure(db: SqlClient, id: number, reason: string, now: Date, maxFailures: number): Promise<void> {
  await db.query(
    `UPDATE scheduled_changes SET failure_count = failure_count + 1, failure_reason = $2, updated_at = now(),
        executed_at = CASE WHEN failure_count + 1 >= $4 THEN $3::timestamptz ELSE executed_at END
      WHERE id = $1 AND executed_at IS NULL`,
    [id, reason.slice(0, 400), now, maxFailures],
  );
}
