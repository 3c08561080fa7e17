/**
 * @module http/decode/flags-body
 * Turns the raw bytes of a /flags or /decide request into a JSON value exactly the way PostHog's
 * decoder does (spec §1.3; PostHog/posthog rust/feature-flags/src/handler/decoding.rs): by content
 * type, gzip by query/header/magic bytes, base64 fallback, form `data=`, with size and shape caps.
 */
import { gunzipSync } from 'node:zlib';
import { VexilError } from '../../errors.ts';
import { parseLenientJson, type JsonLimits } from './lenient-json.ts';

/** Caps applied while decoding: JSON shape plus decompressed size. */
export interface DecodeLimits extends JsonLimits {
  /** Largest body after gunzip, bytes. */
  maxDecompressedBytes: number;
}

/** The parts of a request the decoder looks at. */
export interface DecodeInput {
  body: Buffer | undefined;
  /** Raw Content-Type header; absent ⇒ application/json. */
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** The `compression` query parameter, as sent. */
  compression: string | undefined;
}

type Compression = 'gzip' | 'base64' | 'unsupported' | null;

/** `compression` query value → kind; empty means absent, matching is case-insensitive (spec §1.2). */
export function parseCompression(raw: string | undefined): Compression {
  if (raw === undefined || raw === '') return null;
  const v = raw.toLowerCase();
  if (v === 'gzip' || v === 'gzip-js') return 'gzip';
  if (v === 'base64') return 'base64';
  return 'unsupported';
}

/** PostHog's `Failed to decode request: <what>. Please check…` sentence as a 400. */
export function decodeError(what: string): VexilError {
  return new VexilError('VXL_REQUEST_INVALID', {
    message: `Failed to decode request: ${what}. Please check your request format and try again.`,
  });
}

/**
 * Decodes a request body to a JSON value. An empty body decodes to `{}` (GET-style callers
 * then fail on the missing token, as PostHog does).
 * @throws VexilError VXL_REQUEST_INVALID (400) or VXL_BODY_TOO_LARGE (413 for a gzip bomb).
 */
export function decodeFlagsBody(input: DecodeInput, limits: DecodeLimits): unknown {
  const compression = parseCompression(input.compression);
  const contentType = input.contentType ?? 'application/json';
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  const body = input.body ?? Buffer.alloc(0);
  if (base === 'application/json' || base === 'text/plain') {
    return parseWithFallbacks(decompressIfNeeded(body, compression, input.contentEncoding, limits), limits);
  }
  if (base === 'application/x-www-form-urlencoded') return decodeForm(body, compression, limits);
  throw decodeError(`unsupported content type: ${contentType.slice(0, 100)}`);
}

function decompressIfNeeded(body: Buffer, compression: Compression, encoding: string | undefined, limits: DecodeLimits): Buffer {
  if (compression === 'unsupported') throw decodeError('Unsupported compression type');
  const gzipped =
    compression === 'gzip' ||
    (compression === null && encoding !== undefined && encoding.toLowerCase().includes('gzip')) ||
    (compression === null && body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b);
  return gzipped ? gunzip(body, limits.maxDecompressedBytes) : body;
}

function gunzip(body: Buffer, maxBytes: number): Buffer {
  try {
    // maxOutputLength stops a gzip bomb after maxBytes instead of inflating it in memory.
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VexilError('VXL_BODY_TOO_LARGE', {
        message: `Decompressed request body exceeds the limit of ${maxBytes} bytes.`,
      });
    }
    throw decodeError(`gzip decompression failed: ${(err as Error).message}`);
  }
}

/** JSON first; if that fails, base64 then JSON (spec §1.3 step (b)). Caps are never retried. */
function parseWithFallbacks(body: Buffer, limits: DecodeLimits): unknown {
  const direct = parseLenientJson(body.toString('utf8'), limits);
  if (direct.ok) return direct.value;
  if (direct.reason !== 'syntax') throw capError(direct.reason, direct.limit);
  const decoded = decodeBase64(percentDecodeLenient(body));
  if (decoded !== null) {
    const viaBase64 = parseLenientJson(decoded.toString('utf8'), limits);
    if (viaBase64.ok) return viaBase64.value;
    if (viaBase64.reason !== 'syntax') throw capError(viaBase64.reason, viaBase64.limit);
  }
  throw decodeError('invalid JSON');
}

/** Old posthog-js and mobile SDKs: `data=<base64>` form bodies (spec §1.3 case 2). */
function decodeForm(body: Buffer, compression: Compression, limits: DecodeLimits): unknown {
  const text = utf8Strict(body);
  if (text === null) throw decodeError('Invalid UTF-8 in form data');
  const decodedForm = percentDecodeLenient(Buffer.from(text, 'utf8'));
  if (decodedForm === null) throw decodeError('Failed to URL decode form data');
  // PostHog splits on '=' and takes the second piece: base64 padding is dropped here and re-added below.
  const b64 = decodedForm.startsWith('data=') ? (decodedForm.split('=')[1] ?? '') : decodedForm;
  if (compression === 'gzip') throw decodeError('Gzip compression not supported for form-urlencoded data');
  if (compression === 'unsupported') throw decodeError('Unsupported compression type');
  const decoded = decodeBase64(b64);
  if (decoded === null) throw decodeError('Base64 decoding error');
  const parsed = parseLenientJson(decoded.toString('utf8'), limits);
  if (parsed.ok) return parsed.value;
  if (parsed.reason !== 'syntax') throw capError(parsed.reason, parsed.limit);
  throw decodeError('invalid JSON structure');
}

function capError(reason: 'depth' | 'properties', limit: number): VexilError {
  return decodeError(reason === 'depth' ? `JSON is nested more than ${limit} levels deep` : `more than ${limit} properties in one request`);
}

const decoderFatal = new TextDecoder('utf-8', { fatal: true });

function utf8Strict(bytes: Uint8Array): string | null {
  try {
    return decoderFatal.decode(bytes);
  } catch {
    return null;
  }
}

/** `%XX` → byte, anything else kept as is (Rust percent_decode), then strict UTF-8; null when invalid. */
function percentDecodeLenient(bytes: Buffer): string | null {
  if (!bytes.includes(0x25)) return utf8Strict(bytes);
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]!) && isHex(bytes[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else out[n++] = b;
  }
  return utf8Strict(out.subarray(0, n));
}

function isHex(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict standard-alphabet base64 after removing spaces and padding to a multiple of 4; null when invalid. */
function decodeBase64(text: string | null): Buffer | null {
  if (text === null) return null;
  let cleaned = text.replaceAll(' ', '');
  if (cleaned.length % 4 !== 0) cleaned += '='.repeat(4 - (cleaned.length % 4));
  // Node's decoder skips junk silently; PostHog's rejects it, so check the alphabet first.
  if (!BASE64.test(cleaned) || cleaned.length % 4 !== 0) return null;
  return Buffer.from(cleaned, 'base64');
}
