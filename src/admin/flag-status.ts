/**
 * @module admin/flag-status
 * A flag's status as PostHog computes it (`FeatureFlagStatusChecker`,
 * products/feature_flags/backend/flag_status.py), and Vexil's usage-based staleness. Pure: the
 * caller passes the usage it read and the clock.
 */
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow, FlagUsageRow } from '../store/store.ts';

const DAY_MS = 86_400_000;
/** PostHog's fixed staleness threshold. */
const POSTHOG_STALE_DAYS = 30;

/** PostHog's FeatureFlagStatus values (the `/status` action answers these; the flag's `status` field their upper-case names). */
export type FlagStatus = 'active' | 'stale' | 'deleted' | 'unknown';

const plural = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

type Group = { rollout_percentage?: unknown; properties?: unknown; variant?: unknown };

function groupFullyRolledOut(g: Group): boolean {
  return g.rollout_percentage === 100 && (!Array.isArray(g.properties) || g.properties.length === 0);
}

/**
 * PostHog's `is_flag_fully_rolled_out`: the reason when the flag always answers the same, else
 * null. A flag without variants is boolean (an empty variant list too); a boolean flag without
 * release conditions is fully rolled out, as PostHog treats legacy `{}` and `{"groups": []}`.
 */
function fullyRolledOutReason(filters: FlagFiltersDef | null | undefined): string | null {
  const f = (filters ?? {}) as FlagFiltersDef & Record<string, unknown>;
  const groups = (Array.isArray(f.groups) ? f.groups : []) as Group[];
  const multivariate = f.multivariate as { variants?: Array<{ key?: unknown; rollout_percentage?: unknown }> } | null | undefined;
  const variants = Array.isArray(multivariate?.variants) ? multivariate.variants : [];
  if (variants.length > 0) {
    const full = variants.find((v) => v.rollout_percentage === 100);
    let someGroupFull = false;
    let override: string | null = null;
    for (const g of groups) {
      if (!groupFullyRolledOut(g)) continue;
      someGroupFull = true;
      override ??= typeof g.variant === 'string' ? g.variant : null;
    }
    if (someGroupFull && (override !== null || full !== undefined)) return `This flag will always use the variant "${override ?? String(full?.key ?? '')}"`;
    return null;
  }
  if (groups.length === 0 || groups.some(groupFullyRolledOut)) return 'This boolean flag will always evaluate to "true"';
  return null;
}

/**
 * PostHog's status: deleted; disabled flags are active; with usage data, stale when not called
 * for 30 days; without, stale when 30+ days old and fully rolled out.
 */
export function flagStatus(flag: FlagRow, lastCalledAt: Date | null, now: number): { status: FlagStatus; reason: string } {
  if (flag.deleted) return { status: 'deleted', reason: 'Flag has been deleted' };
  if (!flag.active) return { status: 'active', reason: 'Flag is disabled (not evaluated for staleness)' };
  if (lastCalledAt !== null) {
    const days = Math.floor((now - lastCalledAt.getTime()) / DAY_MS);
    if (lastCalledAt.getTime() < now - POSTHOG_STALE_DAYS * DAY_MS) return { status: 'stale', reason: `Flag has not been called in ${days} days` };
    return { status: 'active', reason: days <= 0 ? 'Flag was called today' : `Flag was last called ${plural(days)} ago` };
  }
  if (flag.createdAt.getTime() < now - POSTHOG_STALE_DAYS * DAY_MS) {
    const reason = fullyRolledOutReason(flag.filters);
    if (reason !== null) return { status: 'stale', reason };
  }
  return { status: 'active', reason: 'Flag has no usage data yet' };
}

/** Vexil's usage-based staleness of one flag. */
export interface UsageStaleness {
  stale: boolean;
  /** `not_evaluated`: no evaluation or call in `days`; `single_value`: every answer in `days` was `value`. */
  reason: 'not_evaluated' | 'single_value' | null;
  days: number;
  value?: string;
  detail: string;
}

/** First UTC day (`YYYY-MM-DD`) of the `days`-day window that ends today. */
export function windowStart(now: number, days: number): string {
  return new Date((Math.floor(now / DAY_MS) - days + 1) * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Stale when the flag (older than `days`) was not evaluated in the last `days` days, or when its
 * definition did not change in that window and every evaluation in it returned one value.
 * `usage`: the flag's counters from windowStart(now, days) on.
 */
export function usageStaleness(flag: FlagRow, usage: readonly FlagUsageRow[], lastCalledAt: Date | null, now: number, days: number): UsageStaleness {
  const since = now - days * DAY_MS;
  const base = { days };
  if (flag.deleted) return { ...base, stale: false, reason: null, detail: 'Flag has been deleted' };
  if (lastCalledAt === null || lastCalledAt.getTime() < since) {
    if (flag.createdAt.getTime() >= since) return { ...base, stale: false, reason: null, detail: `Flag is younger than ${plural(days)}` };
    return { ...base, stale: true, reason: 'not_evaluated', detail: `Flag has not been evaluated in ${plural(days)}` };
  }
  const values = new Set(usage.map((u) => u.value));
  if (values.size === 1 && flag.updatedAt.getTime() <= since) {
    const value = [...values][0]!;
    return { ...base, stale: true, reason: 'single_value', value, detail: `Flag has returned "${value}" to everyone for ${plural(days)}` };
  }
  return { ...base, stale: false, reason: null, detail: values.size > 1 ? `Flag returned ${values.size} different values in ${plural(days)}` : 'Flag changed recently' };
}
