/**
 * @module admin/openapi
 * The OpenAPI 3.1 document of the admin API, served at `/api/schema/` (where PostHog serves its
 * own). Never written by hand: the operations are the routes fastify actually registers under
 * `/api/` (recorded by an onRoute hook, 405 answers left out), and request bodies are the zod
 * schemas the handlers validate with, converted by `z.toJSONSchema`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { cohortCreateSchema, cohortPatchSchema } from './cohort-validation.ts';
import { flagCreateSchema, flagPatchSchema } from './flag-schema.ts';
import { personalKeySchema, projectCreateSchema, projectPatchSchema } from './projects.ts';
import { scheduledChangeCreateSchema, scheduledChangePatchSchema } from './scheduled-changes.ts';

/** One registered route: method and the fastify URL pattern. */
export interface RouteRecord {
  method: string;
  url: string;
}

/** `METHOD /path/{param}/` → the zod schema that validates its JSON body. */
const BODIES: Readonly<Record<string, z.ZodType>> = {
  'POST /api/projects/': projectCreateSchema,
  'PATCH /api/projects/{projectId}/': projectPatchSchema,
  'POST /api/personal_api_keys/': personalKeySchema,
  'POST /api/projects/{projectId}/feature_flags/': flagCreateSchema,
  'PUT /api/projects/{projectId}/feature_flags/{flagId}/': flagCreateSchema,
  'PATCH /api/projects/{projectId}/feature_flags/{flagId}/': flagPatchSchema,
  'POST /api/projects/{projectId}/cohorts/': cohortCreateSchema,
  'PUT /api/projects/{projectId}/cohorts/{cohortId}/': cohortPatchSchema,
  'PATCH /api/projects/{projectId}/cohorts/{cohortId}/': cohortPatchSchema,
  'POST /api/projects/{projectId}/scheduled_changes/': scheduledChangeCreateSchema,
  'PUT /api/projects/{projectId}/scheduled_changes/{changeId}/': scheduledChangeCreateSchema,
  'PATCH /api/projects/{projectId}/scheduled_changes/{changeId}/': scheduledChangePatchSchema,
};

/** Path of the document itself. */
export const SCHEMA_PATH = '/api/schema/';

/**
 * Records every route registered on `app` (and its child scopes) from now on whose URL is under
 * `/api/`, except 405 answers, HEAD/OPTIONS and the document itself. The returned array fills
 * as plugins load.
 */
export function recordApiRoutes(app: FastifyInstance): RouteRecord[] {
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    if ((route.config as { methodNotAllowed?: boolean } | undefined)?.methodNotAllowed) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, url: route.url });
    }
  });
  return routes;
}

/**
 * The document's path for a route URL: `:name` → `{name}`, with a trailing slash (PostHog's
 * form; both are served). Null for the `/environments/` alias, described once instead.
 */
export function openApiPath(url: string): string | null {
  if (url.startsWith('/api/environments/')) return null;
  const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return path.endsWith('/') ? path : `${path}/`;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // Input side: what a client sends. Refinements and transforms have no JSON Schema form; they
  // become unconstrained rather than failing the document.
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const ERROR_SCHEMA = {
  type: 'object',
  description: "PostHog's DRF error shape.",
  properties: { type: { type: 'string' }, code: { type: 'string' }, detail: { type: 'string' }, attr: { type: ['string', 'null'] } },
  required: ['type', 'code', 'detail'],
};

/** Builds the OpenAPI 3.1 document from recorded routes. */
export function buildOpenApi(routes: readonly RouteRecord[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, url } of routes) {
    const path = openApiPath(url);
    if (path === null || path === SCHEMA_PATH) continue;
    const m = method.toLowerCase();
    const item = (paths[path] ??= {});
    if (item[m]) continue;
    const params = [...path.matchAll(/\{([^}]+)\}/g)].map((p) => ({ name: p[1], in: 'path', required: true, schema: { type: 'string' } }));
    const body = BODIES[`${method} ${path}`];
    const segments = path.split('/').filter((s) => s !== '' && s !== 'api' && !s.startsWith('{'));
    item[m] = {
      operationId: `${m}_${segments.join('_') || 'root'}${params.length ? `_by_${params.map((p) => p.name).join('_')}` : ''}`,
      tags: [segments[segments.length > 1 && segments[0] === 'projects' ? 1 : 0] ?? 'api'],
      ...(params.length ? { parameters: params } : {}),
      ...(body ? { requestBody: { required: method !== 'PATCH', content: { 'application/json': { schema: jsonSchema(body) } } } } : {}),
      responses: {
        '2XX': { description: 'Success (PostHog-shaped JSON).' },
        '4XX': { description: 'Invalid request, authentication or permission.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vexil admin API',
      version,
      description: 'PostHog-shaped admin API. Every /api/projects/{projectId}/… path is also served under /api/environments/{projectId}/…, with or without the trailing slash.',
    },
    security: [{ personalApiKey: [] }],
    paths: sorted,
    components: {
      securitySchemes: { personalApiKey: { type: 'http', scheme: 'bearer', description: 'Personal API key (phx_…).' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
