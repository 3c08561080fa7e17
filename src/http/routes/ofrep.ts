/**
 * @module http/routes/ofrep
 * OpenFeature Remote Evaluation Protocol (open-feature/protocol service/openapi.yaml):
 * `POST /ofrep/v1/evaluate/flags/{key}` and the bulk `POST /ofrep/v1/evaluate/flags` (ETag,
 * If-None-Match ⇒ 304). Authorised by the project token; evaluated by the same
 * `evaluateRequest` as /flags, so answers are those of /flags for the same inputs.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../../errors.ts';
import type { ProjectEntry } from '../../cache/snapshot-cache.ts';
import { evaluateRequest, type RequestEvaluation } from '../flags/evaluate-request.ts';
import { detectRuntime } from '../flags/runtime.ts';
import { readOfrepContext } from '../ofrep/ofrep-context.ts';
import { toOfrep } from '../ofrep/ofrep-result.ts';
import type { FlagsRouteDeps } from './flags.ts';

/** The project token from `Authorization: Bearer …` or `X-API-Key`, as the OFREP spec allows both. */
function tokenOf(request: FastifyRequest): string | undefined {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const auth = request.headers.authorization;
  if (typeof auth !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m ? m[1] : undefined;
}

async function authenticate(deps: FlagsRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<ProjectEntry> {
  const token = tokenOf(request);
  if (token === undefined) throw new VexilError('VXL_TOKEN_MISSING');
  // A personal or secret key is a credential, but not one that may evaluate flags: 403.
  if (token.startsWith('phx_') || token.startsWith('phs_')) {
    throw new VexilError('VXL_PERMISSION_DENIED', { message: 'OFREP evaluation needs the project token (phc_…), not a personal or secret key.' });
  }
  let entry: ProjectEntry | null | undefined = deps.snapshots.peekToken(token);
  if (!entry) {
    try {
      entry = await deps.snapshots.resolveToken(token);
    } catch (err) {
      throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
    }
  }
  if (!entry) throw new VexilError('VXL_TOKEN_INVALID');
  if (deps.rateLimiter && !deps.rateLimiter.take(entry.project.id)) {
    reply.header('retry-after', '1');
    throw new VexilError('VXL_RATE_LIMITED');
  }
  return entry;
}

function parseBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new VexilError('VXL_REQUEST_INVALID', { message: 'The request body is not valid JSON.' });
  }
}

async function evaluate(deps: FlagsRouteDeps, request: FastifyRequest, entry: ProjectEntry, flagKeys: string[] | null) {
  const ofrep = readOfrepContext(parseBody(request.body), flagKeys);
  const result: RequestEvaluation = await evaluateRequest(deps, entry, ofrep.body, ofrep.distinctId, {
    runtime: detectRuntime(undefined, request.headers),
    onlySurveyFlags: false,
    onlyOverridePersonProperties: false,
    now: deps.now(),
    log: request.log,
  });
  return { flags: result.flags, payloadAsValue: ofrep.payloadAsValue };
}

/** Whether If-None-Match lists this ETag (or `*`); weak validators compare equal (RFC 9110 §13.1.2). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

/** Registers both OFREP routes in a scope whose body parser keeps raw bytes (any content type). */
export async function registerOfrepRoutes(app: FastifyInstance, deps: FlagsRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.post<{ Params: { key: string } }>('/ofrep/v1/evaluate/flags/:key', async (request, reply) => {
      const entry = await authenticate(deps, request, reply);
      const key = request.params.key;
      if (!entry.snapshot.ordinalByKey.has(key)) throw new VexilError('VXL_FLAG_NOT_FOUND', { message: `Flag '${key}' was not found.` });
      const { flags, payloadAsValue } = await evaluate(deps, request, entry, [key]);
      const flag = flags.find((f) => f.key === key);
      // Absent from the answer: filtered out (runtime, evaluation contexts), as /flags would.
      if (!flag) throw new VexilError('VXL_FLAG_NOT_FOUND', { message: `Flag '${key}' is not evaluated for this runtime.` });
      const out = toOfrep(flag, payloadAsValue);
      return reply.code('errorCode' in out ? 500 : 200).type('application/json; charset=utf-8').send(JSON.stringify(out));
    });

    scope.post('/ofrep/v1/evaluate/flags', async (request, reply) => {
      const entry = await authenticate(deps, request, reply);
      const { flags, payloadAsValue } = await evaluate(deps, request, entry, null);
      const body = JSON.stringify({ flags: flags.map((f) => toOfrep(f, payloadAsValue)) });
      const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
      reply.header('etag', etag);
      const ifNoneMatch = request.headers['if-none-match'];
      if (notModified(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(body);
    });
  });
}
