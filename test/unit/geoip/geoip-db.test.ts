// GeoIP records → `$geoip_*` properties (both database layouts) and the bundled database.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGeoipDbPath, openGeoipDb, toGeoipProperties } from '../../../src/geoip/geoip-db.ts';

describe('GeoIP database', () => {
  test('a GeoIP2 city record gives PostHog property names', () => {
    const rec = {
      city: { names: { en: 'Aylesbury' } },
      continent: { code: 'EU', names: { en: 'Europe' } },
      country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
      location: { latitude: 51.8053, longitude: -0.8086, time_zone: 'Europe/London' },
      postal: { code: 'HP21' },
      subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }],
    };
    assert.deepEqual({ ...toGeoipProperties(rec) }, {
      $geoip_country_code: 'GB',
      $geoip_country_name: 'United Kingdom',
      $geoip_continent_code: 'EU',
      $geoip_continent_name: 'Europe',
      $geoip_city_name: 'Aylesbury',
      $geoip_postal_code: 'HP21',
      $geoip_time_zone: 'Europe/London',
      $geoip_latitude: 51.8053,
      $geoip_longitude: -0.8086,
      $geoip_subdivision_1_code: 'ENG',
      $geoip_subdivision_1_name: 'England',
    });
  });

  test('a flat ip-location-db record is completed from the country code', () => {
    assert.deepEqual({ ...toGeoipProperties({ country_code: 'AU' }) }, {
      $geoip_country_code: 'AU',
      $geoip_country_name: 'Australia',
      $geoip_continent_code: 'OC',
      $geoip_continent_name: 'Oceania',
    });
    assert.equal(toGeoipProperties(null), null);
    assert.equal(toGeoipProperties({}), null);
  });

  test('the bundled database answers public addresses and nothing else', async () => {
    const db = await openGeoipDb(defaultGeoipDbPath());
    assert.equal(db.lookup('81.2.69.142')?.$geoip_country_code, 'GB');
    assert.equal(db.lookup('8.8.8.8')?.$geoip_country_code, 'US');
    assert.equal(db.lookup('2a03:2880:f003::1')?.$geoip_country_code, 'US');
    for (const ip of ['127.0.0.1', '10.1.2.3', '::1', 'not-an-ip', '']) assert.equal(db.lookup(ip), null, ip);
  });

  test('a missing or non-MaxMind file is rejected', async () => {
    await assert.rejects(openGeoipDb('/nonexistent/db.mmdb'));
    await assert.rejects(openGeoipDb(new URL(import.meta.url).pathname));
  });
});
