/**
 * @module bench/peers/growthbook
 * GrowthBook's server-side evaluator fed the 50-flag project translated into GrowthBook features.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import type { ConditionDef, FlagDef, ProjectDefs, PropertyFilterDef } from '../../src/engine/index.ts';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';
import { escapeRegex, packageVersion, type FlagValue, type Peer } from './peer.ts';

type Condition = Record<string, unknown>;
type Rule = Record<string, unknown>;

/** The user attribute GrowthBook hashes on; our person properties carry `distinct_id` (spec §6.1). */
const HASH_ATTRIBUTE = 'distinct_id';

function savedGroupId(cohortId: unknown): string {
  return `cohort-${String(cohortId)}`;
}

/** One PostHog property filter → one GrowthBook (mongo-style) condition. */
function filterCondition(f: PropertyFilterDef): Condition {
  if (f.type === 'cohort') {
    const ref = { $savedGroup: { id: savedGroupId(f.value) } };
    return f.operator === 'not_in' ? { $not: ref } : ref;
  }
  const v = f.value;
  let test: Condition;
  switch (f.operator ?? 'exact') {
    case 'exact': test = Array.isArray(v) ? { $in: v } : { $eq: v }; break;
    case 'is_not': test = Array.isArray(v) ? { $nin: v } : { $ne: v }; break;
    case 'icontains': test = { $regexi: escapeRegex(String(v)) }; break;
    case 'regex': test = { $regex: String(v) }; break;
    case 'gt': test = { $gt: v }; break;
    case 'gte': test = { $gte: v }; break;
    case 'lt': test = { $lt: v }; break;
    case 'lte': test = { $lte: v }; break;
    default: throw new Error(`no GrowthBook mapping for operator ${String(f.operator)}`);
  }
  const condition: Condition = { [f.key]: test };
  return f.negation ? { $not: condition } : condition;
}

function andOf(conditions: Condition[]): Condition | undefined {
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

/** A cohort's `{type, values}` tree → a condition (AND/OR nesting preserved). */
function cohortCondition(group: { type: string; values: unknown[] }): Condition {
  const parts = group.values.map((v) =>
    typeof v === 'object' && v !== null && 'values' in v
      ? cohortCondition(v as { type: string; values: unknown[] })
      : filterCondition(v as PropertyFilterDef),
  );
  return group.type === 'OR' ? { $or: parts } : { $and: parts };
}

/** PostHog conditions are OR-ed and the first match wins; GrowthBook rules likewise run in order. */
function rulesFor(flag: FlagDef): Rule[] {
  const variants = flag.filters.multivariate?.variants;
  return (flag.filters.groups ?? []).map((c: ConditionDef, i) => {
    const rule: Rule = { id: `${flag.key}#${i}`, seed: flag.key, hashAttribute: HASH_ATTRIBUTE, hashVersion: 2 };
    const condition = andOf((c.properties ?? []).map(filterCondition));
    if (condition) rule.condition = condition;
    const rollout = c.rollout_percentage ?? 100;
    if (variants) {
      // Experiment rule: coverage = the condition's rollout, weights = variant split.
      rule.key = flag.key;
      rule.variations = variants.map((v) => v.key);
      rule.weights = variants.map((v) => v.rollout_percentage / 100);
      rule.coverage = rollout / 100;
    } else {
      // Rollout rule: force true to a `coverage` share; users outside fall through to the next rule.
      rule.force = true;
      if (rollout < 100) rule.coverage = rollout / 100;
    }
    return rule;
  });
}

/** The GrowthBook payload (features + saved groups) equivalent to the PostHog project. */
export function toGrowthBookPayload(defs: ProjectDefs): { features: Record<string, unknown>; savedGroups: Record<string, unknown> } {
  const features: Record<string, unknown> = {};
  for (const flag of defs.flags) features[flag.key] = { defaultValue: false, rules: rulesFor(flag) };
  const savedGroups: Record<string, unknown> = {};
  for (const cohort of defs.cohorts) {
    const tree = (cohort.filters as { properties: { type: string; values: unknown[] } }).properties;
    savedGroups[savedGroupId(cohort.id)] = { type: 'condition', condition: cohortCondition(tree) };
  }
  return { features, savedGroups };
}

/**
 * Timed path: `GrowthBookClient.evalFeature(key, { attributes })` for each of the 50 keys — the
 * multi-user server client, which is synchronous and needs no per-user instance (the classic
 * `GrowthBook` + `setAttributes` path is async and rebuilds per-user state).
 */
export function createGrowthBookPeer(defs: ProjectDefs): Peer {
  const client = new GrowthBookClient({ enabled: true }).initSync({ payload: toGrowthBookPayload(defs) as never });
  const keys = defs.flags.map((f) => f.key);
  const n = keys.length;
  return {
    name: `@growthbook/growthbook ${packageVersion('@growthbook/growthbook')}`,
    path: 'client.evalFeature(key, {attributes}) × 50 (GrowthBookClient)',
    async: false,
    evaluate(user: BenchUser) {
      const ctx = { attributes: user.properties };
      let on = 0;
      for (let i = 0; i < n; i++) if (client.evalFeature(keys[i], ctx).on) on++;
      return on;
    },
    async values(user) {
      const ctx = { attributes: user.properties };
      const out: Record<string, FlagValue> = {};
      for (const key of keys) out[key] = (client.evalFeature(key, ctx).value ?? false) as FlagValue;
      return out;
    },
    close: async () => client.destroy(),
  };
}
