/**
 * @module http/routes/definitions
 * Flag definitions for SDK local evaluation (spec §7): `/flags/definitions?token=` (posthog-node
 * 5.x), the Django `/api/feature_flag/local_evaluation?token=[&send_cohorts]` and the
 * project-scoped `/api/projects/:id/feature_flags/local_evaluation/`. Bodies and ETags are built
 * once per snapshot revision; a request only authenticates and copies bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../../errors.ts';
import type { ProjectEntry, SnapshotCache } from '../../cache/snapshot-cache.ts';
import type { Store } from '../../store/store.ts';
import { createDefinitionsAuthorizer } from '../definitions/definitions-auth.ts';
import type { KeyRevocations } from '../../auth/key-revocations.ts';
import { buildDefinitionsBody, type DefinitionsBody } from '../definitions/definitions-body.ts';
import type { RateLimiter } from '../rate-limit.ts';

/** What the definitions endpoints need. */
export interface DefinitionsRouteDeps {
  store: Store;
  snapshots: SnapshotCache;
  rateLimiter: RateLimiter | null;
  /** Revoked personal API keys: remembered authorizations are dropped at once. */
  keyRevocations?: KeyRevocations;
}

const ALLOW = 'GET, OPTIONS, HEAD';
/** The project's time zone on every definitions answer, 304 included (a zone change keeps the body and its ETag). */
export const TIMEZONE_HEADER = 'x-vexil-timezone';
const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

type Query = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Whether `If-None-Match` names `etag` (weak, strong or bare forms; lists; `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const tag = part.trim().replace(/^W\//i, '').replace(/^"|"$/g, '');
    return tag === etag || tag === '*';
  });
}

/** The project of the `token` query parameter (400 when absent, 401 when unknown). */
export async function projectByToken(snapshots: SnapshotCache, query: Query): Promise<ProjectEntry> {
  const token = first(query.token);
  if (token === undefined || token === '') {
    throw new VexilError('VXL_REQUEST_INVALID', { message: 'Failed to deserialize query string: missing field `token`' });
  }
  let entry: ProjectEntry | null;
  try {
    entry = await snapshots.resolveToken(token);
  } catch (err) {
    throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
  }
  if (!entry) throw new VexilError('VXL_TOKEN_INVALID');
  return entry;
}

function send(request: FastifyRequest, reply: FastifyReply, defs: DefinitionsBody): FastifyReply {
  reply.header('etag', `W/"${defs.etag}"`).header('cache-control', 'private, must-revalidate');
  const ifNoneMatch = request.headers['if-none-match'];
  if (etagMatches(Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch, defs.etag)) return reply.code(304).send();
  return reply.type('application/json').send(defs.body);
}

/**
 * Method handling shared by the three paths (spec §7.1): HEAD ⇒ 200 empty, OPTIONS ⇒ 204,
 * anything but GET ⇒ 405; GET resolves the project, authorizes and serves.
 */
function handler(
  deps: DefinitionsRouteDeps,
  authorize: (authorization: string | undefined, projectId: number) => Promise<void>,
  resolve: (request: FastifyRequest) => Promise<{ entry: () => Promise<ProjectEntry>; projectId: () => Promise<number> }>,
  sendCohorts: (query: Query) => boolean,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (request.method === 'HEAD') return reply.type('application/json').send('');
    if (request.method === 'OPTIONS') return reply.code(204).header('allow', ALLOW).send();
    if (request.method !== 'GET') {
      reply.header('allow', ALLOW);
      throw new VexilError('VXL_METHOD_NOT_ALLOWED');
    }
    const target = await resolve(request);
    const projectId = await target.projectId();
    await authorize(request.headers.authorization, projectId);
    const entry = await target.entry();
    if (deps.rateLimiter && !deps.rateLimiter.take(entry.project.id)) throw new VexilError('VXL_RATE_LIMITED');
    const cohorts = sendCohorts(request.query as Query);
    // Vexil's header, not part of PostHog's body: vexil/client reads naive dates in this zone, as /flags does.
    reply.header(TIMEZONE_HEADER, entry.project.timezone);
    return send(request, reply, entry.derive(`definitions:${cohorts}`, (e) => buildDefinitionsBody(e.definitions, cohorts)));
  };
}

/** Registers the definitions endpoints. */
export function registerDefinitionsRoutes(app: FastifyInstance, deps: DefinitionsRouteDeps): void {
  const authorize = createDefinitionsAuthorizer(deps.store, Date.now, deps.keyRevocations);
  const byToken = handler(
    deps,
    authorize,
    async (request) => {
      const entry = await projectByToken(deps.snapshots, request.query as Query);
      return { entry: async () => entry, projectId: async () => entry.project.id };
    },
    // posthog-node always sends send_cohorts here; the Rust service always includes cohorts.
    () => true,
  );
  const byTokenDjango = handler(
    deps,
    authorize,
    async (request) => {
      const entry = await projectByToken(deps.snapshots, request.query as Query);
      return { entry: async () => entry, projectId: async () => entry.project.id };
    },
    // Django: a bare `send_cohorts` means true (spec §7.1).
    (query) => query.send_cohorts !== undefined,
  );
  const byProjectId = handler(
    deps,
    authorize,
    async (request) => {
      const raw = (request.params as { projectId: string }).projectId;
      const id = /^\d{1,15}$/.test(raw) ? Number(raw) : null;
      return {
        // Authorization runs against the id first, so an unauthenticated caller learns nothing about which projects exist.
        projectId: async () => id ?? -1,
        entry: async () => {
          const entry = id === null ? null : await deps.snapshots.get(id);
          if (!entry) throw new VexilError('VXL_NOT_FOUND');
          return entry;
        },
      };
    },
    (query) => query.send_cohorts !== undefined,
  );
  for (const url of ['/flags/definitions', '/flags/definitions/']) {
    app.route({ method: [...METHODS], url, exposeHeadRoute: false, handler: byToken });
  }
  for (const url of ['/api/feature_flag/local_evaluation', '/api/feature_flag/local_evaluation/']) {
    app.route({ method: [...METHODS], url, exposeHeadRoute: false, handler: byTokenDjango });
  }
  for (const url of ['/api/projects/:projectId/feature_flags/local_evaluation', '/api/projects/:projectId/feature_flags/local_evaluation/']) {
    app.route({ method: [...METHODS], url, exposeHeadRoute: false, handler: byProjectId });
  }
}
