/**
 * @module engine/person-properties
 * Builds the person property map a request is evaluated against (spec §6.1).
 */
import type { Properties } from './types.ts';

/** Properties whose `$initial_` counterpart PostHog back-fills when absent (spec §6.1). */
const INITIAL_BACKFILL: ReadonlyMap<string, string> = new Map([
  '$app_build', '$app_name', '$app_namespace', '$app_version', '$browser', '$browser_version',
  '$device_type', '$current_url', '$pathname', '$os', '$os_version', '$referring_domain', '$referrer',
  '$screen_height', '$screen_width', '$viewport_height', '$viewport_width', '$raw_user_agent',
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'gclid', 'gad_source',
  'gclsrc', 'dclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'twclid', 'li_fat_id', 'mc_cid',
  'igshid', 'ttclid', 'rdt_cid', 'epik', 'qclid', 'sccid', 'irclid', '_kx',
].map((name) => [name, name.startsWith('$') ? `$initial_${name.slice(1)}` : `$initial_${name}`] as const));

/**
 * Merges stored person properties with the request's overrides (request wins key by key),
 * sets `distinct_id`, and — once stored data is known — mirrors `$os`/`$os_name` and back-fills
 * missing `$initial_*` keys.
 *
 * With `storedDataLoaded` false both are skipped: a stored `$initial_*` (or `$os`) value might
 * exist and would win, so a back-filled value would not be final; leaving the key absent
 * makes the engine report "inconclusive" for filters on it instead.
 *
 * The result has a null prototype, so keys like `__proto__` are ordinary keys.
 */
export function buildPersonProperties(
  stored: Properties | null,
  overrides: Properties | null,
  distinctId: string,
  storedDataLoaded = true,
): Record<string, unknown> {
  const merged: Record<string, unknown> = Object.create(null);
  if (stored) copyOwn(stored, merged);
  merged.distinct_id = distinctId;
  if (overrides) copyOwn(overrides, merged);
  if (storedDataLoaded) {
    // `$os` and `$os_name` mirror each other when only one is present, before the back-fill so
    // `$initial_os` can come from `$os_name` (PostHog `populate_os_aliases`, spec posthog-newer.md §11).
    const hasOs = Object.hasOwn(merged, '$os');
    if (hasOs !== Object.hasOwn(merged, '$os_name')) {
      if (hasOs) merged.$os_name = merged.$os;
      else merged.$os = merged.$os_name;
    }
    // Walk the person's keys (a handful), not the back-fill list (42 names).
    for (const name of Object.keys(merged)) {
      const initial = INITIAL_BACKFILL.get(name);
      if (initial !== undefined && !Object.hasOwn(merged, initial)) merged[initial] = merged[name];
    }
  }
  return merged;
}

function copyOwn(from: Properties, to: Record<string, unknown>): void {
  for (const key of Object.keys(from)) to[key] = from[key];
}
