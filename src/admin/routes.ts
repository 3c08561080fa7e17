/**
 * @module admin/routes
 * The PostHog-shaped admin API as one encapsulated fastify plugin under `/api`: its own JSON
 * parser (body and depth limits), its own DRF-shaped error and 404 handlers, and the projects,
 * feature-flag and cohort routes.
 */
import type { FastifyInstance } from 'fastify';
import { VexilError } from '../errors.ts';
import { parseJsonBody } from './body.ts';
import { registerCohortRoutes } from './cohorts.ts';
import type { AdminDeps } from './deps.ts';
import { adminErrorHandler } from './error-handler.ts';
import { registerFlagRoutes } from './feature-flags.ts';
import { registerProjectRoutes } from './projects.ts';

export type { AdminDeps } from './deps.ts';

/** Default largest admin request body: 1 MiB, far above any real flag or cohort definition. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Registers the admin API on `app` under `/api` (`/api/projects/…`, `/api/environments/…`,
 * `/api/personal_api_keys/`). Everything is encapsulated: the error handler, the 404 handler
 * for unknown `/api/*` routes and the body parsers apply to these routes only. Only
 * `application/json` bodies are accepted (anything else ⇒ 415); malformed JSON, bodies over the
 * limit and invalid fields are 4xx in PostHog's DRF shape, never a 500. Unknown top-level
 * fields are ignored, as DRF serializers ignore them.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  await app.register(
    async (api) => {
      api.setErrorHandler(adminErrorHandler);
      api.setNotFoundHandler((req, reply) => adminErrorHandler(new VexilError('VXL_ROUTE_NOT_FOUND'), req, reply));
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
        try {
          done(null, parseJsonBody(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      });
      registerProjectRoutes(api, deps);
      registerFlagRoutes(api, deps);
      registerCohortRoutes(api, deps);
    },
    { prefix: '/api' },
  );
}
