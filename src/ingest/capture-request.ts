/**
 * @module ingest/capture-request
 * From a decoded capture payload to the list of raw events and the one project token they are
 * for (spec §9; PostHog/posthog rust/capture `RawRequest` and `extract_and_verify_token`).
 */
import { VexilError } from '../errors.ts';

/** A capture request's events (still unvalidated) and its token. */
export interface CaptureRequest {
  token: string;
  events: unknown[];
  /** True for `{batch:[…]}` and bare arrays: per-event errors then keep the status 200. */
  isBatch: boolean;
}

/** Tokens that came from outside the JSON payload. */
export interface OutsideTokens {
  /** `api_key`/`token` form field. */
  form?: string;
  /** `?token=` or `?api_key=` query parameter. */
  query?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** An event's own token: `token`, `$token`, `api_key`, then `properties.token` (RawEvent::extract_token). */
export function eventToken(event: unknown): string | undefined {
  if (!isObject(event)) return undefined;
  const props = isObject(event.properties) ? event.properties : {};
  return nonEmptyString(event.token) ?? nonEmptyString(event.$token) ?? nonEmptyString(event.api_key) ?? nonEmptyString(props.token);
}

/**
 * The single token shared by the events; undefined when none has one.
 * @throws VexilError VXL_TOKENS_INCONSISTENT when two events name different projects.
 */
function tokenOfEvents(events: readonly unknown[]): string | undefined {
  const tokens = new Set<string>();
  for (const e of events) {
    const t = eventToken(e);
    if (t !== undefined) tokens.add(t);
  }
  if (tokens.size > 1) throw new VexilError('VXL_TOKENS_INCONSISTENT');
  return tokens.values().next().value;
}

/**
 * Splits the payload into events and finds the token. Precedence: the batch's own
 * `api_key`/`token` (it wins over event tokens, as in PostHog), else the events' common token,
 * else a form field, else the query string.
 * @throws VexilError VXL_REQUEST_INVALID (payload is not an object or array, `batch` not an
 *   array), VXL_BATCH_EMPTY, VXL_TOKENS_INCONSISTENT, VXL_TOKEN_MISSING, VXL_TOKEN_INVALID
 *   (a personal API key `phx_…` was sent as the project token).
 */
export function readCaptureRequest(payload: unknown, outside: OutsideTokens): CaptureRequest {
  let events: unknown[];
  let token: string | undefined;
  let isBatch: boolean;
  if (Array.isArray(payload)) {
    events = payload;
    isBatch = true;
    token = tokenOfEvents(events);
  } else if (isObject(payload) && 'batch' in payload) {
    if (!Array.isArray(payload.batch)) {
      throw new VexilError('VXL_REQUEST_INVALID', { message: 'Failed to decode request: "batch" must be an array of events.' });
    }
    events = payload.batch;
    isBatch = true;
    token = nonEmptyString(payload.api_key) ?? nonEmptyString(payload.token) ?? tokenOfEvents(events);
  } else if (isObject(payload)) {
    events = [payload];
    isBatch = false;
    token = eventToken(payload);
  } else {
    throw new VexilError('VXL_REQUEST_INVALID', { message: 'Failed to decode request: the body must be a JSON object or an array of events.' });
  }
  if (events.length === 0) throw new VexilError('VXL_BATCH_EMPTY');
  token ??= nonEmptyString(outside.form) ?? nonEmptyString(outside.query);
  if (token === undefined) throw new VexilError('VXL_TOKEN_MISSING');
  // PostHog refuses personal API keys here (InvalidTokenReason::PersonalApiKey): they are secrets.
  if (token.startsWith('phx_')) {
    throw new VexilError('VXL_TOKEN_INVALID', { message: 'API key is not valid: a personal API key cannot be used to send events; use the project API key (phc_…).' });
  }
  return { token, events, isBatch };
}
