/**
 * @module ingest/capture-errors
 * Renders capture endpoint errors in PostHog capture's newest shape,
 * `{"status":<http status>,"code":"<snake_case>","error":"<message>"}` (spec §9,
 * PostHog/posthog rust/capture). 5xx bodies say only that something failed; detail is logged.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isVexilError, RETRY_AFTER_SECONDS, VexilError, type ErrorCode } from '../errors.ts';

/** The capture error body. `errors` lists per-event problems when there are any. */
export interface CaptureErrorBody {
  status: number;
  code: string;
  error: string;
  errors?: Array<{ index: number; code: string; error: string }>;
}

/** VXL code → capture's snake_case code (PostHog capture error tags). */
const CODES: Partial<Record<ErrorCode, string>> = {
  VXL_TOKEN_MISSING: 'missing_authorization',
  VXL_TOKEN_INVALID: 'invalid_api_token',
  VXL_TOKENS_INCONSISTENT: 'multiple_tokens',
  VXL_REQUEST_INVALID: 'request_decoding_error',
  VXL_BODY_TOO_LARGE: 'payload_too_large',
  VXL_BATCH_EMPTY: 'empty_batch',
  VXL_EVENT_INVALID: 'invalid_event',
  VXL_DISTINCT_ID_MISSING: 'missing_distinct_id',
  VXL_STORE_UNAVAILABLE: 'service_unavailable',
  VXL_RATE_LIMITED: 'rate_limited',
  VXL_METHOD_NOT_ALLOWED: 'method_not_allowed',
};

/** Fastify's own errors (body parser, limits) as VexilErrors. */
function fromFastify(err: FastifyError, bodyLimitBytes: number): VexilError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VexilError('VXL_BODY_TOO_LARGE', { message: `Request body exceeds the limit of ${bodyLimitBytes} bytes.`, cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new VexilError('VXL_REQUEST_INVALID', { message: `Failed to decode request: ${err.message}`, cause: err });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new VexilError(err.statusCode === 413 ? 'VXL_BODY_TOO_LARGE' : 'VXL_REQUEST_INVALID', { message: err.message, cause: err });
  }
  return null;
}

/** Maps anything thrown to a status and capture body; unknown errors are a generic 500. */
export function renderCaptureError(err: unknown, bodyLimitBytes: number): CaptureErrorBody {
  const e = isVexilError(err) ? err : err instanceof Error ? fromFastify(err as FastifyError, bodyLimitBytes) : null;
  if (e === null || e.status >= 500) {
    const status = e?.status ?? 500;
    const unavailable = e?.code === 'VXL_STORE_UNAVAILABLE';
    return {
      status,
      code: unavailable ? 'service_unavailable' : 'internal_error',
      error: unavailable ? 'transient error, please retry' : 'An internal server error occurred. Please try again later.',
    };
  }
  return { status: e.status, code: CODES[e.code] ?? 'invalid_request', error: e.message };
}

/**
 * Builds the error handler of the capture plugin: logs 5xx at `error` (with the cause), 4xx
 * at `debug`, and sends the capture body.
 */
export function captureErrorHandler(bodyLimitBytes: number) {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const body = renderCaptureError(err, bodyLimitBytes);
    if (body.status >= 500) request.log.error({ err: isVexilError(err) ? (err.cause ?? err) : err }, 'capture request failed');
    else request.log.debug({ err, code: body.code }, 'capture request rejected');
    if (body.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    await reply.code(body.status).type('application/json; charset=utf-8').send(body);
  };
}
