/**
 * @module http/flags/geoip-properties
 * GeoIP person properties for /flags (spec §6.1; PostHog rust feature-flags): from the client IP
 * unless the body says `geoip_disable`, filling only keys the caller left absent or null. The
 * lookup runs only for projects whose flags or cohorts mention a `$geoip_` property, decided
 * once per snapshot, so every other request pays one memoized check.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProjectEntry } from '../../cache/snapshot-cache.ts';
import type { GeoipLookup } from '../../geoip/geoip-db.ts';
import type { FlagsBody } from './flags-body.ts';

/** What the /flags route needs for GeoIP. */
export interface GeoipSettings {
  /** null: no database (missing, unreadable): nothing is derived. */
  db: GeoipLookup | null;
  /** Take the client IP from X-Forwarded-For (VEXIL_TRUST_PROXY). */
  trustProxy: boolean;
}

/** Whether any live flag or cohort of the snapshot reads a `$geoip_*` property. */
export function usesGeoip(entry: ProjectEntry): boolean {
  return entry.derive('usesGeoip', (e) => {
    // A text scan over-approximates (a value mentioning "$geoip_ also counts): that only costs a lookup.
    const mentions = (filters: unknown) => JSON.stringify(filters ?? null).includes('"$geoip_');
    return e.definitions.flags.some((f) => !f.deleted && mentions(f.filters)) || e.definitions.cohorts.some((c) => !c.deleted && mentions(c.filters));
  });
}

/** `1.2.3.4:5678` → `1.2.3.4`, `[::1]:80` → `::1`, `::ffff:1.2.3.4` → `1.2.3.4`; bare IPv6 as is. */
function stripPort(raw: string): string {
  let ip = raw.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']') === -1 ? undefined : ip.indexOf(']'));
  else if (ip.indexOf(':') !== -1 && ip.indexOf(':') === ip.lastIndexOf(':')) ip = ip.slice(0, ip.indexOf(':'));
  return ip.toLowerCase().startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * The client IP: the first X-Forwarded-For entry when the proxy is trusted (PostHog reads the
 * first entry, port stripped), else the socket's peer address.
 */
export function clientIp(headers: IncomingHttpHeaders, remoteAddress: string | undefined, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const xff = headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0];
    if (first !== undefined && first.trim() !== '') return stripPort(first);
  }
  return remoteAddress === undefined ? undefined : stripPort(remoteAddress);
}

/**
 * The body with GeoIP person properties added below the caller's (a caller's non-null value
 * wins, as PostHog's precedence is confirmed in spec/posthog-newer.md §11). Unchanged when
 * GeoIP is off, disabled by the request, unused by the project or unknown for the IP.
 */
export function withGeoip(
  settings: GeoipSettings,
  entry: ProjectEntry,
  body: FlagsBody,
  request: { headers: IncomingHttpHeaders; socket?: { remoteAddress?: string } },
): FlagsBody {
  if (settings.db === null || body.geoipDisable || !usesGeoip(entry)) return body;
  const ip = clientIp(request.headers, request.socket?.remoteAddress, settings.trustProxy);
  const geo = ip === undefined ? null : settings.db.lookup(ip);
  if (geo === null) return body;
  const merged: Record<string, unknown> = { ...geo };
  const given = body.personProperties;
  if (given !== null) {
    for (const key of Object.keys(given)) {
      const v = given[key];
      if (v !== null && v !== undefined) merged[key] = v;
      else if (!(key in geo)) merged[key] = v;
    }
  }
  return { ...body, personProperties: merged };
}
