/**
 * @module http/error-handler
 * The one place VXL codes map to response bodies (STYLE §7). The route family picks the body
 * shape: /flags and /decide answer with PostHog's plain-text sentences, everything else with
 * `{type, code, detail, attr}`; 5xx bodies never carry detail (it goes to the log). The admin
 * API's DRF `{type, code}` table is here too (`adminErrorKind`): the two families differ where
 * PostHog's services differ (e.g. a 413 is `request_too_large` on the flag service and
 * `payload_too_large` in Django), and admin/error-handler.ts renders it with fastify's errors.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isVexilError, RETRY_AFTER_SECONDS, VexilError, type ErrorCode } from '../errors.ts';

/** How a route family renders errors. */
export type RouteFamily = 'flags' | 'definitions' | 'ofrep' | 'api';

/** /flags, /decide → flags; /flags/definitions → definitions; /ofrep/ → ofrep; anything else → api. */
export function routeFamily(url: string): RouteFamily {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).toLowerCase();
  if (path.startsWith('/ofrep/')) return 'ofrep';
  if (path.startsWith('/flags/definitions')) return 'definitions';
  if (path === '/flags' || path === '/flags/' || path === '/decide' || path === '/decide/') return 'flags';
  return 'api';
}

/** Codes that the flag-serving endpoints answer in plain text, as PostHog's Rust service does (spec §1.3, §1.4, §10). */
const PLAIN_TEXT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'VXL_TOKEN_MISSING',
  'VXL_TOKEN_INVALID',
  'VXL_DISTINCT_ID_MISSING',
  'VXL_REQUEST_INVALID',
  'VXL_BODY_TOO_LARGE',
  'VXL_METHOD_NOT_ALLOWED',
  'VXL_STORE_UNAVAILABLE',
  'VXL_INTERNAL',
]);

/** PostHog's error `type` and `code` (drf-exceptions-hog's vocabulary, used by both families). */
export interface DrfKind {
  type: 'validation_error' | 'authentication_error' | 'invalid_request' | 'throttled_error' | 'server_error';
  code: string;
}

/** VXL code → PostHog's `{type, code}` for JSON bodies. */
const KINDS: Partial<Record<ErrorCode, DrfKind>> = {
  VXL_RATE_LIMITED: { type: 'validation_error', code: 'rate_limit_exceeded' },
  VXL_NOT_AUTHENTICATED: { type: 'authentication_error', code: 'not_authenticated' },
  VXL_TOKEN_MISSING: { type: 'authentication_error', code: 'not_authenticated' },
  VXL_TOKEN_INVALID: { type: 'authentication_error', code: 'authentication_failed' },
  VXL_SECRET_KEY_INVALID: { type: 'authentication_error', code: 'authentication_failed' },
  VXL_PERSONAL_KEY_INVALID: { type: 'authentication_error', code: 'authentication_failed' },
  VXL_PERMISSION_DENIED: { type: 'authentication_error', code: 'permission_denied' },
  VXL_SCOPE_MISSING: { type: 'authentication_error', code: 'permission_denied' },
  VXL_NOT_FOUND: { type: 'invalid_request', code: 'not_found' },
  VXL_ROUTE_NOT_FOUND: { type: 'invalid_request', code: 'not_found' },
  VXL_METHOD_NOT_ALLOWED: { type: 'invalid_request', code: 'method_not_allowed' },
  VXL_BODY_TOO_LARGE: { type: 'invalid_request', code: 'request_too_large' },
  VXL_MEDIA_TYPE_UNSUPPORTED: { type: 'invalid_request', code: 'unsupported_media_type' },
  VXL_REQUEST_INVALID: { type: 'validation_error', code: 'parse_error' },
  VXL_DISTINCT_ID_MISSING: { type: 'validation_error', code: 'required' },
  VXL_CONFLICT: { type: 'invalid_request', code: 'conflict' },
};

/**
 * VXL code → DRF type and code. A validation code DRF calls `invalid` is rewritten to
 * `invalid_input` by drf-exceptions-hog, so that is what VXL_VALIDATION becomes.
 */
const ADMIN_KINDS: Partial<Record<ErrorCode, DrfKind>> = {
  VXL_VALIDATION: { type: 'validation_error', code: 'invalid_input' },
  VXL_FIELD_REQUIRED: { type: 'validation_error', code: 'required' },
  VXL_FIELD_NULL: { type: 'validation_error', code: 'null' },
  VXL_FIELD_BLANK: { type: 'validation_error', code: 'blank' },
  VXL_NULL_CHARACTERS: { type: 'validation_error', code: 'null_characters_not_allowed' },
  VXL_FIELD_UNKNOWN: { type: 'validation_error', code: 'unknown_field' },
  VXL_FIELD_TOO_LONG: { type: 'validation_error', code: 'max_length' },
  VXL_CHOICE_INVALID: { type: 'validation_error', code: 'invalid_choice' },
  VXL_FLAG_KEY_INVALID: { type: 'validation_error', code: 'invalid_key' },
  VXL_FLAG_KEY_EXISTS: { type: 'validation_error', code: 'unique' },
  VXL_FILTER_VALUE_INVALID: { type: 'validation_error', code: 'invalid_value' },
  VXL_FILTER_DATE_INVALID: { type: 'validation_error', code: 'invalid_date' },
  VXL_FILTER_OPERATOR_INVALID: { type: 'validation_error', code: 'invalid_operator' },
  VXL_COHORT_MISSING: { type: 'validation_error', code: 'cohort_does_not_exist' },
  VXL_COHORT_BEHAVIORAL: { type: 'validation_error', code: 'behavioral_cohort_found' },
  VXL_NOT_AUTHENTICATED: { type: 'authentication_error', code: 'not_authenticated' },
  VXL_PERSONAL_KEY_INVALID: { type: 'authentication_error', code: 'authentication_failed' },
  VXL_SCOPE_MISSING: { type: 'authentication_error', code: 'permission_denied' },
  VXL_PERMISSION_DENIED: { type: 'authentication_error', code: 'permission_denied' },
  VXL_NOT_FOUND: { type: 'invalid_request', code: 'not_found' },
  VXL_ROUTE_NOT_FOUND: { type: 'invalid_request', code: 'not_found' },
  VXL_METHOD_NOT_ALLOWED: { type: 'invalid_request', code: 'method_not_allowed' },
  VXL_REQUEST_INVALID: { type: 'invalid_request', code: 'parse_error' },
  VXL_MEDIA_TYPE_UNSUPPORTED: { type: 'invalid_request', code: 'unsupported_media_type' },
  VXL_BODY_TOO_LARGE: { type: 'invalid_request', code: 'payload_too_large' },
  VXL_RATE_LIMITED: { type: 'throttled_error', code: 'throttled' },
  // PostHog's `Conflict` (posthog/exceptions.py) sets no `default_type`, so drf-exceptions-hog
  // falls back to `server_error` even though the status is 409. Copied as is.
  VXL_CONFLICT: { type: 'server_error', code: 'conflict' },
};

/** The admin API's `{type, code}` for a 4xx VXL code. */
export function adminErrorKind(code: ErrorCode): DrfKind {
  return ADMIN_KINDS[code] ?? { type: 'invalid_request', code: 'invalid_request' };
}

/** Fallback by status for codes without an entry. */
function kindFor(err: VexilError): DrfKind {
  const kind = KINDS[err.code];
  if (kind) return kind;
  if (err.status >= 500) return { type: 'server_error', code: 'unexpected_error' };
  if (err.status === 401) return { type: 'authentication_error', code: 'authentication_failed' };
  if (err.status === 403) return { type: 'authentication_error', code: 'permission_denied' };
  if (err.status === 404) return { type: 'invalid_request', code: 'not_found' };
  return { type: 'validation_error', code: 'invalid_input' };
}

/** Request-body limit, for the 413 message ("…the limit of N bytes"). */
export interface ErrorHandlerOptions {
  bodyLimitBytes: number;
}

/** Turns anything thrown into a VexilError; non-Vexil 4xx errors from fastify keep their status. */
function normalize(err: unknown, opts: ErrorHandlerOptions): VexilError {
  if (isVexilError(err)) return err;
  const fe = err as Partial<FastifyError>;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VexilError('VXL_BODY_TOO_LARGE', { message: `Request body exceeds the limit of ${opts.bodyLimitBytes} bytes.`, cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new VexilError('VXL_REQUEST_INVALID', {
        message: 'Failed to decode request: unsupported content type. Please check your request format and try again.',
        cause: err,
      });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 413 ? 'VXL_BODY_TOO_LARGE' : status === 404 ? 'VXL_ROUTE_NOT_FOUND' : status === 405 ? 'VXL_METHOD_NOT_ALLOWED' : 'VXL_REQUEST_INVALID';
    return new VexilError(code, { message: fe.message, cause: err });
  }
  return new VexilError('VXL_INTERNAL', { cause: err });
}

/** An error response, independent of the HTTP framework that sends it. */
export interface ErrorResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Logs what must be logged and renders an error in the shape of the URL's route family. */
export function renderError(
  err: unknown,
  url: string,
  log: { error(obj: object, msg: string): void; debug(obj: object, msg: string): void },
  reqId: string,
  opts: ErrorHandlerOptions,
): ErrorResponse {
  const e = normalize(err, opts);
  if (e.status >= 500) log.error({ err: isVexilError(err) ? (e.cause ?? e) : err, reqId }, 'request failed');
  else log.debug({ err: e, code: e.code }, 'request rejected');
  // 5xx: the generic catalogue sentence only; the detail went to the log above.
  const detail = e.status >= 500 ? (e.code === 'VXL_STORE_UNAVAILABLE' ? e.message : 'An internal server error occurred. Please try again later.') : e.message;
  const family = routeFamily(url);
  if (family === 'ofrep') return ofrepError(e, url, detail);
  if (family !== 'api' && PLAIN_TEXT.has(e.code)) {
    return { status: e.status, contentType: 'text/plain; charset=utf-8', body: detail };
  }
  const kind = kindFor(e);
  return { status: e.status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ type: kind.type, code: kind.code, detail, attr: e.attr }) };
}

/** VXL code → OFREP errorCode (open-feature/protocol service/openapi.yaml); anything else is GENERAL. */
const OFREP_CODES: Partial<Record<ErrorCode, string>> = {
  VXL_FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  VXL_REQUEST_INVALID: 'PARSE_ERROR',
  VXL_BODY_TOO_LARGE: 'PARSE_ERROR',
  VXL_TARGETING_KEY_MISSING: 'TARGETING_KEY_MISSING',
  VXL_CONTEXT_INVALID: 'INVALID_CONTEXT',
};

/**
 * OFREP bodies: `{ key, errorCode, errorDetails }` for a single-flag request, without `key` for
 * the bulk one (bulkEvaluationFailure); 401, 403, 429 and 5xx carry `{ errorDetails }` only.
 */
function ofrepError(e: VexilError, url: string, detail: string): ErrorResponse {
  const contentType = 'application/json; charset=utf-8';
  const errorCode = OFREP_CODES[e.code];
  if (errorCode === undefined || e.status === 401 || e.status === 403 || e.status === 429) {
    return { status: e.status, contentType, body: JSON.stringify(e.status >= 500 || errorCode === undefined ? { errorDetails: detail } : { errorCode, errorDetails: detail }) };
  }
  const path = url.split('?')[0]!;
  const m = /^\/ofrep\/v1\/evaluate\/flags\/([^/]+)$/.exec(path);
  let key: string | undefined;
  if (m) {
    try {
      key = decodeURIComponent(m[1]!);
    } catch {
      key = m[1];
    }
  }
  return { status: e.status, contentType, body: JSON.stringify(key === undefined ? { errorCode, errorDetails: detail } : { key, errorCode, errorDetails: detail }) };
}

/** Sends the response for an error in the shape of the request's route family. */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply, opts: ErrorHandlerOptions): FastifyReply {
  const r = renderError(err, request.url, request.log, request.id, opts);
  if (r.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(r.status).type(r.contentType).send(r.body);
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance, opts: ErrorHandlerOptions): void {
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, opts));
  app.setNotFoundHandler((request, reply) => sendError(new VexilError('VXL_ROUTE_NOT_FOUND'), request, reply, opts));
}
