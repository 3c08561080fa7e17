// GeoIP person properties on a /flags body: client IP, precedence, geoip_disable, and no lookup
// for projects that never mention a `$geoip_` property.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProjectEntry } from '../../../src/cache/snapshot-cache.ts';
import { clientIp, withGeoip } from '../../../src/http/flags/geoip-properties.ts';
import { readFlagsBody } from '../../../src/http/flags/flags-body.ts';

function entryWith(filters: unknown): ProjectEntry {
  const memo = new Map<string, unknown>();
  const entry = {
    definitions: { flags: [{ deleted: false, filters }], cohorts: [] },
    derive<T>(key: string, build: (e: ProjectEntry) => T): T {
      if (!memo.has(key)) memo.set(key, build(entry as unknown as ProjectEntry));
      return memo.get(key) as T;
    },
  };
  return entry as unknown as ProjectEntry;
}

const geoFlag = { groups: [{ properties: [{ key: '$geoip_country_code', type: 'person', value: ['GB'], operator: 'exact' }] }] };

describe('GeoIP properties for /flags', () => {
  const lookups: string[] = [];
  const db = { lookup: (ip: string) => (lookups.push(ip), ip === '81.2.69.142' ? { $geoip_country_code: 'GB', $geoip_country_name: 'United Kingdom' } : null) };
  const request = (xff?: string) => ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: '::ffff:81.2.69.142' } });

  test('client IP: first X-Forwarded-For entry only behind a trusted proxy, ports and IPv4 mapping stripped', () => {
    assert.equal(clientIp({ 'x-forwarded-for': '81.2.69.142:4711, 10.0.0.1' }, '10.0.0.2', true), '81.2.69.142');
    assert.equal(clientIp({ 'x-forwarded-for': '[2a03:2880::1]:443' }, undefined, true), '2a03:2880::1');
    assert.equal(clientIp({ 'x-forwarded-for': '2a03:2880::1' }, undefined, true), '2a03:2880::1');
    assert.equal(clientIp({ 'x-forwarded-for': '81.2.69.142' }, '::ffff:10.0.0.2', false), '10.0.0.2');
    assert.equal(clientIp({}, '10.0.0.2', true), '10.0.0.2');
  });

  test('fills absent and null keys; caller values win; geoip_disable turns it off', () => {
    const settings = { db, trustProxy: false };
    const entry = entryWith(geoFlag);
    const plain = withGeoip(settings, entry, readFlagsBody({ distinct_id: 'u', person_properties: { plan: 'pro', $geoip_country_name: null } }), request());
    assert.deepEqual(plain.personProperties, { plan: 'pro', $geoip_country_code: 'GB', $geoip_country_name: 'United Kingdom' });
    const mine = withGeoip(settings, entry, readFlagsBody({ distinct_id: 'u', person_properties: { $geoip_country_code: 'US' } }), request());
    assert.equal(mine.personProperties?.$geoip_country_code, 'US');
    assert.equal(mine.personProperties?.$geoip_country_name, 'United Kingdom');
    const off = readFlagsBody({ distinct_id: 'u', geoip_disable: true });
    assert.equal(withGeoip(settings, entry, off, request()), off);
    assert.throws(() => readFlagsBody({ distinct_id: 'u', geoip_disable: 'yes' }), /geoip_disable must be a boolean/);
  });

  test('no lookup when the project never mentions a $geoip_ property, or without a database', () => {
    lookups.length = 0;
    const body = readFlagsBody({ distinct_id: 'u' });
    assert.equal(withGeoip({ db, trustProxy: true }, entryWith({ groups: [{ properties: [] }] }), body, request('81.2.69.142')), body);
    assert.equal(withGeoip({ db: null, trustProxy: true }, entryWith(geoFlag), body, request('81.2.69.142')), body);
    assert.deepEqual(lookups, []);
    withGeoip({ db, trustProxy: true }, entryWith(geoFlag), body, request('81.2.69.142'));
    assert.deepEqual(lookups, ['81.2.69.142']);
  });
});
