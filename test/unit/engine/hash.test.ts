// Bucketing hash: bit-exact with PostHog's worked examples (spec §3.4) and with node:crypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashBucket, hashBytes, utf8Bytes } from '../../../src/engine/hash.ts';

const reference = (s: string) => parseInt(createHash('sha1').update(s, 'utf8').digest('hex').slice(0, 15), 16) / 0xfffffffffffffff;

// Spec §3.4, computed with posthog-node 5.70 and checked by hand against the table.
const vectors: [string, string, string, number][] = [
  ['beta-feature', 'some-distinct-id', '', 0.3435078163984861],
  ['beta-feature', 'some-distinct-id', 'variant', 0.9150298250696574],
  ['test-flag', 'user-1', '', 0.007041759849595705],
  ['test-flag', 'user-1', 'variant', 0.5657896835491947],
  ['multivariate-flag', 'user_42', '', 0.293871124882041],
  ['multivariate-flag', 'user_42', 'variant', 0.9656909592202484],
  ['simple-flag', 'distinct_id_1', '', 0.3397069926995401],
  ['group-flag', 'acme-inc', '', 0.4429764195865406],
  ['beta-feature', '😀user', '', 0.639982149718086],
];

for (const [key, id, salt, expected] of vectors) {
  test(`hash of ${key}.${id}${salt} is ${expected} (spec §3.4)`, () => {
    assert.equal(hashBucket(key, id, salt), expected);
  });
}

test('holdout hashes use "holdout-" + id with no flag key (spec §3.4)', () => {
  const holdout = (id: string) => hashBytes(utf8Bytes('holdout-'), utf8Bytes(id), new Uint8Array(0));
  assert.equal(holdout('user-1').toFixed(5), '0.17806');
  assert.equal(holdout('user_42').toFixed(5), '0.31632');
  assert.equal(holdout('a').toFixed(5), '0.75503');
});

test('agrees with node:crypto on thousands of keys, ids and lengths across block boundaries', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 3000; i++) {
    const key = 'k'.repeat(1 + Math.floor(rand() * 70));
    const id = Array.from({ length: Math.floor(rand() * 140) }, () => String.fromCharCode(32 + Math.floor(rand() * 0x2ff))).join('');
    for (const salt of ['', 'variant']) assert.equal(hashBucket(key, id, salt), reference(`${key}.${id}${salt}`), `${key}.${id}${salt}`);
  }
});

test('lone surrogates hash like their UTF-8 replacement character, as node:crypto does', () => {
  assert.equal(hashBucket('f', 'a\uD800b'), reference('f.a\uD800b'));
});

test('messages longer than the scratch buffer hash correctly', () => {
  const key = 'k'.repeat(900);
  const id = 'é'.repeat(300);
  assert.equal(hashBucket(key, id, 'variant'), reference(`${key}.${id}variant`));
});
