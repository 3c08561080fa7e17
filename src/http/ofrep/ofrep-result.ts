/**
 * @module http/ofrep/ofrep-result
 * One engine FlagResult → the OFREP evaluation object (protocol service/openapi.yaml:
 * evaluationSuccess / evaluationFailure). PostHog's own reason stays in `metadata`.
 */
import type { FlagResult, ReasonCode } from '../../engine/index.ts';

/** PostHog reason → OpenFeature reason (https://openfeature.dev/specification/types#resolution-reason). */
const REASONS: Readonly<Record<ReasonCode, string>> = {
  condition_match: 'TARGETING_MATCH',
  super_condition_value: 'TARGETING_MATCH',
  holdout_condition_value: 'SPLIT',
  no_condition_match: 'DEFAULT',
  out_of_rollout_bound: 'DEFAULT',
  no_group_type: 'DEFAULT',
  missing_dependency: 'DEFAULT',
  flag_disabled: 'DISABLED',
};

/** An OFREP success or failure entry. */
export type OfrepEvaluation =
  | { key: string; value: unknown; reason: string; variant?: string; metadata: Record<string, string | number | boolean> }
  | { key: string; errorCode: 'GENERAL'; errorDetails: string };

/**
 * The OFREP form of one result. Value: the variant for a matched multivariate flag, else the
 * boolean; with `payloadAsValue`, the (parsed) payload when the outcome has one. A failed flag is
 * a GENERAL failure carrying PostHog's description.
 */
export function toOfrep(f: FlagResult, payloadAsValue: boolean): OfrepEvaluation {
  if (f.failed) return { key: f.key, errorCode: 'GENERAL', errorDetails: `${f.reason}: ${f.description}` };
  const hasPayload = f.payloadValue !== undefined && f.payloadValue !== null;
  const metadata: Record<string, string | number | boolean> = {
    flagId: f.flagId,
    version: f.version,
    reason: f.reason,
    description: f.description,
  };
  if (f.conditionIndex !== null) metadata.conditionIndex = f.conditionIndex;
  // OFREP metadata values are primitives only: the payload travels as JSON text.
  if (hasPayload) metadata.payload = typeof f.payloadValue === 'string' ? f.payloadValue : JSON.stringify(f.payloadValue);
  const value = payloadAsValue && hasPayload ? f.payloadValue : f.enabled && f.variant !== null ? f.variant : f.enabled;
  const out: OfrepEvaluation = { key: f.key, value, reason: REASONS[f.reason as ReasonCode] ?? 'UNKNOWN', metadata };
  if (f.enabled && f.variant !== null) out.variant = f.variant;
  return out;
}
