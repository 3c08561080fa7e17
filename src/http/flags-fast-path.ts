/**
 * @module http/flags-fast-path
 * `POST /flags` and `POST /decide` answered straight on node:http, in front of fastify. Same
 * decoding, evaluation, serialization, headers, errors and metrics as the fastify route (which
 * still serves every other method, and `app.inject()` in tests); what it skips is per-request
 * framework work — request/reply objects, hook runner, child logger — worth about a quarter of
 * the CPU of a 50-flag request (BENCHMARKS.md, HTTP). Every other request goes to fastify.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { RETRY_AFTER_SECONDS, VexilError } from '../errors.ts';
import { bodyPool } from './body-pool.ts';
import { afterBodyDiscarded } from './discard-body.ts';
import { renderError, type ErrorHandlerOptions } from './error-handler.ts';
import { parseFlagsQuery, type FlagsQuery } from './flags/flags-query.ts';
import { evaluatePost, type FlagsRouteDeps } from './routes/flags.ts';

/** Records one request in the HTTP metrics (route, method, status, seconds). */
export type RequestRecorder = (route: string, method: string, status: number, seconds: number) => void;

export interface FlagsFastPathDeps {
  flags: FlagsRouteDeps;
  errors: ErrorHandlerOptions;
  recordRequest: RequestRecorder;
  log: FastifyBaseLogger;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PATHS: ReadonlySet<string> = new Set(['/flags', '/flags/', '/decide', '/decide/']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The caller's `X-Request-Id` when it is a UUID (spec §1.5), else a new one (as buildServer's genReqId). */
export function requestIdOf(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && UUID.test(v) ? v.toLowerCase() : randomUUID();
}

function queryObject(url: string, q: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (q === -1) return out;
  // Repeated keys: the first value wins, as parseFlagsQuery reads it from fastify's arrays.
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * Responses finished while the event loop works through one batch of readable sockets, written
 * together right after the batch (setImmediate runs after the poll phase). On loopback and on a
 * busy client, each write that finds the reader asleep pays for waking it (BENCHMARKS.md, HTTP:
 * `sock_def_readable` was 13 % of a request's CPU); written back to back, the reader wakes once
 * and finds the rest of the batch waiting.
 *
 * At most OUTBOX_MAX_BATCH responses wait: after a stall (a GC pause, the process descheduled),
 * one poll batch holds hundreds of requests, and an unbounded outbox held the first answers until
 * the last was computed. That wait was the whole tail at 70 % load (BENCHMARKS.md, "Latency,
 * measured fairly": the slowest 1 % all sat in the outbox for over half their time).
 */
const OUTBOX_MAX_BATCH = 16;

class Outbox {
  private responses: ServerResponse[] = [];
  private bodies: Buffer[] = [];
  private scheduled = false;
  private readonly write = () => {
    const { responses, bodies } = this;
    this.responses = [];
    this.bodies = [];
    for (let i = 0; i < responses.length; i++) {
      try {
        responses[i]!.end(bodies[i]);
        bodyPool.releaseAfterEnd(responses[i]!, bodies[i]!);
      } catch {
        // One response that cannot be written must not leave the rest of the batch unanswered.
        responses[i]!.destroy();
      }
    }
  };
  private readonly afterBatch = () => {
    this.scheduled = false;
    this.write();
  };

  add(res: ServerResponse, body: Buffer): void {
    this.responses.push(res);
    this.bodies.push(body);
    if (this.responses.length >= OUTBOX_MAX_BATCH) this.write();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.afterBatch);
    }
  }
}

/**
 * Parsed queries by endpoint kind and query string: SDKs send the same few (`?v=2`,
 * `?v=2&config=true`, …), and parsing one costs a URLSearchParams per request. Bounded: cleared
 * when full (a query may carry a token).
 */
const parsedQueries = new Map<string, FlagsQuery>();
const PARSED_QUERIES_MAX = 1000;
function queryOf(url: string, q: number, decide: boolean): FlagsQuery {
  const key = q === -1 ? (decide ? 'd' : 'f') : (decide ? 'd' : 'f') + url.slice(q);
  let parsed = parsedQueries.get(key);
  if (parsed === undefined) {
    parsed = Object.freeze(parseFlagsQuery(queryObject(url, q), decide));
    if (parsedQueries.size >= PARSED_QUERIES_MAX) parsedQueries.clear();
    parsedQueries.set(key, parsed);
  }
  return parsed;
}

/**
 * Returns a handler that answers `POST /flags|/decide` itself (returning true) and leaves every
 * other request to fastify (returning false).
 */
export function createFlagsFastPath(deps: FlagsFastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = deps.errors.bodyLimitBytes;
  const outbox = new Outbox();
  const send = (res: ServerResponse, route: string, id: string, started: number, status: number, contentType: string, body: string | Buffer) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    // All headers in writeHead's object: without an earlier setHeader (CORS, connection: close),
    // Node takes that object as is instead of validating each header again into its own map.
    res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length, 'x-request-id': id });
    outbox.add(res, bytes);
    deps.recordRequest(route, 'POST', status, (performance.now() - started) / 1000);
  };
  const fail = (res: ServerResponse, route: string, url: string, id: string, started: number, err: unknown) => {
    const r = renderError(err, url, deps.log, id, deps.errors);
    if (r.status === 503) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    send(res, route, id, started, r.status, r.contentType, r.body);
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = q === -1 ? url : url.slice(0, q);
    if (!PATHS.has(route)) return false;

    const started = performance.now();
    const id = requestIdOf(req.headers['x-request-id']);
    const origin = req.headers.origin;
    if (origin !== undefined) {
      // Permissive CORS like PostHog's flag service (spec §1), as buildServer's onRequest hook.
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    const tooLarge = () =>
      new VexilError('VXL_BODY_TOO_LARGE', { message: `Request body exceeds the limit of ${limit} bytes.` });
    // Over the limit, the rest of the body is read before the 413 goes out (see discard-body.ts).
    let rejected = false;
    const answerTooLarge = () => {
      res.setHeader('connection', 'close');
      fail(res, route, url, id, started, tooLarge());
    };
    if (Number(req.headers['content-length']) > limit) {
      afterBodyDiscarded(req, 0, answerTooLarge);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      rejected = true;
      chunks.length = 0;
      req.off('data', onData);
      afterBodyDiscarded(req, size, answerTooLarge);
    };
    req.on('data', onData);
    req.on('error', () => {
      rejected = true;
    });
    req.on('end', () => {
      if (rejected) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const decide = route.startsWith('/decide');
      let answer;
      try {
        const query = queryOf(url, q, decide);
        answer = evaluatePost(deps.flags, { id, headers: req.headers, body: size === 0 ? undefined : body, log: deps.log, socket: req.socket }, query);
      } catch (err) {
        fail(res, route, url, id, started, err);
        return;
      }
      if (answer instanceof Promise) {
        answer.then(
          (json) => send(res, route, id, started, 200, JSON_TYPE, json),
          (err: unknown) => fail(res, route, url, id, started, err),
        );
      } else send(res, route, id, started, 200, JSON_TYPE, answer);
    });
    return true;
  };
}
