/**
 * @module lib/flag-summary
 * One-line descriptions of a flag for the list: its type and its rollout.
 */
import type { Flag } from '../types.ts';

/** `multivariate` when the flag has variants, else `boolean`. */
export function flagType(flag: Flag): 'boolean' | 'multivariate' {
  return (flag.filters.multivariate?.variants?.length ?? 0) > 0 ? 'multivariate' : 'boolean';
}

/** E.g. "100% of everyone", "2 conditions: 1 filter, 50% · 30%". */
export function rolloutSummary(flag: Flag): string {
  const groups = flag.filters.groups ?? [];
  const target = flag.filters.aggregation_group_type_index === null || flag.filters.aggregation_group_type_index === undefined ? 'users' : 'groups';
  let text: string;
  if (groups.length === 0) text = 'No conditions: nobody';
  else if (groups.length === 1 && (groups[0]!.properties ?? []).length === 0) {
    text = `${groups[0]!.rollout_percentage ?? 100}% of all ${target}`;
  } else {
    const parts = groups.map((g) => {
      const n = (g.properties ?? []).length;
      return `${n === 0 ? 'all' : `${n} filter${n === 1 ? '' : 's'}`} at ${g.rollout_percentage ?? 100}%`;
    });
    text = `${groups.length} condition${groups.length === 1 ? '' : 's'}: ${parts.join(' · ')}`;
  }
  const variants = flag.filters.multivariate?.variants ?? [];
  if (variants.length > 0) text += `; variants ${variants.map((v) => `${v.key} ${v.rollout_percentage}%`).join(' / ')}`;
  return text;
}

/** A short local date and time. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
