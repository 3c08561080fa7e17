/**
 * @module errors
 * VexilError and the VXL_* catalogue. The catalogue is data: each code has its HTTP status and a
 * default message. Mapping codes to response bodies happens only in http/error-handler.ts.
 */

export const codes = {
  VXL_CONFIG_INVALID: { status: 500, message: 'Invalid configuration.' },
  VXL_FLAG_KEY_EXISTS: { status: 400, message: 'There is already a feature flag with this key.' },
  VXL_NOT_FOUND: { status: 404, message: 'Not found.' },
  VXL_VALIDATION: { status: 400, message: 'Invalid input.' },
  VXL_CONFLICT: { status: 409, message: 'The resource was changed by someone else.' },
  VXL_STORE_UNAVAILABLE: { status: 503, message: 'Our database service is currently unavailable. Please try again later.' },
  VXL_SHUTTING_DOWN: { status: 503, message: 'This node is shutting down; reconnect to another one.' },
  VXL_INTERNAL: { status: 500, message: 'An internal server error occurred. Please try again later.' },
  // Request-level errors of the flag-serving endpoints. /flags and /decide send the message as
  // PostHog's plain-text sentence (spec §1.3, §1.4), so the messages are PostHog's words.
  VXL_TOKEN_MISSING: { status: 401, message: 'No API token provided. Please include a valid API token in your request.' },
  VXL_TOKEN_INVALID: { status: 401, message: 'The provided API key is invalid or has expired. Please check your API key and try again.' },
  VXL_DISTINCT_ID_MISSING: { status: 400, message: 'The distinct_id field is missing from the request. Please include a valid identifier.' },
  VXL_REQUEST_INVALID: { status: 400, message: 'Failed to decode request: invalid JSON. Please check your request format and try again.' },
  VXL_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  VXL_RATE_LIMITED: { status: 429, message: 'Rate limit exceeded' },
  VXL_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed.' },
  VXL_ROUTE_NOT_FOUND: { status: 404, message: 'Not found.' },
  // Bearer authentication (local-evaluation definitions, admin API): PostHog's DRF details (spec §7.1).
  VXL_NOT_AUTHENTICATED: { status: 401, message: 'Authentication credentials were not provided.' },
  VXL_SECRET_KEY_INVALID: { status: 401, message: 'Secret API token is invalid.' },
  VXL_PERSONAL_KEY_INVALID: { status: 401, message: 'Personal API key found in request Authorization header is invalid.' },
  VXL_PERMISSION_DENIED: { status: 403, message: 'You do not have permission to perform this action.' },
  // Admin API (PostHog's DRF-shaped errors, spec §8): each maps to a DRF `code` in http/error-handler.ts.
  VXL_SCOPE_MISSING: { status: 403, message: 'API key missing required scope.' },
  VXL_MEDIA_TYPE_UNSUPPORTED: { status: 415, message: 'Unsupported media type in request.' },
  VXL_FIELD_REQUIRED: { status: 400, message: 'This field is required.' },
  VXL_FIELD_NULL: { status: 400, message: 'This field may not be null.' },
  VXL_FIELD_BLANK: { status: 400, message: 'This field may not be blank.' },
  VXL_NULL_CHARACTERS: { status: 400, message: 'Null characters are not allowed.' },
  VXL_FIELD_UNKNOWN: { status: 400, message: 'Unknown field.' },
  VXL_FIELD_TOO_LONG: { status: 400, message: 'Ensure this field has fewer characters.' },
  VXL_CHOICE_INVALID: { status: 400, message: 'Not a valid choice.' },
  VXL_FLAG_KEY_INVALID: { status: 400, message: 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.' },
  VXL_FILTER_VALUE_INVALID: { status: 400, message: 'Invalid value for operator.' },
  VXL_FILTER_DATE_INVALID: { status: 400, message: 'Invalid date value.' },
  VXL_FILTER_OPERATOR_INVALID: { status: 400, message: 'Operator not valid for this property type.' },
  VXL_COHORT_MISSING: { status: 400, message: 'Cohort does not exist.' },
  VXL_COHORT_BEHAVIORAL: { status: 400, message: 'Cohorts with filters on events cannot be used in feature flags.' },
  // Capture endpoints (spec §9; PostHog/posthog rust/capture/src/api.rs `CaptureError`).
  VXL_TOKENS_INCONSISTENT: { status: 401, message: 'Batch submitted with inconsistent api_key values.' },
  VXL_BATCH_EMPTY: { status: 400, message: 'Request holds no event.' },
  VXL_EVENT_INVALID: { status: 400, message: 'Event could not be processed.' },
  VXL_GROUP_TYPE_LIMIT: { status: 400, message: 'The project already has the maximum of 5 group types.' },
  // OFREP (open-feature/protocol): rendered as { key, errorCode, errorDetails }.
  VXL_FLAG_NOT_FOUND: { status: 404, message: 'The flag was not found.' },
  VXL_TARGETING_KEY_MISSING: { status: 400, message: 'The evaluation context has no targetingKey (it becomes the distinct_id).' },
  VXL_CONTEXT_INVALID: { status: 400, message: 'The evaluation context is invalid.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof codes;

export class VexilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The offending field (admin API `attr`), when there is one. */
  readonly attr: string | null;

  constructor(code: ErrorCode, options: { message?: string; attr?: string | null; cause?: unknown } = {}) {
    super(options.message ?? codes[code].message, { cause: options.cause });
    this.name = 'VexilError';
    this.code = code;
    this.status = codes[code].status;
    this.attr = options.attr ?? null;
  }
}

export function isVexilError(err: unknown): err is VexilError {
  return err instanceof VexilError;
}

/**
 * Seconds a client is told to wait (`Retry-After`) with a 503 for an unavailable database: long
 * enough not to hammer a recovering server, short enough for a failover or a reconnect.
 */
export const RETRY_AFTER_SECONDS = 2;

/**
 * PostHog's answer (`posthog/api/feature_flag.py` update path) to a flag write whose `version` is
 * no longer the stored one: 409 `conflict`, so no update is lost silently.
 */
export function staleFlagVersion(): VexilError {
  return new VexilError('VXL_CONFLICT', { message: 'The feature flag was updated by another user since you started editing it. Please refresh and try again.' });
}
