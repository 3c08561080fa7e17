/**
 * @module admin/auth
 * Personal API key authentication, scope checks and project visibility for the admin API
 * (spec §8: `Authorization: Bearer phx_…`; a `…:write` scope also grants `…:read`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, hashSecret, tokenKind } from '../auth/keys.ts';
import { recordKeyUse } from '../auth/key-use.ts';
import { VexilError } from '../errors.ts';
import type { PersonalApiKeyRow, ProjectRow, Store } from '../store/store.ts';
import { methodNotAllowed } from './router.ts';

/** Objects a personal API key scope can name. */
export const SCOPE_OBJECTS = ['feature_flag', 'cohort', 'project', 'person', 'personal_api_key'] as const;
/** One of SCOPE_OBJECTS. */
export type ScopeObject = (typeof SCOPE_OBJECTS)[number];
/** A scope an endpoint requires, e.g. `feature_flag:write`. */
export type Scope = `${ScopeObject}:${'read' | 'write'}`;

/** True for `*` and `<object>:read|write` with a known object. */
export function isKnownScope(scope: string): boolean {
  if (scope === '*') return true;
  const [object, level, extra] = scope.split(':');
  return extra === undefined && (level === 'read' || level === 'write') && (SCOPE_OBJECTS as readonly string[]).includes(object ?? '');
}

/** Whether `granted` allows `needed`: `*` allows everything, `x:write` also allows `x:read`. */
export function scopeGranted(granted: readonly string[], needed: string): boolean {
  if (granted.includes('*') || granted.includes(needed)) return true;
  const [object, level] = needed.split(':');
  return level === 'read' && granted.includes(`${object}:write`);
}

/**
 * Authenticates the request's bearer token as a personal API key.
 * No bearer token ⇒ 401 not_authenticated. A project token (`phc_`), a project secret (`phs_`)
 * or an unknown key ⇒ the same 401 authentication_failed, so nothing about the token leaks.
 */
export async function authenticate(store: Store, authorization: string | undefined): Promise<PersonalApiKeyRow> {
  const token = bearerToken(authorization);
  if (token === null) throw new VexilError('VXL_NOT_AUTHENTICATED');
  const kind = tokenKind(token);
  if (kind === 'phc' || kind === 'phs') throw new VexilError('VXL_PERSONAL_KEY_INVALID');
  const key = await store.getPersonalApiKeyByHash(hashSecret(token));
  if (key === null) throw new VexilError('VXL_PERSONAL_KEY_INVALID');
  recordKeyUse(store, key);
  return key;
}

/** 403 permission_denied naming the missing scope, in PostHog's words. */
export function requireScope(key: PersonalApiKeyRow, scope: Scope): void {
  if (!scopeGranted(key.scopes, scope)) {
    throw new VexilError('VXL_SCOPE_MISSING', { message: `API key missing required scope '${scope}'` });
  }
}

/** Whether the key may see the project (a null scope list means every project). */
export function canSeeProject(key: PersonalApiKeyRow, projectId: number): boolean {
  return key.scopedProjects === null || key.scopedProjects.includes(projectId);
}

/** Projects the key can see, lowest id first. */
export async function visibleProjects(store: Store, key: PersonalApiKeyRow): Promise<ProjectRow[]> {
  const all = await store.listProjects();
  return all.filter((p) => canSeeProject(key, p.id)).sort((a, b) => a.id - b.id);
}

/**
 * Resolves the `:projectId` path segment: a decimal id or `@current` (the first project the key
 * can see). A project that does not exist and one the key may not see are the same 404.
 */
export async function resolveProject(store: Store, key: PersonalApiKeyRow, raw: string): Promise<ProjectRow> {
  if (raw === '@current') {
    const first = (await visibleProjects(store, key))[0];
    if (first === undefined) throw new VexilError('VXL_NOT_FOUND');
    return first;
  }
  if (!/^\d{1,15}$/.test(raw)) throw new VexilError('VXL_NOT_FOUND');
  const id = Number(raw);
  if (!canSeeProject(key, id)) throw new VexilError('VXL_NOT_FOUND');
  const project = await store.getProject(id);
  if (project === null) throw new VexilError('VXL_NOT_FOUND');
  return project;
}

/** Who made a change, as written to the activity log. */
export function actorOf(key: PersonalApiKeyRow): string {
  return key.label.trim() === '' ? `personal_api_key:${key.id}` : key.label;
}

/** What a project-scoped handler receives once the request is authorised. */
export interface ProjectContext {
  key: PersonalApiKeyRow;
  project: ProjectRow;
  actor: string;
}

/** What a handler outside any project receives. */
export interface KeyContext {
  key: PersonalApiKeyRow;
  actor: string;
}

/** A route handler run after authentication, the scope check and project resolution. */
export type ProjectHandler = (req: FastifyRequest, reply: FastifyReply, ctx: ProjectContext) => Promise<unknown>;
/** A route handler run after authentication (and the scope check, if any). */
export type KeyHandler = (req: FastifyRequest, reply: FastifyReply, ctx: KeyContext) => Promise<unknown>;

/** Wraps a handler with authentication and an optional scope check (no scope: any valid key). */
export function keyRoute(store: Store, scope: Scope | null, handler: KeyHandler) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const key = await authenticate(store, req.headers.authorization);
    if (scope !== null) requireScope(key, scope);
    return handler(req, reply, { key, actor: actorOf(key) });
  };
}

/**
 * Wraps a handler with authentication, the scope check and project resolution from
 * `:projectId`. The scope is checked first, so a key without it learns nothing about projects.
 */
export function projectRoute(store: Store, scope: Scope | null, handler: ProjectHandler) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const key = await authenticate(store, req.headers.authorization);
    if (scope !== null) requireScope(key, scope);
    const projectId = (req.params as Record<string, string | undefined>).projectId ?? '';
    const project = await resolveProject(store, key, projectId);
    return handler(req, reply, { key, project, actor: actorOf(key) });
  };
}

/** A resource's wrappers: reads and writes under `object`'s scopes, and its authenticated 405. */
export function projectRoutes(store: Store, object: ScopeObject) {
  return {
    read: (h: ProjectHandler) => projectRoute(store, `${object}:read`, h),
    write: (h: ProjectHandler) => projectRoute(store, `${object}:write`, h),
    notAllowed: projectRoute(store, null, async (req) => methodNotAllowed(req)),
  };
}
