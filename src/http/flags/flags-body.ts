/**
 * @module http/flags/flags-body
 * The fields of a decoded /flags body (spec §1.4, PostHog's FlagRequest): aliases resolved,
 * types checked, distinct_id stringified and truncated. Unknown fields are ignored.
 */
import { VexilError } from '../../errors.ts';
import type { Properties } from '../../engine/index.ts';

/** A /flags body with aliases resolved and types checked (spec §1.4). */
export interface FlagsBody {
  token: string | undefined;
  /** undefined when absent or null (⇒ 400 after the token check). */
  distinctId: string | undefined;
  personProperties: Properties | null;
  groups: Record<string, unknown>;
  groupProperties: Record<string, Properties>;
  anonDistinctId: string | undefined;
  deviceId: string | undefined;
  flagKeys: string[] | null;
  evaluationContexts: string[] | null;
  evaluationRuntime: string | undefined;
  disableFlags: boolean;
  /** `geoip_disable`: no GeoIP person properties for this request. */
  geoipDisable: boolean;
}

/** PostHog keeps the first 200 characters (Unicode scalar values) of a longer distinct_id. */
const MAX_DISTINCT_ID_CHARS = 200;

/** `Failed to parse request: <why>. …` — PostHog's sentence for a body of the wrong shape. */
function parseError(why: string): VexilError {
  return new VexilError('VXL_REQUEST_INVALID', {
    message: `Failed to parse request: ${why}. Please ensure your request is properly formatted and all required fields are present.`,
  });
}

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first present (non-null) of several alias fields, with its name for messages. */
function pick(body: Obj, names: readonly string[]): [string, unknown] {
  for (const name of names) {
    if (Object.hasOwn(body, name) && body[name] !== null && body[name] !== undefined) return [name, body[name]];
  }
  return [names[0]!, undefined];
}

function optString(body: Obj, ...names: string[]): string | undefined {
  const [name, v] = pick(body, names);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw parseError(`${name} must be a string`);
  return v;
}

/** An identifier: strings as is, numbers in their JSON form (PostHog stringifies them). */
function optId(body: Obj, ...names: string[]): string | undefined {
  const [name, v] = pick(body, names);
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw parseError(`${name} must be a string or a number`);
}

function optBool(body: Obj, name: string): boolean {
  const v = body[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw parseError(`${name} must be a boolean`);
  return v;
}

function optObject(body: Obj, ...names: string[]): Obj | null {
  const [name, v] = pick(body, names);
  if (v === undefined) return null;
  if (!isObject(v)) throw parseError(`${name} must be an object`);
  return v;
}

function optStringList(body: Obj, ...names: string[]): string[] | null {
  const [name, v] = pick(body, names);
  if (v === undefined) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw parseError(`${name} must be a list of strings`);
  return v as string[];
}

function truncate(id: string): string {
  if (id.length <= MAX_DISTINCT_ID_CHARS) return id;
  return Array.from(id).slice(0, MAX_DISTINCT_ID_CHARS).join('');
}

/**
 * Reads a decoded body. The token and distinct_id are returned, not checked: the route checks
 * the token first (401) and the distinct_id second (400), in PostHog's order.
 * @throws VexilError VXL_REQUEST_INVALID when the body is not an object or a field has the wrong type.
 */
export function readFlagsBody(value: unknown): FlagsBody {
  if (!isObject(value)) throw parseError('the body must be a JSON object');
  const groupPropsRaw = optObject(value, 'group_properties', '$group_properties') ?? {};
  const groupProperties: Record<string, Properties> = Object.create(null);
  for (const [type, props] of Object.entries(groupPropsRaw)) {
    if (props === null) continue;
    if (!isObject(props)) throw parseError(`group_properties.${type.slice(0, 50)} must be an object`);
    groupProperties[type] = props;
  }
  const distinctId = optId(value, 'distinct_id', '$distinct_id');
  return {
    token: optString(value, 'token', 'api_key', '$token'),
    distinctId: distinctId === undefined ? undefined : truncate(distinctId),
    personProperties: optObject(value, 'person_properties', '$properties'),
    groups: optObject(value, 'groups', '$groups') ?? {},
    groupProperties,
    // PostHog types both as `Option<String>`: a number fails body parsing (spec posthog-newer.md §4).
    anonDistinctId: optString(value, '$anon_distinct_id', 'anon_distinct_id'),
    deviceId: optString(value, '$device_id', 'device_id'),
    flagKeys: optStringList(value, 'flag_keys_to_evaluate', 'flag_keys'),
    evaluationContexts: optStringList(value, 'evaluation_contexts', 'evaluation_environments'),
    evaluationRuntime: optString(value, 'evaluation_runtime'),
    disableFlags: optBool(value, 'disable_flags'),
    geoipDisable: optBool(value, 'geoip_disable'),
  };
}
