/**
 * @module admin/error-handler
 * Renders every admin API error as PostHog's DRF error JSON `{type, code, detail, attr}`
 * (PostHog/drf-exceptions-hog `exceptions_hog/handler.py`, spec §8). 5xx bodies stay generic.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isVexilError, type ErrorCode } from '../errors.ts';

/** The DRF error body PostHog's admin API returns. */
export interface DrfErrorBody {
  type: 'validation_error' | 'authentication_error' | 'invalid_request' | 'throttled_error' | 'server_error';
  code: string;
  detail: string;
  attr: string | null;
}

type DrfKind = Pick<DrfErrorBody, 'type' | 'code'>;

/**
 * VXL code → DRF type and code. A validation code DRF calls `invalid` is rewritten to
 * `invalid_input` by drf-exceptions-hog, so that is what VXL_VALIDATION becomes.
 */
const DRF_KINDS: Partial<Record<ErrorCode, DrfKind>> = {
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

const GENERIC_5XX: DrfErrorBody = { type: 'server_error', code: 'error', detail: 'A server error occurred.', attr: null };

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

/**
 * Maps any thrown value to a status and DRF body. A VexilError with a 4xx status keeps its
 * message and `attr`; anything 5xx or unknown becomes a generic server error (details are logged).
 */
export function renderAdminError(err: unknown, req: FastifyRequest): { status: number; body: DrfErrorBody } {
  if (isVexilError(err)) {
    if (err.status >= 500) return { status: err.status, body: GENERIC_5XX };
    const kind = DRF_KINDS[err.code] ?? { type: 'invalid_request', code: 'invalid_request' };
    return { status: err.status, body: { ...kind, detail: err.message, attr: err.attr } };
  }
  if (err instanceof Error) {
    const mapped = fromFastifyError(err as FastifyError, req);
    if (mapped) return mapped;
  }
  return { status: 500, body: GENERIC_5XX };
}

/** Fastify error handler for the admin plugin: logs 5xx at `error`, 4xx at `debug`. */
export async function adminErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { status, body } = renderAdminError(err, req);
  if (status >= 500) req.log.error({ err }, 'admin request failed');
  else req.log.debug({ err, code: body.code }, 'admin request rejected');
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="api"');
  await reply.code(status).type('application/json; charset=utf-8').send(body);
}
