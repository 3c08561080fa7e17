/**
 * @module http/ofrep/ofrep-context
 * An OFREP evaluation context → the same FlagsBody a /flags request decodes to, so OFREP answers
 * come from the one evaluation path (`evaluateRequest`). Mapping, documented in the README:
 * `targetingKey` → distinct_id; `$groups` → groups; `$group_properties` → group properties;
 * `$payload: true` → payloads as values (object evaluations); every other attribute → a person
 * property.
 */
import { VexilError } from '../../errors.ts';
import type { Properties } from '../../engine/index.ts';
import type { FlagsBody } from '../flags/flags-body.ts';

/** Context attributes with a meaning of their own; never person properties. */
const RESERVED = new Set(['targetingKey', '$groups', '$group_properties', '$payload']);

/** PostHog keeps the first 200 characters of a longer distinct_id; so does OFREP, being the same path. */
const MAX_DISTINCT_ID_CHARS = 200;

/** A decoded OFREP request: the flags body, its distinct id, and whether values are payloads. */
export interface OfrepRequest {
  body: FlagsBody;
  distinctId: string;
  payloadAsValue: boolean;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): VexilError {
  return new VexilError('VXL_CONTEXT_INVALID', { message });
}

/**
 * Reads `{ context }` from a parsed OFREP body. `flagKeys` limits the evaluation (single-flag
 * requests pass `[key]`; dependencies are still evaluated by the engine).
 * @throws VexilError VXL_REQUEST_INVALID (body or context not an object), VXL_TARGETING_KEY_MISSING,
 *   VXL_CONTEXT_INVALID (an attribute of the wrong type).
 */
export function readOfrepContext(parsed: unknown, flagKeys: string[] | null): OfrepRequest {
  if (!isObject(parsed)) throw new VexilError('VXL_REQUEST_INVALID', { message: 'The request body must be a JSON object.' });
  const context = parsed.context ?? {};
  if (!isObject(context)) throw new VexilError('VXL_REQUEST_INVALID', { message: 'context must be a JSON object.' });
  const key = context.targetingKey;
  if (key === undefined || key === null || key === '') throw new VexilError('VXL_TARGETING_KEY_MISSING');
  if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) throw invalid('targetingKey must be a string.');
  const id = String(key);
  const distinctId = id.length <= MAX_DISTINCT_ID_CHARS ? id : Array.from(id).slice(0, MAX_DISTINCT_ID_CHARS).join('');

  const groups = context.$groups ?? {};
  if (!isObject(groups)) throw invalid('$groups must be an object of group type → group key.');
  for (const [type, groupKey] of Object.entries(groups)) {
    if (typeof groupKey !== 'string' && typeof groupKey !== 'number') throw invalid(`$groups.${type.slice(0, 50)} must be a string.`);
  }
  const groupPropsRaw = context.$group_properties ?? {};
  if (!isObject(groupPropsRaw)) throw invalid('$group_properties must be an object of group type → properties.');
  const groupProperties: Record<string, Properties> = Object.create(null);
  for (const [type, props] of Object.entries(groupPropsRaw)) {
    if (!isObject(props)) throw invalid(`$group_properties.${type.slice(0, 50)} must be an object.`);
    groupProperties[type] = props;
  }
  const payload = context.$payload ?? false;
  if (typeof payload !== 'boolean') throw invalid('$payload must be a boolean.');

  let personProperties: Obj | null = null;
  for (const [name, value] of Object.entries(context)) {
    if (RESERVED.has(name)) continue;
    (personProperties ??= Object.create(null) as Obj)[name] = value;
  }
  return {
    distinctId,
    payloadAsValue: payload,
    body: {
      token: undefined,
      distinctId,
      personProperties,
      groups,
      groupProperties,
      anonDistinctId: undefined,
      deviceId: undefined,
      flagKeys,
      evaluationContexts: null,
      evaluationRuntime: undefined,
      disableFlags: false,
      // An OFREP caller is usually a backend, whose address says nothing of the user's location:
      // $geoip_* come only from the context, as posthog-node's server-side calls do.
      geoipDisable: true,
    },
  };
}
