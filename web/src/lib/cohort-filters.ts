/**
 * @module lib/cohort-filters
 * A dynamic cohort's `filters.properties` tree ↔ the editor's tree. The API takes cohort leaves
 * as `{type: 'cohort', key: 'id', value, negation}` and person leaves with no extra keys, while
 * the shared filter editor speaks `in` / `not_in`; these functions translate both ways.
 */
import type { CohortGroup, PropertyFilter } from '../types.ts';

type Node = CohortGroup | PropertyFilter;

function isGroup(v: Node): v is CohortGroup {
  return Array.isArray((v as CohortGroup).values);
}

/** The stored tree as the editor shows it (an empty cohort: one AND group). */
export function editorTree(properties: unknown): CohortGroup {
  const walk = (n: Node): Node => {
    if (isGroup(n)) return { type: n.type === 'OR' ? 'OR' : 'AND', values: n.values.map(walk) };
    if (n.type === 'cohort') return { key: 'id', type: 'cohort', operator: n.negation ? 'not_in' : 'in', value: n.value };
    return { ...n };
  };
  if (properties !== null && typeof properties === 'object' && isGroup(properties as Node)) return walk(properties as Node) as CohortGroup;
  return { type: 'AND', values: [] };
}

/** The editor's tree as the API takes it. */
export function apiTree(tree: CohortGroup): CohortGroup {
  const walk = (n: Node): Node => {
    if (isGroup(n)) return { type: n.type, values: n.values.map(walk) };
    if (n.type === 'cohort') return { type: 'cohort', key: 'id', value: Number(n.value), negation: n.operator === 'not_in' };
    const leaf: PropertyFilter = { type: 'person', key: String(n.key), operator: n.operator ?? 'exact', value: n.value };
    if (n.negation) leaf.negation = true;
    return leaf;
  };
  return walk(tree) as CohortGroup;
}
