/**
 * @module http/routes/metrics
 * `GET /metrics`: the Prometheus exposition of the app's registry.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.ts';

/** Registers `GET /metrics`. */
export function registerMetricsRoute(app: FastifyInstance, deps: { metrics: Metrics }): void {
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
