/**
 * @module admin/projects
 * Projects and personal API keys (spec §8.3): `/api/projects/` (list, create), `/api/projects/:id/`
 * (get; PATCH name and timezone; DELETE with everything in it; incl. `@current`),
 * `PATCH /api/projects/:id/rotate_secret_token/`
 * and `/api/personal_api_keys/` (list, create; `:id/` or `@current/` get, DELETE).
 * Secrets are generated here, returned once, and stored only as SHA-256 hashes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { generateToken, hashSecret, maskKey } from '../auth/keys.ts';
import { VexilError } from '../errors.ts';
import type { PersonalApiKeyRow, ProjectRow, Store } from '../store/store.ts';
import { isKnownScope, keyRoute, projectRoute, requireScope, scopeGranted, visibleProjects } from './auth.ts';
import { parseWith, requireObject } from './body.ts';
import { notifyChanged, notifyMembershipChanged, type AdminDeps } from './deps.ts';
import { limitOffset, paginate } from './pagination.ts';
import { addResource, methodNotAllowed } from './router.ts';
import { serializePersonalApiKey, serializeProject } from './serializers.ts';

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// Unknown top-level fields are ignored, as DRF serializers ignore them.
export const projectCreateSchema = z.object({
  name: z.string().min(1).max(200),
  timezone: z.string().max(240).optional(),
});

export const projectPatchSchema = z.object({
  name: projectCreateSchema.shape.name.optional(),
  timezone: projectCreateSchema.shape.timezone,
});

export const personalKeySchema = z.object({
  label: z.string().min(1).max(40),
  scopes: z.array(z.string()).min(1),
  scoped_teams: z.array(z.number().int().positive()).nullable().optional(),
  // Vexil has no organisations: only an empty list is meaningful.
  scoped_organizations: z.array(z.string()).max(0).nullable().optional(),
});

async function projectJson(store: Store, project: ProjectRow, secret: string | null = null): Promise<Record<string, unknown>> {
  return serializeProject(project, await store.getGroupTypeMapping(project.id), secret);
}

/** The first scope of `scopes` that `requester` does not hold itself (`*` only from `*`). */
function scopeBeyond(requester: PersonalApiKeyRow, scopes: readonly string[]): string | undefined {
  return scopes.find((scope) => !(scope === '*' ? requester.scopes.includes('*') : scopeGranted(requester.scopes, scope)));
}

/** Whether `projects` (null = every project) stay within the requester's own projects. */
function projectsWithin(requester: PersonalApiKeyRow, projects: readonly number[] | null): boolean {
  return requester.scopedProjects === null || (projects !== null && projects.every((id) => requester.scopedProjects!.includes(id)));
}

/**
 * A key may only mint keys it could itself act as: every requested scope must be granted to it,
 * and a project-scoped key may only mint keys scoped to a subset of its projects.
 */
function checkNoEscalation(requester: PersonalApiKeyRow, scopes: readonly string[], projects: readonly number[] | null): void {
  const denied = (message: string) => new VexilError('VXL_PERMISSION_DENIED', { message });
  const beyond = scopeBeyond(requester, scopes);
  if (beyond !== undefined) throw denied(`API key cannot grant scope '${beyond}' it does not have itself`);
  if (!projectsWithin(requester, projects)) throw denied('API key cannot grant access to projects outside its own scoped_teams');
}

/**
 * Vexil has no users, so a key manages the keys it could have created itself: none with a scope
 * or a project it lacks. A full-access key (`*`, every project) therefore sees every key, and
 * every key sees itself.
 */
function manages(requester: PersonalApiKeyRow, key: PersonalApiKeyRow): boolean {
  return key.id === requester.id || (scopeBeyond(requester, key.scopes) === undefined && projectsWithin(requester, key.scopedProjects));
}

function checkTimeZone(zone: string | undefined): void {
  if (zone !== undefined && !isTimeZone(zone)) {
    throw new VexilError('VXL_CHOICE_INVALID', { message: `"${zone}" is not a valid choice.`, attr: 'timezone' });
  }
}

/** Registers project and personal-API-key routes on an `/api`-prefixed instance. */
export function registerProjectRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store } = deps;
  const keyNotAllowed = keyRoute(store, null, async (req) => methodNotAllowed(req));
  const projectNotAllowed = projectRoute(store, null, async (req) => methodNotAllowed(req));

  const list = keyRoute(store, 'project:read', async (req, _reply, { key }) => {
    const { limit, offset } = limitOffset(req);
    const projects = await visibleProjects(store, key);
    const page = await Promise.all(projects.slice(offset, offset + limit).map((p) => projectJson(store, p)));
    return paginate(req, projects.length, limit, offset, page);
  });

  const create = keyRoute(store, 'project:write', async (req, reply, { key }) => {
    if (key.scopedProjects !== null) {
      throw new VexilError('VXL_PERMISSION_DENIED', { message: 'API keys scoped to specific projects cannot create projects.' });
    }
    const body = parseWith(projectCreateSchema, requireObject(req.body));
    checkTimeZone(body.timezone);
    const secret = generateToken('phs');
    const project = await store.createProject({
      name: body.name,
      apiToken: generateToken('phc'),
      secretTokenHash: hashSecret(secret),
      timezone: body.timezone,
    });
    await notifyChanged(deps, project.id, req);
    reply.code(201);
    return projectJson(store, project, secret);
  });

  const retrieve = projectRoute(store, 'project:read', async (_req, _reply, { project }) => projectJson(store, project));

  const update = projectRoute(store, 'project:write', async (req, _reply, { project }) => {
    const body = parseWith(projectPatchSchema, requireObject(req.body));
    checkTimeZone(body.timezone);
    const updated = await store.updateProject(project.id, { name: body.name, timezone: body.timezone });
    if (updated === null) throw new VexilError('VXL_NOT_FOUND');
    await notifyChanged(deps, project.id, req);
    return projectJson(store, updated);
  });

  // Everything in the project goes, at once (PostHog deletes in the background). Its tokens stop
  // working on every node: the snapshot is dropped here and the change notice drops it elsewhere.
  const remove = projectRoute(store, 'project:write', async (req, reply, { project }) => {
    if ((req.params as Record<string, string | undefined>).projectId === '@current') {
      throw new VexilError('VXL_VALIDATION', { message: 'Name the project to delete by its id, not @current.' });
    }
    if (!(await store.deleteProject(project.id))) throw new VexilError('VXL_NOT_FOUND');
    req.log.info({ projectId: project.id }, 'project deleted');
    await notifyChanged(deps, project.id, req);
    await notifyMembershipChanged(deps, project.id, req);
    return reply.code(204).send();
  });

  const rotateSecret = projectRoute(store, 'project:write', async (req, _reply, { project }) => {
    const secret = generateToken('phs');
    await store.setProjectSecretHash(project.id, hashSecret(secret));
    await notifyChanged(deps, project.id, req);
    return projectJson(store, project, secret);
  });

  const createKey = keyRoute(store, 'personal_api_key:write', async (req, reply, { key }) => {
    const body = parseWith(personalKeySchema, requireObject(req.body));
    const unknown = body.scopes.find((s) => !isKnownScope(s));
    if (unknown !== undefined) throw new VexilError('VXL_VALIDATION', { message: `Invalid scope: ${unknown}`, attr: 'scopes' });
    const projects = body.scoped_teams && body.scoped_teams.length > 0 ? [...new Set(body.scoped_teams)] : null;
    checkNoEscalation(key, body.scopes, projects);
    for (const id of projects ?? []) {
      if ((await store.getProject(id)) === null) {
        throw new VexilError('VXL_VALIDATION', { message: `Project ${id} does not exist.`, attr: 'scoped_teams' });
      }
    }
    const value = generateToken('phx');
    const row = await store.createPersonalApiKey({ label: body.label, keyHash: hashSecret(value), scopes: [...new Set(body.scopes)], scopedProjects: projects, maskValue: maskKey(value) });
    reply.code(201);
    return serializePersonalApiKey(row, value);
  });

  const listKeys = keyRoute(store, 'personal_api_key:read', async (_req, _reply, { key }) =>
    (await store.listPersonalApiKeys()).filter((k) => manages(key, k)).map((k) => serializePersonalApiKey(k, null)),
  );

  /** The key named by `:keyId` if the caller manages it (`@current` is the caller's own key), else 404. */
  const managedKey = async (req: FastifyRequest, requester: PersonalApiKeyRow): Promise<PersonalApiKeyRow> => {
    const id = (req.params as Record<string, string | undefined>).keyId ?? '';
    if (id === '@current') return requester;
    const found = await store.getPersonalApiKey(id);
    if (found === null || !manages(requester, found)) throw new VexilError('VXL_NOT_FOUND');
    return found;
  };

  // As PostHog, any key may read itself through @current; other keys need personal_api_key:read.
  const retrieveKey = keyRoute(store, null, async (req, _reply, { key }) => {
    if ((req.params as Record<string, string | undefined>).keyId !== '@current') requireScope(key, 'personal_api_key:read');
    return serializePersonalApiKey(await managedKey(req, key), null);
  });

  const deleteKey = keyRoute(store, 'personal_api_key:write', async (req, reply, { key }) => {
    const target = await managedKey(req, key);
    if (!(await store.deletePersonalApiKey(target.id))) throw new VexilError('VXL_NOT_FOUND');
    req.log.info({ keyId: target.id, by: key.id }, 'personal API key deleted');
    try {
      await deps.onKeyRevoked?.();
    } catch (err) {
      req.log.error({ err, keyId: target.id }, 'key revocation notice failed');
    }
    return reply.code(204).send();
  });

  addResource(app, '/projects/', { GET: list, POST: create }, keyNotAllowed);
  addResource(app, '/projects/:projectId/', { GET: retrieve, PATCH: update, DELETE: remove }, projectNotAllowed);
  addResource(app, '/projects/:projectId/rotate_secret_token/', { PATCH: rotateSecret }, projectNotAllowed);
  addResource(app, '/personal_api_keys/', { GET: listKeys, POST: createKey }, keyNotAllowed);
  addResource(app, '/personal_api_keys/:keyId/', { GET: retrieveKey, DELETE: deleteKey }, keyNotAllowed);
}
