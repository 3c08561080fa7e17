/**
 * @module ingest/event-normalize
 * Validates one raw capture event and extracts what Vexil stores from it (spec §9): the person
 * update ($set_once, $set, $unset), an identity merge ($identify, $create_alias,
 * $merge_dangerously) or a group update ($groupidentify). Pure: no I/O.
 */
import type { PersonUpdate } from '../store/store.ts';

/** Bounded metric label for an event. */
export type EventKind = 'person' | 'identify' | 'alias' | 'merge' | 'group' | 'other';

/** Link `otherDistinctId` to the event's person (store.mergePersons). */
export interface MergeRequest {
  otherDistinctId: string;
  force: boolean;
  markIdentified: boolean;
}

/** A validated event, reduced to what is applied. */
export interface NormalizedEvent {
  index: number;
  event: string;
  distinctId: string;
  kind: EventKind;
  /** Applied after any merge; null when the event must not touch persons. */
  personUpdate: PersonUpdate | null;
  merge: MergeRequest | null;
  group: { groupType: string; groupKey: string; set: Record<string, unknown> } | null;
  /** Why part of the event is not applied (merge refused, …); the rest still is. */
  warnings: EventProblem[];
}

/** A per-event problem, reported in the response by batch index. */
export interface EventProblem {
  index: number;
  code: string;
  error: string;
}

/** Events that never update persons (PostHog `NO_PERSON_UPDATE_EVENTS`, spec §9). */
const NO_PERSON_UPDATE_EVENTS = new Set(['$exception', '$$heatmap']);

/** Longest distinct id kept; longer ones are truncated, as PostHog capture does. */
export const MAX_DISTINCT_ID_CHARS = 200;

const CASE_INSENSITIVE_ILLEGAL = ['anonymous', 'guest', 'distinctid', 'distinct_id', 'id', 'not_authenticated', 'email', 'undefined', 'true', 'false'];
const CASE_SENSITIVE_ILLEGAL = ['[object Object]', 'NaN', 'None', 'none', 'null', '0', 'undefined'];
const quoted = (ids: string[]): string[] => ids.flatMap((id) => [id, `'${id}'`, `"${id}"`]);
const ILLEGAL_CI = new Set(quoted(CASE_INSENSITIVE_ILLEGAL));
const ILLEGAL_CS = new Set(quoted(CASE_SENSITIVE_ILLEGAL));

/**
 * Generic ids that come from a bug and must never drive a merge, else every "anonymous" user
 * becomes one person (PostHog `isDistinctIdIllegal`, nodejs/src/worker/ingestion/persons).
 */
export function isDistinctIdIllegal(id: string): boolean {
  return id.trim() === '' || ILLEGAL_CI.has(id.toLowerCase()) || ILLEGAL_CS.has(id);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** NUL cannot be stored in PostgreSQL text; PostHog replaces it with U+FFFD too. */
function clean(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** An id-like value as text: strings as is, finite numbers stringified; anything else undefined. */
function idText(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : clean(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function truncate(id: string): string {
  if (id.length <= MAX_DISTINCT_ID_CHARS) return id;
  return Array.from(id).slice(0, MAX_DISTINCT_ID_CHARS).join('');
}

class Reject {
  constructor(readonly code: string, readonly error: string) {}
}

function objectField(props: Record<string, unknown>, top: Record<string, unknown>, key: '$set' | '$set_once'): Record<string, unknown> | undefined {
  const inner = props[key];
  const outer = top[key];
  if (inner !== undefined && inner !== null && !isObject(inner)) throw new Reject('malformed_event_properties', `${key} must be a JSON object`);
  if (outer !== undefined && outer !== null && !isObject(outer)) throw new Reject('malformed_event_properties', `top-level ${key} must be a JSON object`);
  if (!isObject(inner) && !isObject(outer)) return undefined;
  // PostHog's normalizeEvent: top-level $set is merged under properties.$set (properties win).
  return { ...(isObject(outer) ? outer : {}), ...(isObject(inner) ? inner : {}) };
}

function unsetField(props: Record<string, unknown>): string[] | undefined {
  const v = props.$unset;
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    if (!v.every((k) => typeof k === 'string')) throw new Reject('malformed_event_properties', '$unset must be an array of property names');
    return v as string[];
  }
  if (isObject(v)) return Object.keys(v);
  throw new Reject('malformed_event_properties', '$unset must be an array of property names or an object');
}

function distinctIdOf(event: Record<string, unknown>, props: Record<string, unknown>): string {
  const raw = [event.distinct_id, event.$distinct_id, props.distinct_id, props.$distinct_id].find((v) => v !== undefined && v !== null && v !== '');
  if (raw === undefined) throw new Reject('missing_distinct_id', 'event submitted without a distinct_id');
  const id = idText(raw);
  if (id === undefined || id.trim() === '') throw new Reject('invalid_distinct_id', `distinct_id must be a non-empty string or a number, got ${JSON.stringify(raw)?.slice(0, 50)}`);
  return truncate(id);
}

function mergeOf(name: string, distinctId: string, props: Record<string, unknown>, warnings: EventProblem[], index: number): MergeRequest | null {
  const warn = (code: string, error: string): null => {
    warnings.push({ index, code, error });
    return null;
  };
  let other: string | undefined;
  if (name === '$identify') {
    const anon = props.$anon_distinct_id;
    other = anon === undefined || anon === null || anon === '' ? distinctId : idText(anon);
    if (other === undefined) return warn('invalid_anon_distinct_id', '$anon_distinct_id must be a string or a number; not merged');
  } else {
    other = idText(props.alias);
    if (other === undefined) return warn('missing_alias', `${name} needs properties.alias (a string or number); not merged`);
  }
  other = truncate(other);
  for (const id of new Set([distinctId, other])) {
    if (isDistinctIdIllegal(id)) return warn('cannot_merge_with_illegal_distinct_id', `refusing to merge using the generic distinct id ${JSON.stringify(id)}`);
  }
  return { otherDistinctId: other, force: name === '$merge_dangerously', markIdentified: name === '$identify' };
}

function groupOf(props: Record<string, unknown>): NormalizedEvent['group'] {
  const groupType = props.$group_type;
  const groupKey = idText(props.$group_key);
  const set = props.$group_set;
  if (typeof groupType !== 'string' || groupType.trim() === '') throw new Reject('invalid_group_event', '$groupidentify needs properties.$group_type (a non-empty string)');
  if (groupKey === undefined) throw new Reject('invalid_group_event', '$groupidentify needs properties.$group_key (a non-empty string or a number)');
  if (set !== undefined && set !== null && !isObject(set)) throw new Reject('invalid_group_event', '$group_set must be a JSON object');
  return { groupType: clean(groupType), groupKey, set: isObject(set) ? set : {} };
}

const KIND: Record<string, EventKind> = { $identify: 'identify', $create_alias: 'alias', $merge_dangerously: 'merge', $groupidentify: 'group', $set: 'person' };

/**
 * Validates a raw event. `defaultEvent` names events without an `event` field (the `/engage`
 * endpoint's legacy payloads are `$identify`). Returns the normalized event or the problem
 * that rejects it; never throws.
 */
export function normalizeEvent(raw: unknown, index: number, opts: { defaultEvent?: string } = {}): NormalizedEvent | EventProblem {
  try {
    if (!isObject(raw)) throw new Reject('invalid_event', 'event must be a JSON object');
    const name = raw.event ?? opts.defaultEvent;
    if (name === undefined || name === null || name === '') throw new Reject('missing_event_name', 'event submitted with an empty event name');
    if (typeof name !== 'string') throw new Reject('missing_event_name', `event name must be a string, got ${typeof name}`);
    const props = raw.properties ?? {};
    if (!isObject(props)) throw new Reject('malformed_event_properties', 'properties must be a JSON object');
    const distinctId = distinctIdOf(raw, props);
    const set = objectField(props, raw, '$set');
    const setOnce = objectField(props, raw, '$set_once');
    const unset = unsetField(props);
    const warnings: EventProblem[] = [];
    const group = name === '$groupidentify' ? groupOf(props) : null;
    // posthog-js `person_profiles: 'identified_only'` marks anonymous events personless.
    const personless = props.$process_person_profile === false || NO_PERSON_UPDATE_EVENTS.has(name);
    const merge = personless || !['$identify', '$create_alias', '$merge_dangerously'].includes(name) ? null : mergeOf(name, distinctId, props, warnings, index);
    const hasChanges = set !== undefined || setOnce !== undefined || unset !== undefined;
    // A $groupidentify is about the group; its distinct id (posthog-node: `$company_acme`) is not a person.
    const touchesPerson = !personless && (name !== '$groupidentify' || hasChanges);
    const personUpdate: PersonUpdate | null = touchesPerson ? { distinctId, set, setOnce, unset } : null;
    const kind = KIND[name] ?? (hasChanges ? 'person' : 'other');
    return { index, event: name, distinctId, kind, personUpdate, merge, group, warnings };
  } catch (err) {
    if (err instanceof Reject) return { index, code: err.code, error: err.error };
    throw err;
  }
}

/** Narrows a normalize result. */
export function isProblem(r: NormalizedEvent | EventProblem): r is EventProblem {
  return 'code' in r;
}
