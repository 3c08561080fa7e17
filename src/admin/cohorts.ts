/**
 * @module admin/cohorts
 * `/api/projects/:id/cohorts/` (spec §8.2): list, create, retrieve, PATCH/PUT (soft delete through
 * `{"deleted": true}`), DELETE ⇒ 405, and static membership through PostHog's
 * `add_persons_to_static_cohort` / `remove_person_from_static_cohort` (plus Vexil's `distinct_ids`).
 * Static cohorts also take a CSV of ids as PostHog's UI uploads it: `multipart/form-data` with a
 * `csv` file, on create (POST) and on update (PATCH/PUT), read by `cohort-csv.ts`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../errors.ts';
import type { CohortRow, Store } from '../store/store.ts';
import { projectRoute, requireScope, type ProjectContext } from './auth.ts';
import { parseWith, requireObject } from './body.ts';
import { readCohortCsv } from './cohort-csv.ts';
import { cohortsUsingCohort, flagsUsingCohort } from './cohort-graph.ts';
import { cohortCreateSchema, cohortPatchSchema, isUuid, validateCohortFilterShape, validateCohortReferences, type CohortRules } from './cohort-validation.ts';
import { notifyChanged, notifyMembershipChanged, type AdminDeps } from './deps.ts';
import { limitOffset, paginate } from './pagination.ts';
import { addResource, methodNotAllowed } from './router.ts';
import { serializeCohort } from './serializers.ts';

/** PostHog's DEFAULT_COHORT_INSERT_BATCH_SIZE: most members one add request may carry. */
export const MAX_MEMBERS_PER_REQUEST = 1000;

type Handler = (req: FastifyRequest, reply: FastifyReply, ctx: ProjectContext) => Promise<unknown>;

async function getCohortOr404(store: Store, projectId: number, req: FastifyRequest): Promise<CohortRow> {
  const raw = (req.params as Record<string, string | undefined>).cohortId ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw new VexilError('VXL_NOT_FOUND');
  const cohort = await store.getCohort(projectId, Number(raw));
  if (cohort === null) throw new VexilError('VXL_NOT_FOUND');
  return cohort;
}

async function rulesOf(store: Store, projectId: number): Promise<CohortRules> {
  const defs = await store.loadProjectDefinitions(projectId);
  if (defs === null) throw new VexilError('VXL_NOT_FOUND');
  return { cohorts: new Map(defs.cohorts.map((c) => [c.id, c])), flags: defs.flags };
}

/** Refuses to soft-delete a cohort that active flags or other cohorts still use. */
function checkDeletable(cohort: CohortRow, rules: CohortRules): void {
  const flags = flagsUsingCohort(cohort.id, rules.flags, rules.cohorts);
  if (flags.length > 0) {
    const names = flags.map((f) => f.name || f.key).join(', ');
    throw new VexilError('VXL_VALIDATION', {
      message: `This cohort is used in ${flags.length} active feature flag(s): ${names}. Please remove the cohort from these feature flags before deleting it.`,
    });
  }
  const cohorts = cohortsUsingCohort(cohort.id, rules.cohorts);
  if (cohorts.length > 0) {
    throw new VexilError('VXL_VALIDATION', {
      message: `This cohort is used in ${cohorts.length} other cohort(s): ${cohorts.map((c) => c.name).join(', ')}. Please remove it from these cohorts before deleting it.`,
    });
  }
}

function listOfStrings(value: unknown, field: string, check: (s: string) => boolean, what: string): string[] {
  // PostHog raises these three as non-field errors (attr null).
  if (!Array.isArray(value)) throw new VexilError('VXL_VALIDATION', { message: `${field} must be a list` });
  if (value.length === 0) throw new VexilError('VXL_VALIDATION', { message: `${field} cannot be empty` });
  if (value.length > MAX_MEMBERS_PER_REQUEST) throw new VexilError('VXL_VALIDATION', { message: 'List size exceeds limit' });
  const bad = value.find((v) => typeof v !== 'string' || !check(v));
  if (bad !== undefined) throw new VexilError('VXL_VALIDATION', { message: `'${String(bad)}' is not a valid ${what}.`, attr: field });
  return [...new Set(value as string[])];
}

/** Form fields DRF reads as booleans ('true', 'True', '1', …; anything else stays a string and fails validation). */
const BOOLEAN_FIELDS = new Set(['is_static', 'deleted']);
const TRUE = new Set(['true', 'True', 'TRUE', '1', 'on', 'yes']);
const FALSE = new Set(['false', 'False', 'FALSE', '0', 'off', 'no']);

/**
 * The request's fields as the JSON body would carry them, and its CSV file if any. A multipart
 * form's fields are strings: booleans and the `filters` JSON are read back as DRF reads form data.
 */
function cohortRequest(req: FastifyRequest): { body: Record<string, unknown>; csv: Buffer | undefined } {
  if (!req.isMultipart()) return { body: requireObject(req.body), csv: undefined };
  const body: Record<string, unknown> = {};
  let csv: Buffer | undefined;
  for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) throw new VexilError('VXL_VALIDATION', { message: `${name} was sent more than once.`, attr: name });
    if (name === 'csv') {
      if (!Buffer.isBuffer(value)) throw new VexilError('VXL_VALIDATION', { message: 'The submitted data was not a file. Check the encoding type on the form.', attr: 'csv' });
      csv = value;
    } else if (Buffer.isBuffer(value)) {
      throw new VexilError('VXL_VALIDATION', { message: `${name} must be a form field, not a file.`, attr: name });
    } else if (BOOLEAN_FIELDS.has(name) && (TRUE.has(String(value)) || FALSE.has(String(value)))) {
      body[name] = TRUE.has(String(value));
    } else if (name === 'filters') {
      try {
        body[name] = JSON.parse(String(value));
      } catch {
        throw new VexilError('VXL_VALIDATION', { message: 'Value must be valid JSON.', attr: 'filters' });
      }
    } else body[name] = value;
  }
  return { body, csv };
}

/** The members a CSV upload names, read before anything is written (a bad file changes nothing). */
async function csvMembers(csv: Buffer): Promise<{ personIds?: string[]; knownDistinctIds?: string[]; emails?: string[] }> {
  const { idType, ids } = await readCohortCsv(csv);
  // As PostHog: only persons that exist join; a CSV never creates persons.
  if (idType === 'person_id') return { personIds: ids };
  if (idType === 'email') return { emails: ids };
  return { knownDistinctIds: ids };
}

/** Registers the cohort routes on an `/api`-prefixed instance. */
export function registerCohortRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store } = deps;
  const read = (h: Handler) => projectRoute(store, 'cohort:read', h);
  const write = (h: Handler) => projectRoute(store, 'cohort:write', h);
  const notAllowed = projectRoute(store, null, async (req) => methodNotAllowed(req));

  const list = read(async (req, _reply, { project }) => {
    const { limit, offset } = limitOffset(req);
    const { count, rows } = await store.listCohorts(project.id, { limit, offset });
    return paginate(req, count, limit, offset, rows.map(serializeCohort));
  });

  const create = write(async (req, reply, { project, actor }) => {
    const request = cohortRequest(req);
    const body = parseWith(cohortCreateSchema, request.body);
    const isStatic = body.is_static ?? false;
    if (request.csv !== undefined && !isStatic) throw new VexilError('VXL_VALIDATION', { message: 'A CSV of persons can only be uploaded to a static cohort.', attr: 'csv' });
    const fromCsv = request.csv === undefined ? undefined : await csvMembers(request.csv);
    if (!isStatic) {
      validateCohortFilterShape(body.filters);
      validateCohortReferences(body.filters, null, await rulesOf(store, project.id));
    }
    const personIds = body._create_static_person_ids;
    if (personIds !== undefined) {
      if (!isStatic) throw new VexilError('VXL_VALIDATION', { message: 'Can only add users to static cohorts', attr: '_create_static_person_ids' });
      listOfStrings(personIds, '_create_static_person_ids', isUuid, 'UUID');
    }
    const row = await store.createCohort(project.id, {
      name: body.name ?? '',
      description: body.description ?? '',
      isStatic,
      // Static cohorts are defined by their members; PostHog skips validating their filters, Vexil drops them.
      filters: isStatic ? null : body.filters,
    }, actor);
    if (personIds !== undefined && personIds.length > 0) await store.addStaticCohortMembers(project.id, row.id, { personIds });
    if (fromCsv !== undefined) await store.addStaticCohortMembers(project.id, row.id, fromCsv);
    await notifyChanged(deps, project.id, req);
    reply.code(201);
    return serializeCohort(row);
  });

  const retrieve = read(async (req, _reply, { project }) => serializeCohort(await getCohortOr404(store, project.id, req)));

  const update = write(async (req, _reply, { project, actor }) => {
    const cohort = await getCohortOr404(store, project.id, req);
    const request = cohortRequest(req);
    const body = parseWith(cohortPatchSchema, request.body);
    if (body.is_static !== undefined && body.is_static !== cohort.isStatic) {
      throw new VexilError('VXL_VALIDATION', { message: 'is_static cannot be changed after a cohort is created.', attr: 'is_static' });
    }
    if (request.csv !== undefined && !cohort.isStatic) throw new VexilError('VXL_VALIDATION', { message: 'A CSV of persons can only be uploaded to a static cohort.', attr: 'csv' });
    // PostHog adds a CSV's persons on update unless the same request deletes the cohort.
    const fromCsv = request.csv === undefined || body.deleted === true ? undefined : await csvMembers(request.csv);
    const rules = await rulesOf(store, project.id);
    const newFilters = body.filters !== undefined && !cohort.isStatic ? body.filters : undefined;
    if (newFilters !== undefined) {
      validateCohortFilterShape(newFilters);
      validateCohortReferences(newFilters, cohort.id, rules);
    }
    if (body.deleted === true && !cohort.deleted) checkDeletable(cohort, rules);
    const row = await store.updateCohort(project.id, cohort.id, {
      name: body.name === undefined ? undefined : (body.name ?? ''),
      description: body.description,
      filters: newFilters,
      deleted: body.deleted,
    }, actor);
    if (row === null) throw new VexilError('VXL_NOT_FOUND');
    if (fromCsv !== undefined) {
      await store.addStaticCohortMembers(project.id, row.id, fromCsv);
      await notifyMembershipChanged(deps, project.id, req);
    }
    await notifyChanged(deps, project.id, req);
    return serializeCohort(row);
  });

  const addMembers = write(async (req, _reply, { key, project }) => {
    const cohort = await getCohortOr404(store, project.id, req);
    if (!cohort.isStatic) throw new VexilError('VXL_VALIDATION', { message: 'Can only add users to static cohorts' });
    // Other fields are ignored, as PostHog's action ignores them.
    const body = requireObject(req.body);
    let distinctIds: string[] | undefined;
    if (body.distinct_ids !== undefined) {
      // Vexil extension: unknown distinct ids get a new person, so it also needs person:write.
      requireScope(key, 'person:write');
      distinctIds = listOfStrings(body.distinct_ids, 'distinct_ids', (s) => s.length > 0 && s.length <= 400, 'distinct id');
    }
    const personIds = body.person_ids !== undefined || distinctIds === undefined
      ? listOfStrings(body.person_ids, 'person_ids', isUuid, 'UUID')
      : undefined;
    // Idempotent: ids of unknown persons and existing members add nothing. (PostHog answers 400
    // "No valid users to add to cohort" when no person exists; the Store cannot tell the two apart.)
    await store.addStaticCohortMembers(project.id, cohort.id, { personIds, distinctIds });
    await notifyMembershipChanged(deps, project.id, req);
    return { success: true };
  });

  const removeMember = write(async (req, _reply, { project }) => {
    const cohort = await getCohortOr404(store, project.id, req);
    if (!cohort.isStatic) throw new VexilError('VXL_VALIDATION', { message: 'Can only remove users from static cohorts' });
    const personId = requireObject(req.body).person_id;
    if (personId === undefined || personId === null || personId === '') throw new VexilError('VXL_VALIDATION', { message: 'person_id is required' });
    if (typeof personId !== 'string') throw new VexilError('VXL_VALIDATION', { message: 'person_id must be a string' });
    if (!isUuid(personId)) throw new VexilError('VXL_VALIDATION', { message: 'person_id must be a valid UUID' });
    if (!(await store.removeStaticCohortMember(project.id, cohort.id, personId))) {
      throw new VexilError('VXL_NOT_FOUND', { message: 'Person is not part of the cohort' });
    }
    await notifyMembershipChanged(deps, project.id, req);
    return { success: true };
  });

  const base = '/projects/:projectId/cohorts/';
  addResource(app, base, { GET: list, POST: create }, notAllowed);
  // DELETE is not registered: hard delete is forbidden (PostHog ForbidDestroyModel ⇒ 405).
  addResource(app, `${base}:cohortId/`, { GET: retrieve, PATCH: update, PUT: update }, notAllowed);
  addResource(app, `${base}:cohortId/add_persons_to_static_cohort/`, { PATCH: addMembers }, notAllowed);
  addResource(app, `${base}:cohortId/remove_person_from_static_cohort/`, { PATCH: removeMember }, notAllowed);
}
