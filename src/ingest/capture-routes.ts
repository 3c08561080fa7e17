/**
 * @module ingest/capture-routes
 * PostHog's capture endpoints as a fastify plugin (spec §9): `/capture/`, `/batch/`, `/e/`,
 * `/i/v0/e/`, `/track/`, `/engage/`. Person and group changes are stored; every other event
 * is accepted, counted and dropped — Vexil is not an analytics store.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { EventApplier } from './apply-events.ts';
import { decodeCaptureBody } from './capture-body.ts';
import { captureErrorHandler } from './capture-errors.ts';
import { readCaptureRequest } from './capture-request.ts';
import { isProblem, normalizeEvent, type EventProblem, type NormalizedEvent } from './event-normalize.ts';
import { expandDistinctIds } from './person-ids.ts';

/** Size and shape caps for capture bodies. */
export interface CaptureLimits {
  /** Largest raw body, bytes. Default 20 MiB (PostHog capture's event payload limit). */
  bodyLimitBytes: number;
  /** Largest body after gunzip or LZ64, bytes. Default 64 MiB. */
  maxDecompressedBytes: number;
  /** Deepest JSON nesting. Default 64. */
  maxDepth: number;
  /** Most object members in one body. Default 500,000 (a full batch of chatty web events). */
  maxProperties: number;
}

export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = {
  bodyLimitBytes: 20 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  maxDepth: 64,
  maxProperties: 500_000,
};

/** What the capture plugin is given by the composition root. */
export interface CaptureDeps {
  store: Store;
  /** Project for a public token (`phc_…`); null when unknown. May throw when the store is down. */
  resolveProject(token: string): Promise<{ id: number } | null>;
  /**
   * After person writes: every distinct id of every person written (cache invalidation).
   * Notices are awaited before the response; a failing one is logged, never an error response.
   */
  onPersonsChanged?(projectId: number, distinctIds: string[]): void | Promise<void>;
  /** After a new group type got its index (snapshot rebuild: the group type mapping changed). */
  onDefinitionsChanged?(projectId: number): void | Promise<void>;
  /** After group properties were written. */
  onGroupsChanged?(projectId: number, groups: Array<{ groupTypeIndex: number; groupKey: string }>): void | Promise<void>;
  metrics?: Pick<Metrics, 'captureEvents'>;
  limits?: Partial<CaptureLimits>;
  /**
   * Each valid `$feature_flag_called` event: its `$feature_flag` and `$feature_flag_response`
   * (flag usage; the only signal for flags SDKs evaluate locally). Synchronous and in memory.
   */
  onFlagCalled?(projectId: number, flagKey: string, response: unknown): void;
}

/** The success body (spec §9), plus per-event problems when there were any. */
export interface CaptureResponse {
  status: 'Ok';
  errors?: EventProblem[];
  warnings?: EventProblem[];
}

const PATHS = ['/capture', '/batch', '/e', '/i/v0/e', '/track', '/engage'];
/** Legacy endpoints that also take `GET ?data=` (PostHog rust/capture integration_legacy_endpoints). */
const GET_PATHS = new Set(['/capture', '/e', '/track', '/engage']);

function first(v: unknown): string | undefined {
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  return first(request.headers[name]);
}

/**
 * Registers the capture routes (trailing slash optional) in their own encapsulated scope, with
 * raw-body parsers for every content type and the capture error shape. Never answers 500 for
 * bad input: a bad body is 400/413, a bad token 401, an unreachable store 503.
 */
export async function registerCaptureRoutes(app: FastifyInstance, deps: CaptureDeps): Promise<void> {
  const limits: CaptureLimits = { ...DEFAULT_CAPTURE_LIMITS, ...deps.limits };
  await app.register(async (scope) => {
    scope.setErrorHandler(captureErrorHandler(limits.bodyLimitBytes));
    scope.removeAllContentTypeParsers();
    const raw = (_request: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void): void => done(null, body);
    const parserOptions = { parseAs: 'buffer' as const, bodyLimit: limits.bodyLimitBytes };
    for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
      scope.addContentTypeParser(type, parserOptions, raw);
    }
    scope.addContentTypeParser('*', parserOptions, raw);

    for (const path of PATHS) {
      const handler = (request: FastifyRequest, reply: FastifyReply) => handleCapture(deps, limits, path, request, reply);
      const method = GET_PATHS.has(path) ? ['GET', 'POST'] : ['POST'];
      for (const url of [path, `${path}/`]) scope.route({ method, url, bodyLimit: limits.bodyLimitBytes, handler });
    }
  });
}

async function handleCapture(deps: CaptureDeps, limits: CaptureLimits, path: string, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const q = { compression: first(query.compression), data: first(query.data) };
  const decoded = decodeCaptureBody(
    {
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
      contentType: header(request, 'content-type'),
      contentEncoding: header(request, 'content-encoding'),
      query: q,
    },
    limits,
  );
  const req = readCaptureRequest(decoded.payload, { form: decoded.formToken, query: first(query.token) ?? first(query.api_key) });
  let project: { id: number } | null;
  try {
    project = await deps.resolveProject(req.token);
  } catch (err) {
    throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
  }
  if (project === null) throw new VexilError('VXL_TOKEN_INVALID');

  const valid: NormalizedEvent[] = [];
  const rejected: EventProblem[] = [];
  const defaultEvent = path === '/engage' ? '$identify' : undefined;
  req.events.forEach((raw, index) => {
    const r = normalizeEvent(raw, index, { defaultEvent });
    if (isProblem(r)) rejected.push(r);
    else valid.push(r);
  });
  for (const e of valid) deps.metrics?.captureEvents.inc({ kind: e.kind });
  if (deps.onFlagCalled) countFlagCalls(deps.onFlagCalled, project.id, valid, req.events);
  if (rejected.length > 0) deps.metrics?.captureEvents.inc({ kind: 'invalid' }, rejected.length);

  if (valid.length === 0) {
    // Nothing usable: a 400 naming the first problem, as PostHog does for a bad single event.
    const firstProblem = rejected[0]!;
    const error = req.isBatch ? `every event of the batch was rejected; event ${firstProblem.index}: ${firstProblem.error}` : firstProblem.error;
    return reply.code(400).type('application/json; charset=utf-8').send({ status: 400, code: firstProblem.code, error, errors: rejected });
  }

  const outcome = await new EventApplier(deps.store, project.id, request.log).apply(valid);
  await notify(deps, project.id, outcome, request);
  const errors = [...rejected, ...outcome.errors].sort((a, b) => a.index - b.index);
  const body: CaptureResponse = { status: 'Ok' };
  if (errors.length > 0) body.errors = errors;
  if (outcome.warnings.length > 0) body.warnings = outcome.warnings;
  return reply.code(200).type('application/json; charset=utf-8').send(body);
}

/** Change notices after the writes; a failing listener is logged, never turned into an error. */
async function notify(
  deps: CaptureDeps,
  projectId: number,
  outcome: Awaited<ReturnType<EventApplier['apply']>>,
  request: FastifyRequest,
): Promise<void> {
  try {
    if (outcome.definitionsChanged) await deps.onDefinitionsChanged?.(projectId);
    if (outcome.changedGroups.length > 0) await deps.onGroupsChanged?.(projectId, outcome.changedGroups);
    if (deps.onPersonsChanged && outcome.changedDistinctIds.size > 0) {
      await deps.onPersonsChanged(projectId, await expandDistinctIds(deps.store, projectId, outcome.changedDistinctIds));
    }
  } catch (err) {
    request.log.error({ err, projectId }, 'capture change notice failed');
  }
}

/** Passes each `$feature_flag_called` event with a flag key to `onFlagCalled`. */
function countFlagCalls(onFlagCalled: NonNullable<CaptureDeps['onFlagCalled']>, projectId: number, valid: readonly NormalizedEvent[], raw: readonly unknown[]): void {
  for (const e of valid) {
    if (e.event !== '$feature_flag_called') continue;
    const props = (raw[e.index] as { properties?: Record<string, unknown> }).properties ?? {};
    const key = props.$feature_flag;
    if (typeof key === 'string' && key !== '' && key.length <= 400) onFlagCalled(projectId, key, props.$feature_flag_response);
  }
}
