/**
 * @module admin/body
 * Request bodies of the admin API: a strict JSON parser (depth-capped) and the translation of
 * zod issues into DRF-worded VexilErrors (`attr` = the top-level field, `detail` names the path).
 */
import type { z } from 'zod';
import { VexilError } from '../errors.ts';

/** Deepest JSON nesting the admin API accepts; real flag and cohort definitions stay far below. */
export const MAX_JSON_DEPTH = 64;

/** Python type names, because DRF's messages use them ("Expected a list of items but got type \"dict\"."). */
export function pyType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string': return 'str';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(value) ? 'int' : 'float';
    case 'object': return 'dict';
    default: return typeof value;
  }
}

/** Python-style rendering of a value inside a message, as PostHog's f-strings print it. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks every string (keys too) of a parsed JSON value, walking iteratively so deep input never
 * overflows the stack. PostgreSQL stores neither NUL characters nor lone surrogates in text or
 * jsonb, so they are refused here as a 400 rather than failing in the database as a 500.
 */
export function checkJsonStrings(root: unknown, maxDepth: number): void {
  const stack: Array<[unknown, number]> = [[root, 1]];
  const check = (s: string): void => {
    if (s.includes('\u0000')) throw new VexilError('VXL_NULL_CHARACTERS');
    if (LONE_SURROGATE.test(s)) throw new VexilError('VXL_REQUEST_INVALID', { message: 'JSON parse error - string with an unpaired surrogate' });
  };
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') check(value);
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) {
      throw new VexilError('VXL_REQUEST_INVALID', { message: `JSON parse error - nesting deeper than ${maxDepth} levels` });
    }
    for (const [k, child] of Object.entries(value)) {
      check(k);
      stack.push([child, depth + 1]);
    }
  }
}

/**
 * Parses a JSON request body. An empty body is `{}` (DRF treats it as no data). Malformed JSON,
 * nesting deeper than MAX_JSON_DEPTH or an unpaired surrogate ⇒ VXL_REQUEST_INVALID (400
 * `parse_error`); a NUL character ⇒ VXL_NULL_CHARACTERS (400, DRF's `null_characters_not_allowed`).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new VexilError('VXL_REQUEST_INVALID', { message: `JSON parse error - ${(err as Error).message}`, cause: err });
  }
  checkJsonStrings(parsed, MAX_JSON_DEPTH);
  return parsed;
}

/** The body as a JSON object; anything else is DRF's non-field error "Invalid data. Expected a dictionary, but got list." */
export function requireObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new VexilError('VXL_VALIDATION', { message: `Invalid data. Expected a dictionary, but got ${pyType(body)}.` });
  }
  return body as Record<string, unknown>;
}

/** `filters.groups[0].properties[1].operator` for a zod path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

const TYPE_MESSAGES: Record<string, string> = {
  string: 'Not a valid string.',
  boolean: 'Must be a valid boolean.',
  number: 'A valid number is required.',
  int: 'A valid integer is required.',
};

/** DRF's sentence for a value of the wrong type. */
function typeMessage(expected: string, value: unknown): string {
  if (expected === 'array') return `Expected a list of items but got type "${pyType(value)}".`;
  if (expected === 'object' || expected === 'record') return `Expected a dictionary of items but got type "${pyType(value)}".`;
  return TYPE_MESSAGES[expected] ?? `Expected ${expected}, got type "${pyType(value)}".`;
}

/**
 * Turns the first zod issue into a VexilError. Top-level issues read like DRF field errors
 * ("This field is required.", attr = the field); nested ones name the path, e.g.
 * `filters.groups[0].properties[1].operator: unknown operator 'foo'` with attr "filters".
 */
export function issueToError(issue: z.core.$ZodIssue, input: unknown): VexilError {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const field = formatPath([...path, issue.keys[0]!]);
    return new VexilError('VXL_FIELD_UNKNOWN', {
      message: path.length === 0 ? `Unknown field: '${issue.keys[0]}'.` : `${field}: unknown field.`,
      attr: path.length === 0 ? String(issue.keys[0]) : String(path[0]),
    });
  }
  const attr = path.length > 0 ? String(path[0]) : null;
  const value = valueAt(input, path);
  if (path.length > 1) {
    // Inside a nested structure (filters, variants…): name the path, keep zod's sentence.
    let message = issue.message;
    if (issue.code === 'invalid_type' && value === undefined) message = 'this field is required.';
    else if (issue.code === 'invalid_type' && value === null) message = 'this field may not be null.';
    return new VexilError('VXL_VALIDATION', { message: `${formatPath(path)}: ${message}`, attr });
  }
  if (issue.code === 'invalid_type') {
    if (value === undefined) return new VexilError('VXL_FIELD_REQUIRED', { attr });
    if (value === null) return new VexilError('VXL_FIELD_NULL', { attr });
    return new VexilError('VXL_VALIDATION', { message: typeMessage(String(issue.expected), value), attr });
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && typeof value === 'string' && value === '') {
    return new VexilError('VXL_FIELD_BLANK', { attr });
  }
  if (issue.code === 'too_big' && issue.origin === 'string') {
    return new VexilError('VXL_FIELD_TOO_LONG', { message: `Ensure this field has no more than ${String(issue.maximum)} characters.`, attr });
  }
  if (issue.code === 'invalid_value') {
    return new VexilError('VXL_CHOICE_INVALID', { message: `"${pyRepr(value)}" is not a valid choice.`, attr });
  }
  return new VexilError('VXL_VALIDATION', { message: issue.message, attr });
}

/**
 * Parses `input` with `schema`; the first issue becomes a 400 in PostHog's words. `field` names
 * the body field `input` came from (e.g. "filters"), so paths and `attr` start there.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, field?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (field === undefined) throw issueToError(issue, input);
  throw issueToError({ ...issue, path: [field, ...issue.path] } as z.core.$ZodIssue, { [field]: input });
}
