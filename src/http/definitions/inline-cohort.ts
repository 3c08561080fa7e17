/**
 * @module http/definitions/inline-cohort
 * For SDKs that poll without `send_cohorts`: a flag whose only cohort is a simple person-property
 * cohort gets that cohort's filters inlined as release conditions, so it stays locally
 * evaluable. Mirrors PostHog's `FeatureFlag.transform_cohort_filters_for_easy_evaluation`
 * (posthog/models/feature_flag/feature_flag.py), quirks included.
 */
import type { ConditionDef, FlagFiltersDef, PropertyFilterDef } from '../../engine/index.ts';
import type { CohortRow } from '../../store/store.ts';
import { cohortRef, cohortTree, treeFilters } from './filter-walk.ts';

type Node = { group: true; and: boolean; values: Node[] } | { group: false; prop: PropertyFilterDef };

function toNode(v: unknown): Node | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.values) && (o.type === 'AND' || o.type === 'OR')) {
    const values = o.values.map(toNode);
    return values.every((x) => x !== null) ? { group: true, and: o.type === 'AND', values: values as Node[] } : null;
  }
  return typeof o.key === 'string' ? { group: false, prop: o as unknown as PropertyFilterDef } : null;
}

/** PostHog's `clear_excess_levels`: single-child groups collapse into their child. */
function clearExcessLevels(node: Node, skip = false): Node {
  if (!node.group) return node;
  if (node.values.length === 1) {
    return skip ? { ...node, values: node.values.map((v) => clearExcessLevels(v)) } : clearExcessLevels(node.values[0]!);
  }
  return { ...node, values: node.values.map((v) => clearExcessLevels(v, true)) };
}

/** Cohort ids the release conditions reach, nested cohorts included; unknown ids are skipped. */
function reachedCohorts(conditions: readonly ConditionDef[], cohorts: ReadonlyMap<number, CohortRow>): Set<number> {
  const seen = new Set<number>();
  const queue = conditions.flatMap((c) => (Array.isArray(c?.properties) ? c.properties : []).map((p) => (p ? cohortRef(p) : null)));
  while (queue.length > 0) {
    const id = queue.pop();
    if (id === null || id === undefined || seen.has(id) || !cohorts.has(id)) continue;
    seen.add(id);
    for (const p of treeFilters(cohortTree(cohorts.get(id)!))) queue.push(cohortRef(p));
  }
  return seen;
}

/** The flag's filters with its single simple cohort inlined, or the filters unchanged. */
export function inlineSingleCohort(filters: FlagFiltersDef, cohorts: ReadonlyMap<number, CohortRow>): FlagFiltersDef {
  const conditions = Array.isArray(filters.groups) ? filters.groups : [];
  if (reachedCohorts(conditions, cohorts).size !== 1) return filters;

  let cohort: CohortRow | undefined;
  // PostHog keeps the rollout of the *last* condition for every inlined condition.
  let rollout: number | null | undefined;
  const parsed: ConditionDef[] = [];
  for (const condition of conditions) {
    if (condition?.variant) return filters;
    const props = Array.isArray(condition?.properties) ? condition.properties : [];
    rollout = condition?.rollout_percentage;
    let isCohortCondition = false;
    for (const prop of props) {
      if (prop?.type !== 'cohort') continue;
      isCohortCondition = true;
      const id = cohortRef(prop);
      if (!id) continue;
      if (props.length > 1) return filters;
      cohort = cohorts.get(id);
      if (!cohort) return filters;
    }
    if (!isCohortCondition) parsed.push(condition);
  }
  const tree = cohort ? toNode(cohortTree(cohort)) : null;
  const flat = cohort ? treeFilters(cohortTree(cohort)) : [];
  if (!tree || flat.length === 0) return filters;
  // Only person properties without negation can be expressed as release conditions.
  if (!flat.every((p) => p.type === 'person') || flat.some((p) => p.negation)) return filters;

  const target = clearExcessLevels(tree);
  const condition = (props: PropertyFilterDef[]): ConditionDef => ({ properties: props.map((p) => ({ ...p })), rollout_percentage: rollout ?? null });
  if (!target.group) {
    parsed.push(condition([target.prop]));
  } else if (!target.values[0]?.group) {
    if (target.values.some((v) => v.group)) return filters;
    const props = target.values.map((v) => (v as { prop: PropertyFilterDef }).prop);
    if (target.and) parsed.push(condition(props));
    else for (const p of props) parsed.push(condition([p]));
  } else {
    // Nested groups: only an OR of simple groups maps onto release conditions.
    if (target.and) return filters;
    for (const group of target.values) {
      if (!group.group || group.values.length === 0 || group.values[0]!.group || (!group.and && group.values.length > 1)) return filters;
      if (group.values.some((v) => v.group)) return filters;
      parsed.push(condition(group.values.map((v) => (v as { prop: PropertyFilterDef }).prop)));
    }
  }
  return { ...filters, groups: parsed };
}
