/**
 * @module admin/routes
 * The PostHog-shaped admin API as one encapsulated fastify plugin under `/api`: its own JSON
 * parser (body and depth limits), its own DRF-shaped error and 404 handlers, and the projects,
 * feature-flag and cohort routes.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { VexilError } from '../errors.ts';
import { authenticate } from './auth.ts';
import { parseJsonBody } from './body.ts';
import { registerCohortRoutes } from './cohorts.ts';
import type { AdminDeps } from './deps.ts';
import { adminErrorHandler, markFormRead } from './error-handler.ts';
import { registerFlagRoutes } from './feature-flags.ts';
import { registerProjectRoutes } from './projects.ts';
import { buildOpenApi, recordApiRoutes } from './openapi.ts';
import { adminRateLimitHook } from './key-rate-limit.ts';

/** The admin API's version in the OpenAPI document (the package version). */
const API_VERSION = '0.1.0';
import { registerScheduledChangeRoutes } from './scheduled-changes.ts';

export type { AdminDeps } from './deps.ts';

/** Default largest admin request body: 1 MiB, far above any real flag or cohort definition. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** Largest uploaded file (a static cohort's CSV): 50 MiB, about a million UUIDs. */
export const UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

/**
 * Registers the admin API on `app` under `/api` (`/api/projects/…`, `/api/environments/…`,
 * `/api/personal_api_keys/`). Everything is encapsulated: the error handler, the 404 handler
 * for unknown `/api/*` routes and the body parsers apply to these routes only. Bodies are
 * `application/json`, or `multipart/form-data` for uploads (a static cohort's CSV: one file, few
 * fields, see the limits below); anything else ⇒ 415. Malformed JSON, bodies over the
 * limit and invalid fields are 4xx in PostHog's DRF shape, never a 500. Unknown top-level
 * fields are ignored, as DRF serializers ignore them.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const apiRoutes = recordApiRoutes(app);
  let schemaDocument: string | undefined;
  await app.register(
    async (api) => {
      api.setErrorHandler(adminErrorHandler);
      if (deps.rateLimiter) api.addHook('onRequest', adminRateLimitHook(deps.rateLimiter));
      api.setNotFoundHandler((req, reply) => adminErrorHandler(new VexilError('VXL_ROUTE_NOT_FOUND'), req, reply));
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
        try {
          done(null, parseJsonBody(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      });
      // A form is read only for a valid personal key (this hook runs before the multipart
      // plugin's): otherwise anyone could make the server buffer a 50 MiB upload.
      api.addHook('preValidation', async (req) => {
        if (String(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')) await authenticate(deps.store, req.headers.authorization);
      });
      // Fields and the one file land in req.body (files as Buffers); limits bound the whole form.
      await api.register(multipart, {
        attachFieldsToBody: 'keyValues',
        limits: { files: 1, fileSize: UPLOAD_LIMIT_BYTES, fields: 20, fieldSize: bodyLimit, parts: 21 },
      });
      api.addHook('preHandler', async (req) => markFormRead(req));
      registerProjectRoutes(api, deps);
      registerFlagRoutes(api, deps);
      registerCohortRoutes(api, deps);
      // Public, as PostHog's. Built on first request, when every route is registered.
      for (const url of ['/schema', '/schema/']) {
        api.get(url, async (_req, reply) => {
          schemaDocument ??= JSON.stringify(buildOpenApi(apiRoutes, API_VERSION));
          return reply.type('application/json; charset=utf-8').send(schemaDocument);
        });
      }
      registerScheduledChangeRoutes(api, deps);
    },
    { prefix: '/api' },
  );
}
