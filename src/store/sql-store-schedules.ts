/**
 * @module store/sql-store-schedules
 * PostHog's scheduled changes (issue 18). A due change is claimed with FOR UPDATE SKIP LOCKED
 * and applied in the claim's transaction, so however many nodes run their scheduler at once,
 * each occurrence is applied exactly once and no node waits on another.
 */
import type {
  FlagRow,
  ScheduledChangeOutcome,
  ScheduledChangePatch,
  ScheduledChangePlan,
  ScheduledChangeRow,
  ScheduledChangeWrite,
} from './store.ts';
import { jsonText, withTransaction, type SqlClient, type SqlDriver, type SqlRow } from './sql-client.ts';
import { toCohort, toFlag } from './sql-rows.ts';
import { updateFlagIn } from './sql-store-flags.ts';
import { assignments, type ColumnMap } from './sql-write.ts';

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
    timezone: strOrNull(r.timezone),
    recurrenceAnchorAt: dateOrNull(r.recurrence_anchor_at),
    createdBy: strOrNull(r.created_by),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

const validId = (id: number): boolean => Number.isSafeInteger(id) && id > 0;

export async function createScheduledChange(db: SqlClient, projectId: number, w: ScheduledChangeWrite): Promise<ScheduledChangeRow> {
  const [row] = await db.query(
    `INSERT INTO scheduled_changes
       (project_id, record_id, model_name, payload, scheduled_at, recurrence_anchor_at, is_recurring, recurrence_interval,
        cron_expression, end_date, timezone, created_by)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [projectId, w.recordId, w.modelName, jsonText(w.payload), w.scheduledAt, w.isRecurring, w.recurrenceInterval, w.cronExpression, w.endDate, w.timezone, w.createdBy],
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

const PATCH_COLUMNS: ColumnMap<ScheduledChangePatch> = [
  ['recordId', 'record_id', 'plain'],
  ['payload', 'payload', 'json'],
  ['scheduledAt', 'scheduled_at', 'plain'],
  ['isRecurring', 'is_recurring', 'plain'],
  ['recurrenceInterval', 'recurrence_interval', 'plain'],
  ['cronExpression', 'cron_expression', 'plain'],
  ['endDate', 'end_date', 'plain'],
];

export async function updateScheduledChange(
  db: SqlDriver,
  projectId: number,
  id: number,
  decide: (current: ScheduledChangeRow) => ScheduledChangePatch,
): Promise<ScheduledChangeRow | null> {
  if (!validId(id)) return null;
  return withTransaction(db, async (tx) => {
    const [current] = await tx.query('SELECT * FROM scheduled_changes WHERE project_id = $1 AND id = $2 FOR UPDATE', [projectId, id]);
    if (!current) return null;
    const patch = decide(toScheduledChange(current));
    const a = assignments(patch, PATCH_COLUMNS, 3);
    const sets = a.columns.map((c, i) => `${c} = ${a.placeholders[i]}`);
    // A new scheduled_at is where interval recurrences count from.
    if (patch.scheduledAt !== undefined) sets.push(`recurrence_anchor_at = ${a.placeholders[a.columns.indexOf('scheduled_at')]}`);
    const [row] = await tx.query(
      `UPDATE scheduled_changes SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE project_id = $1 AND id = $2 RETURNING *`,
      [projectId, id, ...a.params],
    );
    return toScheduledChange(row!);
  });
}

/** Who a scheduled change's activity rows name. */
export function scheduledChangeActor(change: ScheduledChangeRow): string {
  return `scheduled change #${change.id}${change.createdBy ? ` (${change.createdBy})` : ''}`;
}

/** PostHog's MAX_RETRY_ATTEMPTS: a change whose transaction failed this many times is closed. */
const MAX_FAILURES = 5;
/** PostHog stores failure_reason as text; very long messages are cut. */
const MAX_REASON_CHARS = 1000;

/**
 * PostHog's `formatted_failure_reason` sentences: the error, then whether it is retried. A
 * failure of the change itself (bad payload, missing flag, a validation rule) is permanent.
 */
const permanent = (message: string) => `${message.slice(0, MAX_REASON_CHARS)} (permanent error)`;
function retried(message: string, failures: number): string {
  const text = message.slice(0, MAX_REASON_CHARS);
  if (failures >= MAX_FAILURES) return `${text} (failed after ${failures} out of ${MAX_FAILURES} attempts)`;
  const left = MAX_FAILURES - failures;
  return `${text} (will retry automatically, ${left} attempt${left === 1 ? '' : 's'} remaining)`;
}

export async function runDueScheduledChange(db: SqlDriver, now: Date, plan: ScheduledChangePlan): Promise<ScheduledChangeOutcome | null> {
  let claimedId: number | null = null;
  try {
    return await claimAndApply(db, now, plan, (id) => (claimedId = id));
  } catch (err) {
    // The transaction rolled back: count the failure outside it, so it is retried a few times only.
    if (claimedId !== null) {
      const reason = err instanceof Error ? err.message : String(err);
      await recordRetriedFailure(db, claimedId, reason, now).catch(() => undefined);
    }
    throw err;
  }
}

/**
 * Due: not executed, scheduled by now, and not a paused recurring change (PostHog pauses one
 * by setting is_recurring false and keeping its recurrence, and skips it until resumed).
 */
const DUE = `executed_at IS NULL AND scheduled_at <= $1
  AND (is_recurring OR (recurrence_interval IS NULL AND cron_expression IS NULL))`;

async function claimAndApply(db: SqlDriver, now: Date, plan: ScheduledChangePlan, claimed: (id: number) => void): Promise<ScheduledChangeOutcome | null> {
  return withTransaction(db, async (tx) => {
    const [row0] = await tx.query(`SELECT * FROM scheduled_changes WHERE ${DUE} ORDER BY scheduled_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, [now]);
    if (!row0) return null;
    const change = toScheduledChange(row0);
    claimed(change.id);
    // PostHog: a recurring change whose end_date passed before it ran is closed, not applied.
    if (change.isRecurring && change.endDate !== null && change.endDate.getTime() <= now.getTime()) {
      const [row] = await tx.query('UPDATE scheduled_changes SET executed_at = $2, updated_at = now() WHERE id = $1 RETURNING *', [change.id, now]);
      return { change: toScheduledChange(row!), flag: null, failure: null, skipped: true };
    }
    const flagId = /^\d{1,9}$/.test(change.recordId) ? Number(change.recordId) : 0;
    const [flagRow] = change.modelName === 'FeatureFlag' && flagId > 0
      ? await tx.query('SELECT * FROM feature_flags WHERE project_id = $1 AND id = $2 FOR UPDATE', [change.projectId, flagId])
      : [];
    // The project's definitions as this transaction sees them: the write is validated against them.
    const flags = await tx.query('SELECT * FROM feature_flags WHERE project_id = $1 AND NOT deleted ORDER BY id', [change.projectId]);
    const cohorts = await tx.query('SELECT * FROM cohorts WHERE project_id = $1 AND NOT deleted ORDER BY id', [change.projectId]);
    let decided: ReturnType<ScheduledChangePlan>;
    try {
      decided = plan(change, { flag: flagRow ? toFlag(flagRow) : null, flags: flags.map(toFlag), cohorts: cohorts.map(toCohort) });
    } catch (err) {
      // A change that cannot apply now is closed with its reason (PostHog: an unrecoverable error).
      const failure = permanent(err instanceof Error ? err.message : String(err));
      const [row] = await tx.query(
        `UPDATE scheduled_changes SET failure_reason = $2, failure_count = failure_count + 1, executed_at = $3, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [change.id, failure, now],
      );
      return { change: toScheduledChange(row!), flag: null, failure };
    }
    const flag: FlagRow | null = await updateFlagIn(tx, change.projectId, flagId, decided.write, scheduledChangeActor(change));
    // As PostHog: a one-time change records executed_at only; a recurring one last_executed_at,
    // and executed_at too once its next occurrence would be past end_date.
    const [row] = !change.isRecurring
      ? await tx.query('UPDATE scheduled_changes SET executed_at = $2, failure_reason = NULL, updated_at = now() WHERE id = $1 RETURNING *', [change.id, now])
      : decided.next === null
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

async function recordRetriedFailure(db: SqlDriver, id: number, message: string, now: Date): Promise<void> {
  await withTransaction(db, async (tx) => {
    const [row] = await tx.query<{ failure_count: number }>('SELECT failure_count FROM scheduled_changes WHERE id = $1 AND executed_at IS NULL FOR UPDATE', [id]);
    if (!row) return;
    const failures = Number(row.failure_count) + 1;
    await tx.query(
      `UPDATE scheduled_changes SET failure_count = $2, failure_reason = $3, executed_at = $4, updated_at = now() WHERE id = $1`,
      [id, failures, retried(message, failures), failures >= MAX_FAILURES ? now : null],
    );
  });
}
