/**
 * @module admin/error-handler
 * Renders every admin API error as PostHog's DRF error JSON `{type, code, detail, attr}`
 * (PostHog/drf-exceptions-hog `exceptions_hog/handler.py`, spec §8). 5xx bodies stay generic.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isVexilError, RETRY_AFTER_SECONDS } from '../errors.ts';
import { adminErrorKind, type DrfKind } from '../http/error-handler.ts';

/** The DRF error body PostHog's admin API returns. */
export interface DrfErrorBody extends DrfKind {
  detail: string;
  attr: string | null;
}

const GENERIC_5XX: DrfErrorBody = { type: 'server_error', code: 'error', detail: 'A server error occurred.', attr: null };

/**
 * An outage is 503, not a generic 500: the client may retry (`Retry-After`), and a write answered
 * this way was not applied (the store abandons it at its deadline).
 */
const UNAVAILABLE: DrfErrorBody = {
  type: 'server_error',
  code: 'service_unavailable',
  detail: 'The database is unavailable or did not answer in time. Please try again later.',
  attr: null,
};

/** Fastify's own request errors (body parsing, limits) in DRF terms. */
function fromFastifyError(err: FastifyError, req: FastifyRequest): { status: number; body: DrfErrorBody } | null {
  const body = (type: DrfErrorBody['type'], code: string, detail: string): DrfErrorBody => ({ type, code, detail, attr: null });
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: body('invalid_request', 'unsupported_media_type', `Unsupported media type "${req.headers['content-type'] ?? ''}" in request.`) };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: body('invalid_request', 'payload_too_large', err.message) };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: body('invalid_request', 'parse_error', `JSON parse error - ${err.message}`) };
  }
  if (err.statusCode === 429) return { status: 429, body: body('throttled_error', 'throttled', 'Request was throttled.') };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    if (err instanceof SyntaxError) return { status: 400, body: body('invalid_request', 'parse_error', `JSON parse error - ${err.message}`) };
    return { status: err.statusCode, body: body('invalid_request', 'invalid_request', err.message) };
  }
  return null;
}

/** Requests whose multipart form was read in full (marked before the handler runs). */
const formsRead = new WeakSet<FastifyRequest>();

/** Marks `req`'s form as read: an error after this point is not a malformed form. */
export function markFormRead(req: FastifyRequest): void {
  formsRead.add(req);
}

/**
 * Maps any thrown value to a status and DRF body. A VexilError with a 4xx status keeps its
 * message and `attr`; anything 5xx or unknown becomes a generic server error (details are logged).
 */
export function renderAdminError(err: unknown, req: FastifyRequest): { status: number; body: DrfErrorBody } {
  if (isVexilError(err)) {
    if (err.code === 'VXL_STORE_UNAVAILABLE') return { status: 503, body: UNAVAILABLE };
    if (err.status >= 500) return { status: err.status, body: GENERIC_5XX };
    const kind = adminErrorKind(err.code);
    return { status: err.status, body: { ...kind, detail: err.message, attr: err.attr } };
  }
  if (err instanceof Error) {
    const mapped = fromFastifyError(err as FastifyError, req);
    if (mapped) return mapped;
    // The multipart reader throws plain errors ("Multipart: Boundary not found", "Unexpected end
    // of multipart data") while it reads the form, before any handler runs.
    if (req.isMultipart?.() && !formsRead.has(req)) {
      return { status: 400, body: { type: 'invalid_request', code: 'parse_error', detail: `Multipart form parse error - ${err.message}`, attr: null } };
    }
  }
  return { status: 500, body: GENERIC_5XX };
}

/** Fastify error handler for the admin plugin: logs 5xx at `error`, 4xx at `debug`. */
export async function adminErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { status, body } = renderAdminError(err, req);
  if (status >= 500) req.log.error({ err }, 'admin request failed');
  else req.log.debug({ err, code: body.code }, 'admin request rejected');
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="api"');
  if (status === 503) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
  await reply.code(status).type('application/json; charset=utf-8').send(body);
}
