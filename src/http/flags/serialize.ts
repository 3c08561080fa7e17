/**
 * @module http/flags/serialize
 * Writes /flags and /decide response bodies by hand (spec §1.5–1.8): the hot path builds one
 * string, with the per-project constant parts (config extras) precomputed per snapshot.
 */
import type { FlagResult } from '../../engine/index.ts';
import { bodyPool } from '../body-pool.ts';
import type { ResponseShape } from './flags-query.ts';

/** Per-response values around the flags. */
export interface ResponseMeta {
  requestId: string;
  evaluatedAt: number;
  /** Pre-serialized config extras (leading comma included), or '' when config is off. */
  configFragment: string;
}

/**
 * JSON string literal of `s`, memoized: keys, variants, reason codes and descriptions come from
 * a bounded set (the snapshots), and re-escaping them on every request was most of the cost.
 */
const quoted = new Map<string, string>();
const QUOTED_MAX = 50_000;
function q(s: string): string {
  let out = quoted.get(s);
  if (out === undefined) {
    out = JSON.stringify(s);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(s, out);
  }
  return out;
}

/** Serialized object payloads, shared across requests: payload values are immutable snapshot data. */
const payloadJson = new WeakMap<object, string>();

function json(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return q(value);
  if (typeof value !== 'object') return JSON.stringify(value);
  let s = payloadJson.get(value);
  if (s === undefined) {
    s = JSON.stringify(value);
    payloadJson.set(value, s);
  }
  return s;
}

/**
 * The remote-config extras of spec §1.8 as a fragment to splice in before the closing brace.
 * Computed once per snapshot.
 */
export function configFragment(hasFeatureFlags: boolean): string {
  return (
    `,"hasFeatureFlags":${hasFeatureFlags},"supportedCompression":["gzip","gzip-js"],"sessionRecording":false,` +
    '"surveys":false,"heatmaps":false,"capturePerformance":false,"autocaptureExceptions":false,' +
    '"isAuthenticated":false,"toolbarParams":{},"config":{"enable_collect_everything":true}'
  );
}

/** v1 value rule (spec §1.6): the variant when there is one, else the boolean. */
function legacyValue(f: FlagResult): string {
  return f.enabled && f.variant !== null ? q(f.variant) : f.enabled ? 'true' : 'false';
}

/**
 * `,"key":{…}` of one flag in a v2 body as UTF-8 bytes (the first entry of a body skips the
 * comma), memoized per result object: the engine shares one frozen result per flag outcome, so
 * after warm-up a 50-flag body is 50 lookups and one copy. Building bytes directly matters:
 * encoding the concatenated ~12 KB string per response (`Buffer.from` flattening a rope) was
 * 14 % of a /flags request's CPU; carrying the comma in the entry halves the parts to copy.
 */
const v2Entries = new WeakMap<FlagResult, Buffer>();
function entryV2(f: FlagResult): Buffer {
  let b = v2Entries.get(f);
  if (b === undefined) {
    b = Buffer.from(`,${q(f.key)}:${flagV2(f)}`, 'utf8');
    v2Entries.set(f, b);
  }
  return b;
}

const V2_HEAD = Buffer.from('{"flags":{');
const entryScratch: Buffer[] = [];

function flagV2(f: FlagResult): string {
  let s =
    `{"key":${q(f.key)},"enabled":${f.enabled},"variant":${f.variant === null ? 'null' : q(f.variant)},` +
    `"reason":{"code":${q(f.reason)},"condition_index":${f.conditionIndex ?? 'null'},"description":${q(f.description)}},` +
    `"metadata":{"id":${f.flagId},"version":${f.version},"description":null,"payload":${json(f.payloadValue)},"has_experiment":false}`;
  if (f.failed) s += ',"failed":true';
  return s + '}';
}

function tail(meta: ResponseMeta): string {
  return `,"requestId":${JSON.stringify(meta.requestId)},"evaluatedAt":${meta.evaluatedAt}${meta.configFragment}}`;
}

/** A v2 body whose flags each carry their `detailed_analysis` conditions (not memoized: rare). */
function explainedV2(flags: readonly FlagResult[], errors: boolean, meta: ResponseMeta, conditions: ReadonlyMap<string, unknown[]>): string {
  const entries = flags.map((f) => `${q(f.key)}:${flagV2(f).slice(0, -1)},"conditions":${JSON.stringify(conditions.get(f.key) ?? [])}}`);
  return `{"flags":{${entries.join(',')}},"errorsWhileComputingFlags":${errors}${tail(meta)}`;
}

/**
 * Serializes evaluated flags in the requested shape; `conditions` (from `detailed_analysis`)
 * adds each v2 flag's condition explanations.
 */
export function serializeFlags(
  shape: ResponseShape,
  flags: readonly FlagResult[],
  errors: boolean,
  meta: ResponseMeta,
  conditions?: ReadonlyMap<string, unknown[]>,
): string | Buffer {
  switch (shape) {
    case 'flags-v2': {
      if (conditions !== undefined) return explainedV2(flags, errors, meta, conditions);
      // Written straight into the body: no buffer of its own per response.
      const end = `},"errorsWhileComputingFlags":${errors}${tail(meta)}`;
      const endBytes = Buffer.byteLength(end, 'utf8');
      // One lookup per flag, kept for the copy (serialization is synchronous: scratch is safe; it
      // is overwritten, not emptied, so it does not reallocate per response).
      const entries = entryScratch;
      let length = V2_HEAD.length + endBytes;
      for (let i = 0; i < flags.length; i++) length += (entries[i] = entryV2(flags[i]!)).length;
      if (flags.length > 0) length--; // the first entry's comma
      const out = bodyPool.take(length);
      V2_HEAD.copy(out, 0);
      let at = V2_HEAD.length;
      for (let i = 0; i < flags.length; i++) at += entries[i]!.copy(out, at, i === 0 ? 1 : 0);
      out.write(end, at, endBytes, 'utf8');
      return out;
    }
    case 'flags-v1': {
      let values = '';
      let payloads = '';
      for (const f of flags) {
        values += `${values === '' ? '' : ','}${q(f.key)}:${legacyValue(f)}`;
        // v1 carries payloads as stored, only for flags with one for their value (spec §1.6).
        if (!f.failed && f.enabled && f.payload !== undefined && f.payload !== null) {
          payloads += `${payloads === '' ? '' : ','}${q(f.key)}:${json(f.payload)}`;
        }
      }
      return `{"featureFlags":{${values}},"featureFlagPayloads":{${payloads}},"errorsWhileComputingFlags":${errors}${tail(meta)}`;
    }
    case 'decide-v1': {
      const keys = flags.filter((f) => f.enabled).map((f) => q(f.key));
      return `{"featureFlags":[${keys.join(',')}]${tail(meta)}`;
    }
    case 'decide-v2': {
      const pairs = flags.filter((f) => f.enabled).map((f) => `${q(f.key)}:${legacyValue(f)}`);
      return `{"featureFlags":{${pairs.join(',')}}${tail(meta)}`;
    }
  }
}

/**
 * Body for a request that evaluates nothing (`disable_flags`, GET): empty flags in the
 * requested shape, config extras as requested.
 */
export function serializeEmpty(shape: ResponseShape, meta: ResponseMeta): string | Buffer {
  return serializeFlags(shape, [], false, meta);
}
