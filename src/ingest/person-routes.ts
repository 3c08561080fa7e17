/**
 * @module ingest/person-routes
 * Admin read API for persons and groups, plus bulk person import, as a fastify plugin:
 * PostHog-shaped `/api/projects/:id/persons/…` and `/groups/…` with personal API key auth
 * (`person:read` / `person:write`), errors in the admin API's DRF shape.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, projectRoute, type ProjectContext, type Scope } from '../admin/auth.ts';
import { adminErrorHandler } from '../admin/error-handler.ts';
import { adminRateLimitHook } from '../admin/key-rate-limit.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { limitOffset, pageLinks } from '../admin/pagination.ts';
import { VexilError } from '../errors.ts';
import type { GroupRow, PersonRow, Store } from '../store/store.ts';
import { expandDistinctIds } from './person-ids.ts';
import { readPersons, sniffFormat, type ImportFormat, type PersonRecord } from './person-import.ts';

/** What the person routes are given by the composition root. */
export interface PersonRoutesDeps {
  store: Store;
  /** After persons with these distinct ids changed (cache invalidation). */
  onPersonsChanged?(projectId: number, distinctIds: string[]): void | Promise<void>;
  /** After a change whose distinct ids are not known (delete by UUID, bulk import). */
  onAllPersonsChanged?(projectId: number): void | Promise<void>;
  /** Largest bulk import body, bytes (before gunzip). Default 100 MiB. */
  bulkBodyLimitBytes?: number;
  /** The admin API's per-key limiter, shared with it; absent or null = unlimited. */
  rateLimiter?: RateLimiter<string> | null;
}

export const DEFAULT_BULK_BODY_LIMIT_BYTES = 100 * 1024 * 1024;

/** PostHog's person JSON (`posthog/api/person.py`); Vexil's person id is its UUID. */
export function serializePerson(p: PersonRow): Record<string, unknown> {
  const email = p.properties.email;
  return {
    id: p.id,
    uuid: p.id,
    name: typeof email === 'string' && email !== '' ? email : (p.distinctIds[0] ?? p.id),
    distinct_ids: p.distinctIds,
    properties: p.properties,
    is_identified: p.isIdentified,
    created_at: p.createdAt.toISOString(),
  };
}

/** PostHog's group JSON (`posthog/api/group.py`). */
export function serializeGroup(g: GroupRow): Record<string, unknown> {
  return {
    group_type_index: g.groupTypeIndex,
    group_key: g.groupKey,
    group_properties: g.properties,
    created_at: g.createdAt.toISOString(),
  };
}

function queryOf(req: FastifyRequest): Record<string, unknown> {
  return (req.query ?? {}) as Record<string, unknown>;
}

function requiredString(req: FastifyRequest, name: string): string {
  const v = queryOf(req)[name];
  if (typeof v !== 'string' || v === '') throw new VexilError('VXL_FIELD_REQUIRED', { message: `The ${name} query parameter is required.`, attr: name });
  return v;
}

/** A query parameter given as a non-empty string, else undefined. */
function optionalString(req: FastifyRequest, name: string): string | undefined {
  const v = queryOf(req)[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * `GET …/persons/` without `distinct_id`: newest first, `limit` (default 100, at most 1000) and
 * `offset`, `email` (exact) and `search` (email substring, or an exact distinct id), as PostHog's
 * persons list. `next`/`previous` are absolute URLs; there is no `count` (PostHog's is optional,
 * and counting every person of a large project on each page is not worth it).
 */
async function listPersons(req: FastifyRequest, store: Store, projectId: number): Promise<Record<string, unknown>> {
  if (queryOf(req).properties !== undefined) {
    throw new VexilError('VXL_VALIDATION', { message: 'Filtering persons by properties is not supported; use email, search or distinct_id.', attr: 'properties' });
  }
  const { limit, offset } = limitOffset(req);
  // One row more than the page tells whether there is a next page, without counting them all.
  const rows = await store.listPersons(projectId, { limit: limit + 1, offset, email: optionalString(req, 'email'), search: optionalString(req, 'search') });
  return { ...pageLinks(req, limit, offset, rows.length > limit), results: rows.slice(0, limit).map(serializePerson) };
}

function groupQuery(req: FastifyRequest): { index: number; key: string } {
  const rawIndex = requiredString(req, 'group_type_index');
  if (!/^[0-4]$/.test(rawIndex)) throw new VexilError('VXL_VALIDATION', { message: `group_type_index must be an integer 0–4, got '${rawIndex.slice(0, 20)}'.`, attr: 'group_type_index' });
  return { index: Number(rawIndex), key: requiredString(req, 'group_key') };
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** The bulk body as persons, validated in full before anything is written. */
async function bulkRecords(req: FastifyRequest): Promise<PersonRecord[]> {
  let body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding.includes('gzip') || (body[0] === 0x1f && body[1] === 0x8b)) {
    try {
      body = gunzipSync(body);
    } catch (err) {
      throw new VexilError('VXL_REQUEST_INVALID', { message: `Failed to decode request: gzip decompression failed: ${(err as Error).message}`, cause: err });
    }
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw new VexilError('VXL_VALIDATION', { message: 'The body is empty: send a JSON array or JSON lines of {"distinct_id", "properties"}.' });
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format: ImportFormat = type === 'text/csv' ? 'csv' : sniffFormat(text);
  const out: PersonRecord[] = [];
  for await (const r of readPersons(once(text), format)) out.push(r);
  return out;
}

async function* iterate(records: PersonRecord[]): AsyncGenerator<PersonRecord> {
  yield* records;
}

/** Runs a change notice after a successful write; a failure is logged, the write stands. */
async function notify(req: FastifyRequest, projectId: number, run: () => void | Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    req.log.error({ err, projectId }, 'person change notice failed');
  }
}

/** `/api/projects/:projectId/<rest>` and its `/api/environments/` alias, with and without the trailing slash. */
function urls(rest: string): string[] {
  return ['projects', 'environments'].flatMap((base) => [`/api/${base}/:projectId/${rest}`, `/api/${base}/:projectId/${rest}/`]);
}

/**
 * Registers the routes in their own scope (DRF error shape, raw-body parser):
 * - `GET …/persons/?distinct_id=` ⇒ `{count, next, previous, results:[person]}` (0 or 1 result)
 * - `GET …/persons/` ⇒ `{next, previous, results}`, newest first (limit/offset, email, search)
 * - `GET …/cohorts/:id/persons/` ⇒ `{next, previous, results}`: a static cohort's members
 * - `DELETE …/persons/:uuid/` ⇒ 204; the person's distinct ids, overrides and memberships go too
 * - `POST …/persons/bulk/` (JSON array, JSON lines or CSV; gzip ok) ⇒ `{imported: N}`
 * - `GET …/groups/?group_type_index=&group_key=` ⇒ `{count, next, previous, results}`
 * - `GET …/groups/find/?group_type_index=&group_key=` ⇒ the group, or 404
 */
export async function registerPersonRoutes(app: FastifyInstance, deps: PersonRoutesDeps): Promise<void> {
  const { store } = deps;
  const bodyLimit = deps.bulkBodyLimitBytes ?? DEFAULT_BULK_BODY_LIMIT_BYTES;
  await app.register(async (scope) => {
    scope.setErrorHandler(adminErrorHandler);
    if (deps.rateLimiter) scope.addHook('onRequest', adminRateLimitHook(deps.rateLimiter));
    // Bodies here may be up to 100 MiB: only a valid personal key gets one read (onRequest runs
    // before the body parser; the handler checks the scope and project as on every route).
    scope.addHook('onRequest', async (req) => {
      if (req.method === 'POST') await authenticate(store, req.headers.authorization);
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
    const route = (method: 'GET' | 'POST' | 'DELETE', rest: string, scopeName: Scope, handler: (req: FastifyRequest, reply: FastifyReply, ctx: ProjectContext) => Promise<unknown>) => {
      for (const url of urls(rest)) scope.route({ method, url, bodyLimit, handler: projectRoute(store, scopeName, handler) });
    };

    route('GET', 'persons', 'person:read', async (req, _reply, { project }) => {
      const distinctId = optionalString(req, 'distinct_id');
      if (distinctId === undefined) return listPersons(req, store, project.id);
      const person = await store.getPersonByDistinctId(project.id, distinctId);
      const results = person ? [serializePerson(person)] : [];
      return { count: results.length, next: null, previous: null, results };
    });

    // PostHog's `cohorts/:id/persons/`: a static cohort's members, paginated like the persons list.
    route('GET', 'cohorts/:cohortId/persons', 'person:read', async (req, _reply, { project }) => {
      const raw = (req.params as Record<string, string>).cohortId ?? '';
      const cohort = /^\d{1,9}$/.test(raw) ? await store.getCohort(project.id, Number(raw)) : null;
      if (cohort === null || cohort.deleted) throw new VexilError('VXL_NOT_FOUND');
      const { limit, offset } = limitOffset(req);
      const rows = cohort.isStatic ? await store.listPersons(project.id, { limit: limit + 1, offset, cohortId: cohort.id }) : [];
      return { ...pageLinks(req, limit, offset, rows.length > limit), results: rows.slice(0, limit).map(serializePerson) };
    });

    route('DELETE', 'persons/:personId', 'person:write', async (req, reply, { project }) => {
      const personId = (req.params as Record<string, string>).personId ?? '';
      if (!(await store.deletePerson(project.id, personId))) throw new VexilError('VXL_NOT_FOUND');
      await notify(req, project.id, () => deps.onAllPersonsChanged?.(project.id));
      return reply.code(204).send();
    });

    route('POST', 'persons/bulk', 'person:write', async (req, _reply, { project }) => {
      const records = await bulkRecords(req);
      const imported = await store.importPersons(project.id, iterate(records));
      // Small imports invalidate precisely (every id of every person touched); big ones, the project.
      await notify(req, project.id, async () => {
        if (records.length <= 1000 && deps.onPersonsChanged) {
          await deps.onPersonsChanged(project.id, await expandDistinctIds(store, project.id, records.map((r) => r.distinctId)));
        } else await deps.onAllPersonsChanged?.(project.id);
      });
      return { imported };
    });

    route('GET', 'groups', 'person:read', async (req, _reply, { project }) => {
      const q = groupQuery(req);
      const group = await store.getGroup(project.id, q.index, q.key);
      const results = group ? [serializeGroup(group)] : [];
      return { count: results.length, next: null, previous: null, results };
    });

    route('GET', 'groups/find', 'person:read', async (req, _reply, { project }) => {
      const q = groupQuery(req);
      const group = await store.getGroup(project.id, q.index, q.key);
      if (group === null) throw new VexilError('VXL_NOT_FOUND');
      return serializeGroup(group);
    });
  });
}
