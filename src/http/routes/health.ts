/**
 * @module http/routes/health
 * Liveness (the process answers), readiness (the store answers) and PostHog's plain-text `GET /`.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.ts';
import type { DrainState } from '../drain.ts';

/** How long readiness waits for the store before calling it down. */
const READINESS_TIMEOUT_MS = 2000;

/** Registers `/_liveness`, `/_readiness` and `GET /`. */
export function registerHealthRoutes(app: FastifyInstance, deps: { store: Store; drain?: DrainState }): void {
  app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('Vexil feature flag service'));
  app.get('/_liveness', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
  app.get('/_readiness', async (request, reply) => {
    // A draining node tells the load balancer to stop routing to it.
    if (deps.drain?.draining) return reply.code(503).type('text/plain; charset=utf-8').send('shutting down');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('store ping timed out')), READINESS_TIMEOUT_MS);
        }),
      ]);
      return reply.type('text/plain; charset=utf-8').send('ok');
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).type('text/plain; charset=utf-8').send('database unavailable');
    } finally {
      clearTimeout(timer);
    }
  });
}
