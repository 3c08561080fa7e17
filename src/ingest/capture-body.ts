/**
 * @module ingest/capture-body
 * Turns a capture request (POST body or GET `?data=`) into a JSON value the way PostHog's
 * capture does (spec §9): raw JSON, gzip and base64 via http/decode (shared with /flags), plus
 * what only capture accepts: urlencoded forms with `data=` (plain, base64 or LZ64), LZ64 bodies
 * (`compression=lz64` or `Content-Encoding: lz64`) and GET with a `data` query parameter.
 */
import { gunzipSync } from 'node:zlib';
import { VexilError } from '../errors.ts';
import { decodeError, decodeFlagsBody, type DecodeLimits } from '../http/decode/flags-body.ts';
import { parseLenientJson } from '../http/decode/lenient-json.ts';
import { decompressFromBase64 } from './lz-string.ts';

/** What the decoder needs from the request. */
export interface CaptureBodyInput {
  /** The raw body; empty or absent ⇒ the `data` query parameter is the payload. */
  body: Buffer | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** Query parameters (first value of each). */
  query: Readonly<Record<string, string | undefined>>;
}

/** The decoded payload, and a token found in form fields (`api_key`/`token`), if any. */
export interface CapturePayload {
  payload: unknown;
  formToken: string | undefined;
}

type Hint = 'gzip' | 'lz64' | 'base64' | null;

/** A compression hint as PostHog reads it; unknown values mean "detect" (rust/capture `extract_compression`). */
function hintOf(raw: string | undefined): Hint {
  switch (raw?.trim().toLowerCase()) {
    case 'gzip':
    case 'gzip-js':
      return 'gzip';
    case 'lz64':
    case 'lz-string':
      return 'lz64';
    case 'base64':
    case 'b64':
      return 'base64';
    default:
      return null;
  }
}

const FORM_KEYS = ['data=', '_=', 'ip=', 'compression='];

/**
 * PostHog's `is_likely_urlencoded_form`: a known key at the start or after `&` in the first 128
 * bytes. A body opening with `{` or `[` is JSON even when a URL inside it has `&_=`.
 */
function looksLikeForm(body: Buffer): boolean {
  const head = body.subarray(0, 128).toString('latin1');
  if (/^\s*[[{]/.test(head)) return false;
  return FORM_KEYS.some((k) => head.startsWith(k) || head.includes(`&${k}`));
}

function isFormType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * Decodes the request. Order: GET `data` query parameter; form bodies (by content type or by
 * shape); LZ64 raw bodies; everything else through the /flags decoder (JSON, gzip by hint,
 * header or magic bytes, base64 fallback), regardless of content type, as PostHog capture does.
 * @throws VexilError VXL_REQUEST_INVALID (400) or VXL_BODY_TOO_LARGE (413).
 */
export function decodeCaptureBody(input: CaptureBodyInput, limits: DecodeLimits): CapturePayload {
  const queryHint = hintOf(input.query.compression);
  const body = input.body ?? Buffer.alloc(0);
  if (body.length === 0) {
    const data = input.query.data;
    if (data === undefined || data === '') throw decodeError('empty request body and no data query parameter');
    return { payload: decodeDataField(data, queryHint, limits), formToken: undefined };
  }
  if (isFormType(input.contentType) || looksLikeForm(body)) {
    const form = new URLSearchParams(body.toString('utf8'));
    const data = form.get('data');
    if (data === null || data === '') throw decodeError('form body without a data field');
    const hint = queryHint ?? hintOf(form.get('compression') ?? undefined);
    const formToken = form.get('api_key') ?? form.get('token') ?? undefined;
    return { payload: decodeDataField(data, hint, limits), formToken: formToken || undefined };
  }
  const hint = queryHint ?? hintOf(input.contentEncoding);
  if (hint === 'lz64') return { payload: decodeLz64(body.toString('utf8'), limits), formToken: undefined };
  const payload = decodeFlagsBody(
    {
      body,
      contentType: 'application/json',
      // Only hints the shared decoder understands; others mean "detect", never "reject".
      contentEncoding: hint === 'gzip' ? 'gzip' : undefined,
      compression: hint === 'base64' ? 'base64' : undefined,
    },
    limits,
  );
  return { payload, formToken: undefined };
}

/** A `data` value from a form or the query string: LZ64, plain JSON, or (url-safe) base64, maybe gzipped. */
function decodeDataField(data: string, hint: Hint, limits: DecodeLimits): unknown {
  if (hint === 'lz64') return decodeLz64(data, limits);
  const trimmed = data.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJson(data, limits);
  const bytes = decodeBase64Loose(data);
  if (bytes === null) throw decodeError('data is neither JSON nor base64');
  const text = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzip(bytes, limits).toString('utf8') : bytes.toString('utf8');
  return parseJson(text, limits);
}

function decodeLz64(text: string, limits: DecodeLimits): unknown {
  // A '+' that was not percent-encoded arrives as a space after form decoding.
  const out = decompressFromBase64(text.trim().replaceAll(' ', '+'), { maxChars: limits.maxDecompressedBytes });
  if (out === null) throw decodeError('invalid lz64 data');
  return parseJson(out, limits);
}

function parseJson(text: string, limits: DecodeLimits): unknown {
  const parsed = parseLenientJson(text, limits);
  if (parsed.ok) return parsed.value;
  if (parsed.reason === 'depth') throw decodeError(`JSON is nested more than ${parsed.limit} levels deep`);
  if (parsed.reason === 'properties') throw decodeError(`more than ${parsed.limit} properties in one request`);
  throw decodeError('invalid JSON');
}

const BASE64_LOOSE = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/**
 * Base64 as SDKs send it in `data`: standard or url-safe alphabet, padding optional, spaces
 * standing for '+' (PostHog's `Base64Option::Loose`). null when it is not base64.
 */
function decodeBase64Loose(text: string): Buffer | null {
  const cleaned = text.trim().replaceAll(' ', '+').replaceAll('\n', '').replaceAll('\r', '');
  if (cleaned === '' || !BASE64_LOOSE.test(cleaned)) return null;
  return Buffer.from(cleaned.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
}

function gunzip(bytes: Buffer, limits: DecodeLimits): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: limits.maxDecompressedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VexilError('VXL_BODY_TOO_LARGE', { message: `Decompressed request body exceeds the limit of ${limits.maxDecompressedBytes} bytes.` });
    }
    throw decodeError(`gzip decompression failed: ${(err as Error).message}`);
  }
}
