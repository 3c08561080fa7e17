/**
 * @module admin/feature-flags
 * `/api/projects/:id/feature_flags/` (spec §8.1): list, create, retrieve, PATCH/PUT (soft delete
 * through `{"deleted": true}`), DELETE ⇒ 405, plus `/activity/` and `/dependent_flags/`.
 * Every write goes through the store (which bumps `version` and logs activity), then notifies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VexilError, isVexilError, staleFlagVersion } from '../errors.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow, ProjectDefinitionsRow, Store } from '../store/store.ts';
import { projectRoutes } from './auth.ts';
import { parseWith, requireObject } from './body.ts';
import { flagCohortIds } from './cohort-graph.ts';
import { notifyChanged, type AdminDeps } from './deps.ts';
import { dependentFlags } from './flag-dependencies.ts';
import { prepareFlagUpdate, toWrite, validateExtras } from './flag-update.ts';
import { flagCreateSchema, flagPatchSchema } from './flag-schema.ts';
import { flagStatus } from './flag-status.ts';
import { validateFlagFilters } from './flag-validation.ts';
import { registerFlagUsageRoutes } from './flag-usage.ts';
import { absoluteUrl, intParam, limitOffset, paginate } from './pagination.ts';
import { addResource } from './router.ts';
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import { filtersToStore, plainFlag } from './flag-payloads.ts';
import { serializeActivity, serializeFlag, type FlagUsageInfo } from './serializers.ts';

const KEY_PATTERN = /^[a-zA-Z0-9_-]+$/;

/** Stored when a flag is created without `filters` (PostHog `get_filters` legacy default: 100 %). */
const DEFAULT_FILTERS: FlagFiltersDef = { groups: [{ properties: [], rollout_percentage: null }] };

function flagIdParam(req: FastifyRequest): number {
  const raw = (req.params as Record<string, string | undefined>).flagId ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw new VexilError('VXL_NOT_FOUND');
  return Number(raw);
}

async function getFlagOr404(store: Store, projectId: number, req: FastifyRequest): Promise<FlagRow> {
  const flag = await store.getFlag(projectId, flagIdParam(req));
  if (flag === null) throw new VexilError('VXL_NOT_FOUND');
  return flag;
}

async function definitionsOf(store: Store, projectId: number): Promise<ProjectDefinitionsRow> {
  const defs = await store.loadProjectDefinitions(projectId);
  if (defs === null) throw new VexilError('VXL_NOT_FOUND');
  return defs;
}

/** Names of the cohorts the flags reference, for `cohort_name` on output. */
async function cohortNames(store: Store, projectId: number, flags: readonly FlagRow[]): Promise<Map<number, string>> {
  const ids = new Set(flags.flatMap((f) => flagCohortIds(f.filters)));
  const rows = await Promise.all([...ids].map((id) => store.getCohort(projectId, id)));
  return new Map(rows.filter((c) => c !== null).map((c) => [c.id, c.name]));
}

/** `last_called_at` and the status clock for serialized flags. */
async function usageOf(deps: AdminDeps, projectId: number, flags: readonly FlagRow[]): Promise<(flag: FlagRow) => FlagUsageInfo> {
  const last = await deps.store.flagsLastCalledAt(projectId, flags.map((f) => f.key));
  const now = (deps.now ?? Date.now)();
  return (flag) => ({ lastCalledAt: last.get(flag.key) ?? null, now });
}

async function respondFlag(deps: AdminDeps, projectId: number, flag: FlagRow, cipher: PayloadCipher | null): Promise<Record<string, unknown>> {
  const usage = await usageOf(deps, projectId, [flag]);
  return serializeFlag(plainFlag(flag, cipher), await cohortNames(deps.store, projectId, [flag]), usage(flag));
}

/** PostHog's `validate_key`: unique among non-deleted flags of the project first, then the format. */
async function validateKey(store: Store, projectId: number, key: string, selfId: number | null): Promise<void> {
  const existing = await store.getFlagByKey(projectId, key);
  if (existing !== null && !existing.deleted && existing.id !== selfId) {
    throw new VexilError('VXL_FLAG_KEY_EXISTS', { attr: 'key' });
  }
  if (!KEY_PATTERN.test(key)) throw new VexilError('VXL_FLAG_KEY_INVALID', { attr: 'key' });
}

/** The store reports a duplicate key (e.g. a concurrent create) as VXL_FLAG_KEY_EXISTS: give it attr "key". */
async function keyAttr<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isVexilError(err) && err.code === 'VXL_FLAG_KEY_EXISTS') throw new VexilError('VXL_FLAG_KEY_EXISTS', { attr: 'key', cause: err });
    throw err;
  }
}

/** `active` query parameter: "true", "false", or PostHog's "STALE" (flags whose `status` is stale). */
function activeParam(req: FastifyRequest): boolean | 'STALE' | undefined {
  const raw = (req.query as Record<string, unknown>).active;
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'STALE') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new VexilError('VXL_CHOICE_INVALID', { message: `"${String(raw)}" is not a valid choice (expected true, false or STALE).`, attr: 'active' });
}

/**
 * Most flags a `STALE` listing examines: staleness depends on usage counters, so the filter runs
 * over the project's active flags in memory (PostHog's filter is SQL over its `last_called_at`).
 */
const STALE_SCAN_LIMIT = 100_000;

/** Registers the feature-flag routes on an `/api`-prefixed instance. */
export function registerFlagRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store } = deps;
  const cipher = deps.payloadCipher ?? null;
  const { read, write, notAllowed } = projectRoutes(store, 'feature_flag');

  const list = read(async (req, _reply, { project }) => {
    const { limit, offset } = limitOffset(req);
    const search = (req.query as Record<string, unknown>).search;
    if (typeof search === 'string' && search.includes('\u0000')) throw new VexilError('VXL_NULL_CHARACTERS', { attr: 'search' });
    const active = activeParam(req);
    const query = { search: typeof search === 'string' && search !== '' ? search : undefined };
    let { count, rows } = active === 'STALE'
      ? await store.listFlags(project.id, { ...query, active: true, limit: STALE_SCAN_LIMIT, offset: 0 })
      : await store.listFlags(project.id, { ...query, active, limit, offset });
    const usage = await usageOf(deps, project.id, rows);
    if (active === 'STALE') {
      // The same computation as each flag's `status` field, so the filter and the field agree.
      const stale = rows.filter((r) => flagStatus(r, usage(r).lastCalledAt, usage(r).now).status === 'stale');
      count = stale.length;
      rows = stale.slice(offset, offset + limit);
    }
    const names = await cohortNames(store, project.id, rows);
    return paginate(req, count, limit, offset, rows.map((r) => serializeFlag(plainFlag(r, cipher), names, usage(r))));
  });

  const create = write(async (req, reply, { project, actor }) => {
    const body = parseWith(flagCreateSchema, requireObject(req.body));
    await validateKey(store, project.id, body.key, null);
    const defs = await definitionsOf(store, project.id);
    const filters = body.filters === undefined
      ? DEFAULT_FILTERS
      : validateFlagFilters(body.filters, { method: 'POST', flag: { id: null, key: body.key }, definitions: defs });
    validateExtras(body, []);
    const given = toWrite(body, filtersToStore({ isRemoteConfiguration: body.is_remote_configuration, hasEncryptedPayloads: body.has_encrypted_payloads, filters }, null, cipher));
    const flagWrite = {
      ...given,
      key: body.key,
      name: given.name ?? '',
      active: given.active ?? true,
      deleted: undefined,
      ensureExperienceContinuity: given.ensureExperienceContinuity ?? false,
      tags: given.tags ?? [],
      evaluationTags: given.evaluationTags ?? [],
      evaluationRuntime: given.evaluationRuntime ?? 'all',
      bucketingIdentifier: given.bucketingIdentifier ?? null,
      isRemoteConfiguration: given.isRemoteConfiguration ?? false,
      hasEncryptedPayloads: given.hasEncryptedPayloads ?? false,
    };
    const row = await keyAttr(store.createFlag(project.id, flagWrite, actor));
    await notifyChanged(deps, project.id, req);
    reply.code(201);
    return respondFlag(deps, project.id, row, cipher);
  });

  const update = (method: 'PATCH' | 'PUT') => write(async (req, _reply, { project, actor }) => {
    const flag = await getFlagOr404(store, project.id, req);
    const body = parseWith(method === 'PUT' ? flagCreateSchema : flagPatchSchema, requireObject(req.body));
    // Early answer for the common case; the store re-checks under the row lock (racing nodes).
    if (body.version !== undefined && body.version !== flag.version) throw staleFlagVersion();
    if (body.key !== undefined) await validateKey(store, project.id, body.key, flag.id);
    if (body.deleted === false && flag.deleted && body.key === undefined) await validateKey(store, project.id, flag.key, flag.id);
    const defs = await definitionsOf(store, project.id);
    const flagWrite = prepareFlagUpdate(flag, body, method, defs, cipher);
    const row = await keyAttr(store.updateFlag(project.id, flag.id, flagWrite, actor, body.version));
    if (row === null) throw new VexilError('VXL_NOT_FOUND');
    await notifyChanged(deps, project.id, req);
    return respondFlag(deps, project.id, row, cipher);
  });

  const retrieve = read(async (req, _reply, { project }) => respondFlag(deps, project.id, await getFlagOr404(store, project.id, req), cipher));

  const activity = read(async (req, _reply, { project }) => {
    const flag = await getFlagOr404(store, project.id, req);
    const query = req.query as Record<string, unknown>;
    const limit = Math.min(intParam(query, 'limit', 10, 1), 1000);
    const page = intParam(query, 'page', 1, 1);
    const { count, rows } = await store.listFlagActivity(project.id, flag.id, { limit, offset: (page - 1) * limit });
    return {
      results: rows.map((r) => serializeActivity(r, flag.key)),
      next: page * limit < count ? absoluteUrl(req, { page: String(page + 1), limit: String(limit) }) : null,
      previous: page > 1 ? absoluteUrl(req, { page: String(page - 1), limit: String(limit) }) : null,
      total_count: count,
    };
  });

  const dependents = read(async (req, _reply, { project }) => {
    const flag = await getFlagOr404(store, project.id, req);
    const defs = await definitionsOf(store, project.id);
    return dependentFlags(flag.id, defs.flags).map((f) => ({ id: f.id, key: f.key, name: f.name || f.key }));
  });

  const base = '/projects/:projectId/feature_flags/';
  addResource(app, base, { GET: list, POST: create }, notAllowed);
  // DELETE is not registered: hard delete is forbidden (PostHog ForbidDestroyModel ⇒ 405).
  addResource(app, `${base}:flagId/`, { GET: retrieve, PATCH: update('PATCH'), PUT: update('PUT') }, notAllowed);
  addResource(app, `${base}:flagId/activity/`, { GET: activity }, notAllowed);
  addResource(app, `${base}:flagId/dependent_flags/`, { GET: dependents }, notAllowed);
  registerFlagUsageRoutes(app, deps, base, (req, store, projectId) => getFlagOr404(store, projectId, req));
}
