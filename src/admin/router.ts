/**
 * @module admin/router
 * Registers one admin resource path the way PostHog's DRF router exposes it: with and without
 * the trailing slash, under `/projects/:id/…` and its `/environments/:id/…` alias, and with
 * 405 `method_not_allowed` for the methods the resource does not support.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../errors.ts';

/** The methods every admin resource answers (unsupported ones with 405). */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** One of METHODS. */
export type Method = (typeof METHODS)[number];
/** A plain fastify handler. */
export type RouteHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Throws the 405 `method_not_allowed` error; callers wrap it with the resource's authentication. */
export function methodNotAllowed(req: FastifyRequest): never {
  throw new VexilError('VXL_METHOD_NOT_ALLOWED', { message: `Method "${req.method}" not allowed.` });
}

function ignoresTrailingSlash(app: FastifyInstance): boolean {
  const config = app.initialConfig as { ignoreTrailingSlash?: boolean; routerOptions?: { ignoreTrailingSlash?: boolean } };
  return config.ignoreTrailingSlash === true || config.routerOptions?.ignoreTrailingSlash === true;
}

/** Every URL a resource path answers on. */
function urlVariants(app: FastifyInstance, path: string): string[] {
  const bases = [path];
  if (path.startsWith('/projects/:projectId')) bases.push(path.replace('/projects/', '/environments/'));
  const trimmed = bases.map((p) => p.replace(/\/$/, ''));
  if (ignoresTrailingSlash(app)) return trimmed;
  return trimmed.flatMap((p) => [p, `${p}/`]);
}

/**
 * Registers `handlers` for `path` (written with its trailing slash, relative to `/api`); every
 * other method answers 405 through `notAllowed`, which should authenticate first like DRF does.
 */
export function addResource(
  app: FastifyInstance,
  path: string,
  handlers: Partial<Record<Method, RouteHandler>>,
  notAllowed: RouteHandler,
): void {
  for (const url of urlVariants(app, path)) {
    for (const method of METHODS) {
      // The config flag lets the OpenAPI document (admin/openapi.ts) leave out the 405 answers.
      app.route({ method, url, handler: handlers[method] ?? notAllowed, config: { methodNotAllowed: handlers[method] === undefined } as Record<string, unknown> });
    }
  }
}
