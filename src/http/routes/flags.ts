/**
 * @module http/routes/flags
 * `/flags`, `/decide` (trailing slash optional, any method, spec §1.1): decode, authenticate by
 * project token, evaluate, serialize. A cached token and a body carrying every needed property
 * make the whole request I/O-free.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { VexilError } from '../../errors.ts';
import type { PersonCache } from '../../cache/person-cache.ts';
import type { SnapshotCache, ProjectEntry } from '../../cache/snapshot-cache.ts';
import type { Store } from '../../store/store.ts';
import type { Metrics } from '../../metrics.ts';
import type { FlagResult } from '../../engine/types.ts';
import { decodeFlagsBody, type DecodeLimits } from '../decode/flags-body.ts';
import { parseFlagsQuery, type FlagsQuery } from '../flags/flags-query.ts';
import { readFlagsBody, type FlagsBody } from '../flags/flags-body.ts';
import { detectRuntime } from '../flags/runtime.ts';
import { evaluateRequest, type RequestEvaluation } from '../flags/evaluate-request.ts';
import { configFragment, serializeEmpty, serializeFlags, type ResponseMeta } from '../flags/serialize.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { hotCounters } from '../hot-metrics.ts';
import { withGeoip, type GeoipSettings } from '../flags/geoip-properties.ts';

/** What the /flags and /decide routes need. */
export interface FlagsRouteDeps {
  store: Store;
  snapshots: SnapshotCache;
  metrics: Metrics;
  limits: DecodeLimits;
  rateLimiter: RateLimiter | null;
  lookupTimeoutMs: number;
  /** Matching budget per evaluation (engine units; Infinity = unlimited; absent = engine default). */
  matchBudget?: number;
  personCache: PersonCache | null;
  /** The clock, ms since the epoch (tests pin it). */
  now: () => number;
  log: Logger;
  /** GeoIP person properties (absent = none). */
  geoip?: GeoipSettings;
  /** Evaluation counters (usage/usage-recorder.ts); null = not counted. */
  usage: EvaluationUsage | null;
}

/** Where answered flags are counted: in memory only, so the hot path gains no I/O. */
export interface EvaluationUsage {
  recordEvaluations(projectId: number, flags: readonly FlagResult[], at: number): void;
}

const ALLOW = 'GET, POST, OPTIONS, HEAD';

/** GET's minimal config keys (spec §1.1): always present, whatever `config` says. */
const GET_FRAGMENT =
  ',"supportedCompression":["gzip","gzip-js"],"config":{"enable_collect_everything":true},"toolbarParams":{},"isAuthenticated":false,"sessionRecording":false';

function extras(entry: ProjectEntry, query: FlagsQuery): string {
  if (!query.config) return '';
  return entry.derive('configFragment', (e) => configFragment(e.snapshot.flags.some((f) => f.active)));
}

/** What a POST needs from its request, whichever server parsed it (fastify or the fast path). */
export interface FlagsPostRequest {
  id: string;
  headers: IncomingHttpHeaders;
  /** The raw body bytes. */
  body: unknown;
  log: FastifyBaseLogger;
  /** The connection, for the client IP (GeoIP). */
  socket?: { remoteAddress?: string };
}

function header(request: FlagsPostRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Decodes, authenticates, evaluates and serializes one POST; throws VexilError for bad requests.
 * Synchronous when the token is cached and the request's own data decides every flag (the hot
 * path: no promise per request); a promise when the store must be asked. Callers handle both.
 */
export function evaluatePost(deps: FlagsRouteDeps, request: FlagsPostRequest, query: FlagsQuery): string | Buffer | Promise<string | Buffer> {
  const decoded = decodeFlagsBody(
    {
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
      contentType: header(request, 'content-type'),
      contentEncoding: header(request, 'content-encoding'),
      compression: query.compression,
    },
    deps.limits,
  );
  const body = readFlagsBody(decoded);
  const token = body.token ?? query.token;
  if (token === undefined || token === '') throw new VexilError('VXL_TOKEN_MISSING');
  const entry = deps.snapshots.peekToken(token);
  if (entry) return evaluateFor(deps, request, query, body, entry);
  return resolveEntry(deps, token).then((resolved) => evaluateFor(deps, request, query, body, resolved));
}

async function resolveEntry(deps: FlagsRouteDeps, token: string): Promise<ProjectEntry> {
  let entry;
  try {
    entry = await deps.snapshots.resolveToken(token);
  } catch (err) {
    throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
  }
  if (!entry) throw new VexilError('VXL_TOKEN_INVALID');
  return entry;
}

function evaluateFor(deps: FlagsRouteDeps, request: FlagsPostRequest, query: FlagsQuery, given: FlagsBody, entry: ProjectEntry): string | Buffer | Promise<string | Buffer> {
  const body = deps.geoip ? withGeoip(deps.geoip, entry, given, request) : given;
  if (deps.rateLimiter && !deps.rateLimiter.take(entry.project.id)) throw new VexilError('VXL_RATE_LIMITED');
  if (body.distinctId === undefined) throw new VexilError('VXL_DISTINCT_ID_MISSING');

  const meta: ResponseMeta = { requestId: request.id, evaluatedAt: deps.now(), configFragment: extras(entry, query) };
  if (body.disableFlags) return serializeEmpty(query.shape, meta);
  const result = evaluateRequest(deps, entry, body, body.distinctId, {
    runtime: detectRuntime(body.evaluationRuntime, request.headers),
    onlySurveyFlags: query.onlySurveyFlags,
    onlyOverridePersonProperties: query.onlyOverridePersonProperties,
    now: meta.evaluatedAt,
    log: request.log,
    detailedAnalysis: query.detailedAnalysis,
  });
  return result instanceof Promise ? result.then((r) => respond(deps, entry, query, meta, r)) : respond(deps, entry, query, meta, result);
}

function respond(deps: FlagsRouteDeps, entry: ProjectEntry, query: FlagsQuery, meta: ResponseMeta, result: RequestEvaluation): string | Buffer {
  deps.usage?.recordEvaluations(entry.project.id, result.flags, meta.evaluatedAt);
  let enabled = 0;
  let failedCount = 0;
  for (const f of result.flags) {
    if (f.failed) failedCount++;
    else if (f.enabled) enabled++;
  }
  const hot = hotCounters(deps.metrics);
  if (enabled) hot.enabled.inc(enabled);
  if (failedCount) hot.failed.inc(failedCount);
  const disabled = result.flags.length - enabled - failedCount;
  if (disabled) hot.disabled.inc(disabled);
  return serializeFlags(query.shape, result.flags, result.errors, meta, result.conditions);
}

/**
 * Registers the four paths in their own scope, whose only body parser keeps the raw bytes for
 * decode/ (PostHog decodes by content type, compression and magic bytes itself).
 */
export async function registerFlagsRoutes(app: FastifyInstance, deps: FlagsRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const decide = request.url.startsWith('/decide');
      switch (request.method) {
        case 'POST': {
          const query = parseFlagsQuery(request.query as Record<string, string>, decide);
          const body = await evaluatePost(deps, request, query);
          // Explicit charset: fastify adds it to strings but not to Buffers (v2 bodies are bytes).
          return reply.type('application/json; charset=utf-8').send(body);
        }
        case 'GET': {
          // GET never evaluates (spec §1.1): empty flags plus the minimal config keys.
          const query = parseFlagsQuery(request.query as Record<string, string>, decide);
          const shape = query.shape === 'flags-v2' ? 'flags-v2' : 'flags-v1';
          return reply.type('application/json').send(serializeEmpty(shape, { requestId: request.id, evaluatedAt: deps.now(), configFragment: GET_FRAGMENT }));
        }
        case 'HEAD':
          return reply.type('application/json').send('');
        case 'OPTIONS':
          return reply.code(204).header('allow', ALLOW).send();
        default:
          reply.header('allow', ALLOW);
          throw new VexilError('VXL_METHOD_NOT_ALLOWED');
      }
    };
    for (const url of ['/flags', '/flags/', '/decide', '/decide/']) {
      scope.route({ method: ['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'], url, exposeHeadRoute: false, handler });
    }
  });
}
