/**
 * @module http/flags/flags-query
 * Query parameters of /flags and /decide (spec §1.2): which response shape, whether the
 * remote-config extras are included, and the evaluation switches.
 */

/** The five response shapes (spec §1.5–1.7). */
export type ResponseShape = 'flags-v2' | 'flags-v1' | 'decide-v1' | 'decide-v2';

/** What the query string of a /flags or /decide request asks for. */
export interface FlagsQuery {
  shape: ResponseShape;
  /** Merge the remote-config extras into the body (spec §1.8). */
  config: boolean;
  /** Raw `compression` parameter; decode/ interprets it. */
  compression: string | undefined;
  onlySurveyFlags: boolean;
  onlyOverridePersonProperties: boolean;
  /** `token`/`api_key` from the query, used when the body has none. */
  token: string | undefined;
  /** `detailed_analysis=true`: each v2 flag carries PostHog's per-condition `conditions`. */
  detailedAnalysis: boolean;
}

type Query = Record<string, string | string[] | undefined>;

/** First value of a parameter; an empty string counts as absent (spec §1.2). */
function param(query: Query, ...names: string[]): string | undefined {
  for (const name of names) {
    const raw = query[name];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** PostHog's lenient booleans: true/1/yes/on (any case) are true, anything else false. */
export function queryBool(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const v = raw.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes' || v === 'on';
}

/** Integer version; anything unparsable is 1 (spec §1.2). */
function parseVersion(raw: string): number {
  return /^[+-]?\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : 1;
}

/**
 * Reads the query of a /flags (`decide` false) or /decide (`decide` true) request and applies
 * the defaulting rules: /flags with neither `v` nor `config` ⇒ v2 with config; /decide without
 * `config` ⇒ config on; the shape follows `v` per endpoint.
 */
export function parseFlagsQuery(query: Query, decide: boolean): FlagsQuery {
  const vRaw = param(query, 'v', 'version');
  const configRaw = param(query, 'config');
  let shape: ResponseShape;
  let config: boolean;
  if (decide) {
    const v = vRaw === undefined ? 1 : parseVersion(vRaw);
    shape = v >= 4 ? 'flags-v2' : v === 3 ? 'flags-v1' : v === 2 ? 'decide-v2' : 'decide-v1';
    config = configRaw === undefined ? true : queryBool(configRaw);
  } else if (vRaw === undefined && configRaw === undefined) {
    shape = 'flags-v2';
    config = true;
  } else {
    const v = vRaw === undefined ? 1 : parseVersion(vRaw);
    shape = v >= 2 ? 'flags-v2' : 'flags-v1';
    config = queryBool(configRaw);
  }
  return {
    shape,
    config,
    compression: param(query, 'compression'),
    onlySurveyFlags: queryBool(param(query, 'only_evaluate_survey_feature_flags')),
    onlyOverridePersonProperties: queryBool(param(query, 'only_use_override_person_properties')),
    token: param(query, 'token', 'api_key'),
    detailedAnalysis: queryBool(param(query, 'detailed_analysis')),
  };
}
