/**
 * @module lib/operators
 * Property operators as the editor presents them: a label and the kind of value editor each
 * needs. Value shapes follow what Vexil's admin API accepts (PostHog's rules: the numeric
 * comparisons and text operators take strings, `between` a [min, max] pair, `exact` a list).
 */

/** Which value editor an operator gets. */
export type ValueKind = 'none' | 'list' | 'text' | 'regex' | 'number' | 'range' | 'semver' | 'date';

export interface OperatorInfo {
  op: string;
  label: string;
  kind: ValueKind;
}

/** Every operator a person or group property filter can use, in menu order. */
export const PROPERTY_OPERATORS: readonly OperatorInfo[] = [
  { op: 'exact', label: 'equals one of', kind: 'list' },
  { op: 'is_not', label: 'does not equal any of', kind: 'list' },
  { op: 'is_set', label: 'is set', kind: 'none' },
  { op: 'is_not_set', label: 'is not set', kind: 'none' },
  { op: 'icontains', label: 'contains', kind: 'text' },
  { op: 'not_icontains', label: 'does not contain', kind: 'text' },
  { op: 'icontains_multi', label: 'contains any of', kind: 'list' },
  { op: 'not_icontains_multi', label: 'contains none of', kind: 'list' },
  { op: 'starts_with', label: 'starts with', kind: 'text' },
  { op: 'not_starts_with', label: 'does not start with', kind: 'text' },
  { op: 'ends_with', label: 'ends with', kind: 'text' },
  { op: 'not_ends_with', label: 'does not end with', kind: 'text' },
  { op: 'regex', label: 'matches regex', kind: 'regex' },
  { op: 'not_regex', label: 'does not match regex', kind: 'regex' },
  { op: 'gt', label: '>', kind: 'number' },
  { op: 'gte', label: '≥', kind: 'number' },
  { op: 'lt', label: '<', kind: 'number' },
  { op: 'lte', label: '≤', kind: 'number' },
  { op: 'between', label: 'between (inclusive)', kind: 'range' },
  { op: 'not_between', label: 'not between', kind: 'range' },
  { op: 'semver_eq', label: 'semver =', kind: 'semver' },
  { op: 'semver_neq', label: 'semver ≠', kind: 'semver' },
  { op: 'semver_gt', label: 'semver >', kind: 'semver' },
  { op: 'semver_gte', label: 'semver ≥', kind: 'semver' },
  { op: 'semver_lt', label: 'semver <', kind: 'semver' },
  { op: 'semver_lte', label: 'semver ≤', kind: 'semver' },
  { op: 'semver_tilde', label: 'semver ~ (patch range)', kind: 'semver' },
  { op: 'semver_caret', label: 'semver ^ (minor range)', kind: 'semver' },
  { op: 'semver_wildcard', label: 'semver wildcard (1.2.*)', kind: 'semver' },
  { op: 'is_date_before', label: 'date before', kind: 'date' },
  { op: 'is_date_after', label: 'date after', kind: 'date' },
  { op: 'is_date_exact', label: 'date is', kind: 'date' },
];

const BY_OP = new Map(PROPERTY_OPERATORS.map((o) => [o.op, o]));

/** The value kind of `op` (unknown or missing: `exact`'s list, PostHog's default operator). */
export function kindOf(op: string | null | undefined): ValueKind {
  return BY_OP.get(op ?? 'exact')?.kind ?? 'list';
}

/** A value fitting `kind`, kept from `value` where it can be. */
export function coerceValue(kind: ValueKind, value: unknown, op: string): unknown {
  const first = Array.isArray(value) ? value[0] : value;
  const text = first === undefined || first === null ? '' : String(first);
  switch (kind) {
    case 'none':
      return op;
    case 'list':
      return Array.isArray(value) ? value.map(String) : text === '' ? [] : [text];
    case 'range':
      return Array.isArray(value) && value.length === 2 ? value : [0, 100];
    default:
      return text;
  }
}

/** Human words for a value, for summaries. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(', ');
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The label of `op`, or the op itself. */
export function operatorLabel(op: string | null | undefined): string {
  if (op === 'in') return 'in cohort';
  if (op === 'not_in') return 'not in cohort';
  if (op === 'flag_evaluates_to') return 'evaluates to';
  return BY_OP.get(op ?? 'exact')?.label ?? String(op);
}
