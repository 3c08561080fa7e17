/**
 * @module http/routes/health
 * Liveness (the process answers), readiness (what this node can serve, and what is degraded) and
 * PostHog's plain-text `GET /`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Store } from '../../store/store.ts';
import { wantsHtml } from './web-ui.ts';
import type { DrainState } from '../drain.ts';

/** How long readiness waits for the store before calling it down. */
const READINESS_TIMEOUT_MS = 2000;

/** The `/_readiness` body: one check per dependency, and an overall status. */
export interface ReadinessBody {
  /**
   * `ok`: everything answers. `degraded`: the database does not answer, but this node holds
   * compiled flags and keeps serving them (stored-person flags come back failed). `unavailable`:
   * the database does not answer and there is nothing to serve from memory. `shutting_down`:
   * the node drains after SIGTERM (503, so balancers stop routing to it).
   */
  status: 'ok' | 'degraded' | 'unavailable' | 'shutting_down';
  checks: { database: { ok: boolean; latencyMs: number; error: string | null } };
  /** Projects whose flags this node serves from memory. */
  projectsLoaded: number;
  /** The process that answered: with VEXIL_WORKERS > 1, one of the node's workers. */
  pid: number;
  /** Whether projects not in memory can still be loaded from the Redis definitions mirror. */
  definitionsMirror: boolean;
  /**
   * Each path change notices reach this node by and whether it is on it now, e.g.
   * `{ "redis": false, "postgres": true }` while Redis is unreachable; `{}` for a single process.
   * Informational: a node off a path still serves (status is not affected).
   */
  changeNotices: Readonly<Record<string, boolean>>;
}

/** Times one store ping, bounded by READINESS_TIMEOUT_MS. */
async function checkDatabase(store: Store): Promise<ReadinessBody['checks']['database'] & { err?: unknown }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started), error: null };
  } catch (err) {
    // The cause says why (refused, timed out, terminated); the VexilError only that it is down.
    const cause = (err as { cause?: unknown }).cause;
    const error = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    return { ok: false, latencyMs: Math.round(performance.now() - started), error, err };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers `/_liveness`, `/_readiness` and `GET /`: PostHog's plain text, or the admin UI page
 * (`sendUi`, when the UI is built) for clients that accept HTML.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    snapshots: { readonly loadedProjects: number; readonly hasMirror?: boolean; readonly changeNotices?: Readonly<Record<string, boolean>> };
    sendUi?: ((reply: FastifyReply) => unknown) | null;
    /** Set while the server drains: readiness then answers 503 so balancers stop routing here. */
    drain?: DrainState;
  },
): void {
  const sendUi = deps.sendUi ?? null;
  app.get('/', async (request, reply) => {
    if (sendUi !== null && wantsHtml(request)) return sendUi(reply);
    return reply.type('text/plain; charset=utf-8').send('Vexil feature flag service');
  });
  app.get('/_liveness', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
  // 200 while the node can serve flags, even from memory during a database outage: taking every
  // node out of rotation when the shared database blips would turn degraded answers into none.
  // 503 only when it can serve nothing. The body says what is degraded either way.
  app.get('/_readiness', async (request, reply) => {
    // A draining node tells the load balancer to stop routing to it.
    if (deps.drain?.draining) {
      const body: ReadinessBody = {
        status: 'shutting_down',
        checks: { database: { ok: true, latencyMs: 0, error: null } },
        projectsLoaded: deps.snapshots.loadedProjects,
        definitionsMirror: deps.snapshots.hasMirror === true,
        changeNotices: deps.snapshots.changeNotices ?? {},
        pid: process.pid,
      };
      return reply.code(503).header('connection', 'close').send(body);
    }
    const { err, ...database } = await checkDatabase(deps.store);
    const projectsLoaded = deps.snapshots.loadedProjects;
    const definitionsMirror = deps.snapshots.hasMirror === true;
    // With the mirror, projects not yet in memory are still served (read-only, degraded).
    const status: ReadinessBody['status'] = database.ok ? 'ok' : projectsLoaded > 0 || definitionsMirror ? 'degraded' : 'unavailable';
    if (!database.ok) request.log.warn({ err }, 'readiness: database check failed');
    const changeNotices = deps.snapshots.changeNotices ?? {};
    const body: ReadinessBody = { status, checks: { database }, projectsLoaded, definitionsMirror, changeNotices, pid: process.pid };
    return reply.code(status === 'unavailable' ? 503 : 200).send(body);
  });
}
