/**
 * @module admin/scheduled-changes
 * PostHog's `/api/projects/:id/scheduled_changes/` (products/feature_flags/backend/api/
 * scheduled_change.py, ScheduledChangeViewSet): list (filters `model_name`, `record_id`),
 * create, retrieve, PATCH / PUT and delete, with its fields, rules and sentences. The changes
 * run in each node's scheduler (schedule/scheduler.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { VexilError } from '../errors.ts';
import type { ProjectRow, ScheduledChangePatch, ScheduledChangeRow, Store } from '../store/store.ts';
import { scheduledPayloadSchema } from '../schedule/plan.ts';
import { cronProblem, RECURRENCE_INTERVALS } from '../schedule/recurrence.ts';
import { projectRoutes } from './auth.ts';
import { parseWith, requireObject } from './body.ts';
import type { AdminDeps } from './deps.ts';
import { limitOffset, paginate } from './pagination.ts';
import { addResource } from './router.ts';

const isoDate = z.iso.datetime({ offset: true });

/** The writable fields (PostHog's serializer; `id`, `executed_at`, `timezone`… are read-only and ignored). */
const fields = {
  // DRF's CharField takes a number too.
  record_id: z.preprocess((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? String(v) : v), z.string().min(1).max(200)),
  model_name: z.enum(['FeatureFlag']),
  payload: z.unknown(),
  scheduled_at: isoDate,
  is_recurring: z.boolean(),
  recurrence_interval: z.enum(RECURRENCE_INTERVALS).nullable(),
  cron_expression: z.string().max(100).nullable(),
  end_date: isoDate.nullable(),
};

/** POST and PUT: the first four are required, `is_recurring` defaults to false. */
export const scheduledChangeCreateSchema = z.object({
  ...fields,
  is_recurring: fields.is_recurring.optional().default(false),
  recurrence_interval: fields.recurrence_interval.optional(),
  cron_expression: fields.cron_expression.optional(),
  end_date: fields.end_date.optional(),
});
/** PATCH: any subset. */
export const scheduledChangePatchSchema = z.object(fields).partial();
type ScheduleBody = z.output<typeof scheduledChangePatchSchema>;

/** PostHog's ScheduledChangeSerializer fields (`created_by` reduced to what Vexil records). */
export function serializeScheduledChange(c: ScheduledChangeRow): Record<string, unknown> {
  return {
    id: c.id,
    team_id: c.projectId,
    record_id: c.recordId,
    model_name: c.modelName,
    payload: c.payload,
    scheduled_at: c.scheduledAt.toISOString(),
    executed_at: c.executedAt?.toISOString() ?? null,
    failure_reason: c.failureReason,
    created_at: c.createdAt.toISOString(),
    created_by: c.createdBy === null ? null : { first_name: c.createdBy, email: null },
    updated_at: c.updatedAt.toISOString(),
    is_recurring: c.isRecurring,
    recurrence_interval: c.recurrenceInterval,
    cron_expression: c.cronExpression,
    last_executed_at: c.lastExecutedAt?.toISOString() ?? null,
    end_date: c.endDate?.toISOString() ?? null,
    timezone: c.timezone,
  };
}

function idParam(req: FastifyRequest): number {
  const raw = (req.params as Record<string, string | undefined>).changeId ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw new VexilError('VXL_NOT_FOUND');
  return Number(raw);
}

const invalid = (message: string, attr?: string) => new VexilError('VXL_VALIDATION', { message, attr });

/**
 * PostHog's `ScheduledChangeSerializer.validate`, in its order: on an edit the target cannot
 * change and a completed one-time change is frozen; then the recurrence rules on the request's
 * values merged over the stored ones. Vexil then checks the payload's shape (PostHog only finds
 * a bad payload when the change runs).
 */
function validateSchedule(data: ScheduleBody, instance: ScheduledChangeRow | null): void {
  if (instance !== null) {
    if (data.record_id !== undefined && data.record_id !== instance.recordId) {
      throw invalid('Cannot change the target record of an existing scheduled change.', 'record_id');
    }
    if (data.model_name !== undefined && data.model_name !== instance.modelName) {
      throw invalid('Cannot change the model type of an existing scheduled change.', 'model_name');
    }
    // Recurring changes carry executed_at null while active; only a finished one-time change is frozen.
    if (instance.executedAt !== null && !instance.isRecurring) throw invalid('Cannot modify a scheduled change that has already executed.');
  }
  const isRecurring = data.is_recurring ?? instance?.isRecurring ?? false;
  const interval = data.recurrence_interval !== undefined ? data.recurrence_interval : (instance?.recurrenceInterval ?? null);
  const cron = data.cron_expression !== undefined ? data.cron_expression : (instance?.cronExpression ?? null);
  const payload = data.payload !== undefined ? data.payload : instance?.payload;
  if (cron && interval) throw invalid('Cannot set both cron_expression and recurrence_interval. Use one or the other.', 'cron_expression');
  if (cron) {
    const problem = cronProblem(cron);
    if (problem !== null) throw invalid(problem, 'cron_expression');
  }
  if (isRecurring) {
    if (!interval && !cron) throw invalid('Either recurrence_interval or cron_expression is required when is_recurring is true.', 'recurrence_interval');
    if ((payload as { operation?: unknown } | null)?.operation === 'add_release_condition') {
      throw invalid('Recurring schedules are not supported for add_release_condition because it appends conditions on each run, creating duplicates.', 'payload');
    }
  }
  // A new change that is not recurring carries no recurrence; an edit may keep it (a paused change).
  if (instance === null && !isRecurring) {
    if (interval) throw invalid('Cannot set recurrence_interval when is_recurring is false for new schedules.', 'recurrence_interval');
    if (cron) throw invalid('Cannot set cron_expression when is_recurring is false for new schedules.', 'cron_expression');
  }
  const endDate = data.end_date !== undefined ? data.end_date : (instance?.endDate?.toISOString() ?? null);
  const scheduledAt = data.scheduled_at ?? instance?.scheduledAt.toISOString();
  if (endDate && scheduledAt && Date.parse(endDate) <= Date.parse(scheduledAt)) {
    throw invalid('End date must be after the scheduled start date.', 'end_date');
  }
  if (data.payload !== undefined && !scheduledPayloadSchema.safeParse(data.payload).success) {
    throw invalid('Invalid payload: expected {"operation": "update_status" | "add_release_condition" | "update_variants", "value": …}.', 'payload');
  }
}

/** The flag a change targets, by PostHog's rule: an existing, non-deleted flag of the project, else "Feature flag not found". */
async function targetFlagId(store: Store, project: ProjectRow, recordId: string): Promise<number> {
  const flagId = /^\s*\d{1,9}\s*$/.test(recordId) ? Number(recordId) : 0;
  const flag = flagId > 0 ? await store.getFlag(project.id, flagId) : null;
  if (flag === null || flag.deleted) throw invalid('Feature flag not found');
  return flag.id;
}

/** Request fields → stored fields (undefined leaves one as is). */
function toPatch(data: ScheduleBody): ScheduledChangePatch {
  const date = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));
  return {
    payload: data.payload,
    scheduledAt: data.scheduled_at === undefined ? undefined : new Date(data.scheduled_at),
    isRecurring: data.is_recurring,
    recurrenceInterval: data.recurrence_interval,
    cronExpression: data.cron_expression,
    endDate: date(data.end_date),
  };
}

/** Registers the routes on an `/api`-prefixed instance. */
export function registerScheduledChangeRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store } = deps;
  const { read, write, notAllowed } = projectRoutes(store, 'feature_flag');

  const list = read(async (req, _reply, { project }) => {
    const { limit, offset } = limitOffset(req);
    const query = (req.query ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' && v !== '' && !v.includes('\0') ? v : undefined);
    const { count, rows } = await store.listScheduledChanges(project.id, { recordId: text(query.record_id), modelName: text(query.model_name), limit, offset });
    return paginate(req, count, limit, offset, rows.map(serializeScheduledChange));
  });

  const create = write(async (req, reply, { project, actor }) => {
    const raw = requireObject(req.body);
    const body = parseWith(scheduledChangeCreateSchema, raw);
    if (raw.payload === undefined) throw new VexilError('VXL_FIELD_REQUIRED', { attr: 'payload' });
    validateSchedule(body, null);
    const flagId = await targetFlagId(store, project, body.record_id);
    const row = await store.createScheduledChange(project.id, {
      // PostHog stores the canonical id, so `record_id` filters match however it was written.
      recordId: String(flagId),
      modelName: body.model_name,
      payload: body.payload,
      scheduledAt: new Date(body.scheduled_at),
      isRecurring: body.is_recurring,
      recurrenceInterval: body.recurrence_interval ?? null,
      cronExpression: body.cron_expression || null,
      endDate: body.end_date ? new Date(body.end_date) : null,
      // Captured now: a later change of the project's zone does not move this change.
      timezone: project.timezone,
      createdBy: actor,
    });
    reply.code(201);
    return serializeScheduledChange(row);
  });

  const update = (method: 'PATCH' | 'PUT') => write(async (req, _reply, { project }) => {
    const id = idParam(req);
    const current = await store.getScheduledChange(project.id, id);
    if (current === null) throw new VexilError('VXL_NOT_FOUND');
    const raw = requireObject(req.body);
    const body: ScheduleBody = method === 'PUT' ? parseWith(scheduledChangeCreateSchema, raw) : parseWith(scheduledChangePatchSchema, raw);
    if (method === 'PUT' && raw.payload === undefined) throw new VexilError('VXL_FIELD_REQUIRED', { attr: 'payload' });
    validateSchedule(body, current);
    await targetFlagId(store, project, current.recordId);
    // Checked again under the row lock: the scheduler may have run the change meanwhile.
    const row = await store.updateScheduledChange(project.id, id, (locked) => {
      validateSchedule(body, locked);
      return toPatch({ ...body, cron_expression: body.cron_expression === '' ? null : body.cron_expression });
    });
    if (row === null) throw new VexilError('VXL_NOT_FOUND');
    return serializeScheduledChange(row);
  });

  const retrieve = read(async (req, _reply, { project }) => {
    const row = await store.getScheduledChange(project.id, idParam(req));
    if (row === null) throw new VexilError('VXL_NOT_FOUND');
    return serializeScheduledChange(row);
  });

  const remove = write(async (req, reply, { project }) => {
    if (!(await store.deleteScheduledChange(project.id, idParam(req)))) throw new VexilError('VXL_NOT_FOUND');
    return reply.code(204).send();
  });

  const base = '/projects/:projectId/scheduled_changes/';
  addResource(app, base, { GET: list, POST: create }, notAllowed);
  addResource(app, `${base}:changeId/`, { GET: retrieve, PATCH: update('PATCH'), PUT: update('PUT'), DELETE: remove }, notAllowed);
}
