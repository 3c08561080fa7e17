/**
 * @module engine/results
 * Building flag results. Decided outcomes are memoized per flag (one frozen object per reason ×
 * condition × variant), so an evaluation allocates nothing per flag on the common path;
 * failures and inconclusive answers are rare and built fresh.
 */
import type { CompiledFlag } from './compile/compiled-types.ts';
import { DESCRIPTIONS, matchedDescription, NO_MATCH_GROUPS_SKIPPED } from './reasons.ts';
import type { FlagErrorCode, FlagResult, ReasonCode } from './types.ts';

/** A fresh result object (for failures and inconclusive answers, which are rare and not shared). */
function freshResult(
  flag: CompiledFlag,
  enabled: boolean,
  variant: string | null,
  reason: ReasonCode | FlagErrorCode,
  conditionIndex: number | null,
  description: string,
  payloadKey: string | null,
): FlagResult {
  const payload = payloadKey === null ? undefined : flag.payloads.get(payloadKey);
  return {
    key: flag.key,
    flagId: flag.id,
    version: flag.version,
    enabled,
    variant,
    payload: payload?.raw,
    payloadValue: payload?.value,
    reason,
    conditionIndex,
    description,
    failed: false,
    inconclusive: false,
  };
}

/** Reason numbers in outcome slots; "no match, groups skipped" has its own description. */
const REASON_NUMBER: Readonly<Record<ReasonCode, number>> = {
  condition_match: 0,
  no_condition_match: 1,
  out_of_rollout_bound: 2,
  no_group_type: 3,
  super_condition_value: 4,
  holdout_condition_value: 5,
  flag_disabled: 6,
  missing_dependency: 7,
};
const GROUPS_SKIPPED = 8;

/** (reason, enabled) pairs other than matches and holdouts → their block in the outcome table. */
const OTHER_BLOCK: readonly number[] = (() => {
  const block = new Array<number>((GROUPS_SKIPPED + 1) * 2).fill(-1);
  const pairs: [number, boolean][] = [[1, false], [2, false], [3, false], [4, false], [4, true], [6, false], [7, false], [GROUPS_SKIPPED, false]];
  pairs.forEach(([reason, enabled], i) => (block[reason * 2 + (enabled ? 1 : 0)] = i));
  return block;
})();

/** Index in the flag's outcome table (layout in compile-flag.ts `outcomeSlots`), or -1 for none. */
function outcomeSlot(flag: CompiledFlag, enabled: boolean, variantSlot: number, reason: ReasonCode, conditionIndex: number | null, description: string): number {
  const conditions = flag.conditions.length;
  const matches = conditions * (flag.variants.length + 1);
  if (reason === 'condition_match') return conditionIndex! * (flag.variants.length + 1) + variantSlot;
  if (reason === 'holdout_condition_value') return matches;
  const reasonNumber = description === NO_MATCH_GROUPS_SKIPPED ? GROUPS_SKIPPED : REASON_NUMBER[reason];
  const block = OTHER_BLOCK[reasonNumber * 2 + (enabled ? 1 : 0)]!;
  return block < 0 ? -1 : otherSlot(flag, block, conditionIndex);
}

/** Slot of an outcome other than a match or a holdout, by its block and condition index. */
function otherSlot(flag: CompiledFlag, block: number, conditionIndex: number | null): number {
  const conditions = flag.conditions.length;
  return conditions * (flag.variants.length + 1) + 1 + block * (conditions + 2) + (conditionIndex ?? -1) + 1;
}

/**
 * The result for a decided outcome. A flag has few distinct outcomes (reason × condition ×
 * variant), so each is built once, frozen and shared by every request that reaches it: no
 * allocation per flag per request, and serializers can memoize per result object.
 * `variantSlot`: 0 no variant, 1…n the flag's variants, n+1 its holdout variant.
 */
export function result(
  flag: CompiledFlag,
  enabled: boolean,
  variantSlot: number,
  reason: ReasonCode,
  conditionIndex: number | null,
  description: string,
  payloadKey: string | null,
): FlagResult {
  const variants = flag.variants;
  const variant = variantSlot === 0 ? null : variantSlot <= variants.length ? variants[variantSlot - 1]!.key : flag.holdout!.variant;
  if (flag.outcomeSlots === 0) return freshResult(flag, enabled, variant, reason, conditionIndex, description, payloadKey);
  const slot = outcomeSlot(flag, enabled, variantSlot, reason, conditionIndex, description);
  if (slot < 0) return freshResult(flag, enabled, variant, reason, conditionIndex, description, payloadKey);
  const table = (flag.outcomes ??= new Array<FlagResult | undefined>(flag.outcomeSlots).fill(undefined));
  let r = table[slot];
  if (r === undefined) {
    r = Object.freeze(freshResult(flag, enabled, variant, reason, conditionIndex, description, payloadKey));
    table[slot] = r;
  }
  return r;
}

/**
 * Why no condition matched, as numbers ordered by PostHog's priority (spec §4.2: the highest
 * wins): the condition loop compares these instead of looking reason strings up.
 */
export const NO_GROUP_TYPE = 1;
export const NO_CONDITION_MATCH = 2;
export const OUT_OF_ROLLOUT_BOUND = 3;
/** The reason code of each number above (index 0 unused); their order is tested against PRIORITY. */
export const UNMATCHED: readonly ReasonCode[] = ['flag_disabled', 'no_group_type', 'no_condition_match', 'out_of_rollout_bound'];

const UNMATCHED_BLOCK = UNMATCHED.map((code) => OTHER_BLOCK[REASON_NUMBER[code] * 2]!);
const SKIPPED_BLOCK = OTHER_BLOCK[GROUPS_SKIPPED * 2]!;

/** `result` for condition `i` matching with variant slot `slot`: the memo lookup first. */
export function matchedResult(flag: CompiledFlag, i: number, slot: number): FlagResult {
  const memo = flag.outcomes?.[i * (flag.variants.length + 1) + slot];
  if (memo !== undefined) return memo;
  return result(flag, true, slot, 'condition_match', i, matchedDescription(i), slot === 0 ? 'true' : flag.variants[slot - 1]!.key);
}

/** `result` when no condition matched: `reason` one of the numbers above, the best of them. */
export function unmatchedResult(flag: CompiledFlag, reason: number, conditionIndex: number | null, groupsSkipped: boolean): FlagResult {
  const skipped = reason === NO_CONDITION_MATCH && groupsSkipped;
  if (flag.outcomes !== null) {
    // The block is known from the reason number: no string lookups on this path.
    const memo = flag.outcomes[otherSlot(flag, skipped ? SKIPPED_BLOCK : UNMATCHED_BLOCK[reason]!, conditionIndex)];
    if (memo !== undefined) return memo;
  }
  const code = UNMATCHED[reason]!;
  return result(flag, false, 0, code, conditionIndex, skipped ? NO_MATCH_GROUPS_SKIPPED : DESCRIPTIONS[code], null);
}

export function failed(flag: CompiledFlag, code: FlagErrorCode): FlagResult {
  const r = freshResult(flag, false, null, code, null, DESCRIPTIONS[code], null);
  r.failed = true;
  return r;
}

export function inconclusive(flag: CompiledFlag): FlagResult {
  const r = freshResult(flag, false, null, 'no_condition_match', null, DESCRIPTIONS.no_condition_match, null);
  r.inconclusive = true;
  return r;
}
