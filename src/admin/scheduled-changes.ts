/**
 * @module admin/scheduled-changes
 * PostHog's `/api/projects/:id/scheduled_changes/` (posthog/api/scheduled_change.py): list
 * (filters `model_name`, `record_id`), create, retrieve, delete. Vexil adds `cron_expression`
 * (5 fields, in the project's time zone) beside PostHog's `recurrence_interval`. The changes run
 * in each node's scheduler (schedule/scheduler.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { VexilError } from '../errors.ts';
import type { ScheduledChangeRow } from '../store/store.ts';
import { RECURRENCE_INTERVALS, scheduledPayloadSchema, validateCron } from '../schedule/plan.ts';
import { projectRoutes } from './auth.ts';
import { parseWith, requireObject } from './body.ts';
import type { AdminDeps } from './deps.ts';
import { limitOffset, paginate } from './pagination.ts';
import { addResource } from './router.ts';

const isoDate = z.iso.datetime({ offset: true });

const createSchema = z.object({
  record_id: z.union([z.string().min(1).max(200), z.number().int().positive()]).transform(String),
  model_name: z.literal('FeatureFlag'),
  payload: z.unknown(),
  scheduled_at: isoDate,
  is_recurring: z.boolean().optional().default(false),
  recurrence_interval: z.enum(RECURRENCE_INTERVALS).nullable().optional(),
  cron_expression: z.string().max(200).nullable().optional(),
  end_date: isoDate.nullable().optional(),
});

/** PostHog's ScheduledChangeSerializer fields, plus `cron_expression`. */
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
    failure_count: c.failureCount,
    is_recurring: c.isRecurring,
    recurrence_interval: c.recurrenceInterval,
    cron_expression: c.cronExpression,
    last_executed_at: c.lastExecutedAt?.toISOString() ?? null,
    end_date: c.endDate?.toISOString() ?? null,
    created_at: c.createdAt.toISOString(),
    created_by: c.createdBy === null ? null : { first_name: c.createdBy, email: null },
    updated_at: c.updatedAt.toISOString(),
  };
}

function idParam(req: FastifyRequest): number {
  const raw = (req.params as Record<string, string | undefined>).changeId ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw new VexilError('VXL_NOT_FOUND');
  return Number(raw);
}

const invalid = (message: string, attr: string) => new VexilError('VXL_VALIDATION', { message, attr });

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
    const body = parseWith(createSchema, requireObject(req.body));
    const payload = scheduledPayloadSchema.safeParse(body.payload);
    if (!payload.success) throw invalid('Invalid payload: expected {"operation": "update_status" | "add_release_condition" | "update_variants", "value": …}.', 'payload');
    const flagId = /^\d{1,9}$/.test(body.record_id) ? Number(body.record_id) : 0;
    const flag = flagId > 0 ? await store.getFlag(project.id, flagId) : null;
    if (flag === null || flag.deleted) throw invalid(`FeatureFlag ${body.record_id} does not exist.`, 'record_id');
    const scheduledAt = new Date(body.scheduled_at);
    const endDate = body.end_date ? new Date(body.end_date) : null;
    const cron = body.cron_expression?.trim() || null;
    if (body.is_recurring) {
      if (cron === null && !body.recurrence_interval) throw invalid('A recurring change needs recurrence_interval or cron_expression.', 'recurrence_interval');
      if (cron !== null && body.recurrence_interval) throw invalid('Give recurrence_interval or cron_expression, not both.', 'cron_expression');
      if (cron !== null) {
        try {
          validateCron(cron, project.timezone);
        } catch (err) {
          throw invalid(`Invalid cron_expression: ${(err as Error).message}`, 'cron_expression');
        }
      }
      if (endDate !== null && endDate.getTime() <= scheduledAt.getTime()) throw invalid('end_date must be after scheduled_at.', 'end_date');
    } else if (cron !== null || body.recurrence_interval || endDate !== null) {
      throw invalid('recurrence_interval, cron_expression and end_date need is_recurring: true.', 'is_recurring');
    }
    const row = await store.createScheduledChange(project.id, {
      recordId: body.record_id,
      modelName: body.model_name,
      payload: payload.data,
      scheduledAt,
      isRecurring: body.is_recurring,
      recurrenceInterval: body.is_recurring ? (body.recurrence_interval ?? null) : null,
      cronExpression: cron,
      endDate,
      createdBy: actor,
    });
    reply.code(201);
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
  addResource(app, `${base}:changeId/`, { GET: retrieve, DELETE: remove }, notAllowed);
}
