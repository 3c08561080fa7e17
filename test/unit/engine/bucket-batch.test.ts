// Batched bucketing: the four-lane SIMD SHA-1 kernel and the batch around it give exactly the
// scalar hash's buckets, whatever the lengths, the mix of block counts and the leftovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { addBucket, alignedPrefix, beginBuckets, finishBuckets, simdBuckets } from '../../../src/engine/bucket-batch.ts';
import { hashBucket, hashBytes, utf8Bytes } from '../../../src/engine/hash.ts';
import { createSha1x4, LANE_BYTES, LANES, LANES_OFFSET, LENGTHS_OFFSET, MAX_BLOCKS, RESULT_OFFSET, STARTS_OFFSET } from '../../../src/engine/sha1x4.ts';
import { compileSnapshot, evaluateFlags, type FlagDef } from '../../../src/engine/index.ts';

function lcg(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

test('WebAssembly SIMD is available on the Node versions Vexil supports, so batches use it', () => {
  assert.equal(simdBuckets, true);
});

test('the kernel digests its lanes\' messages of any length up to its slot, at any start, over stale memory, as node:crypto does', () => {
  const kernel = createSha1x4(1)!;
  const rand = lcg(3);
  const maxLength = MAX_BLOCKS * 64 - 9;
  for (let len = 0; len <= maxLength; len++) {
    const blocks = ((len + 8) >>> 6) + 1;
    // Garbage around each message: the kernel must mask it, not rely on zeroed memory.
    kernel.bytes.fill(0xa5, LANES_OFFSET, LANES_OFFSET + LANES * LANE_BYTES);
    const lanes: Buffer[] = [];
    for (let j = 0; j < LANES; j++) {
      let n = len - (j % 5);
      if (n < 0 || ((n + 8) >>> 6) + 1 !== blocks) n = len;
      const message = Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
      const start = Math.floor(rand() * (LANE_BYTES - blocks * 64 + 1));
      kernel.bytes.set(message, LANES_OFFSET + j * LANE_BYTES + start);
      kernel.words[STARTS_OFFSET / 4 + j] = start;
      kernel.words[LENGTHS_OFFSET / 4 + j] = n;
      lanes.push(message);
    }
    kernel.run(0, blocks);
    lanes.forEach((message, j) => {
      const digest = createHash('sha1').update(message).digest();
      // Each group of four lanes stores its h0 vector, then its h1 vector.
      const h0 = RESULT_OFFSET / 4 + 8 * (j >> 2) + (j & 3);
      assert.equal(kernel.words[h0], digest.readInt32BE(0), `h0, length ${message.length}, lane ${j}`);
      assert.equal(kernel.words[h0 + 4], digest.readInt32BE(4), `h1, length ${message.length}, lane ${j}`);
    });
  }
});

test('identifiers kept in lanes across batches never leak into another identifier\'s or salt\'s hash', () => {
  const rand = lcg(17);
  const ids = Array.from({ length: 6 }, (_, i) => utf8Bytes(`0190abcd-${i}-7abc-8abc-${'0'.repeat(i * 3)}${i}`));
  const salts = [new Uint8Array(0), utf8Bytes('variant'), utf8Bytes('other-salt')];
  const prefixes = Array.from({ length: 30 }, (_, i) => utf8Bytes(`${'k'.repeat(1 + ((i * 7) % 60))}.`));
  for (let round = 0; round < 100; round++) {
    const inputs: [Uint8Array, Uint8Array, Uint8Array][] = [];
    const id = ids[Math.floor(rand() * ids.length)]!;
    for (let i = 0; i < 50; i++) {
      // Mostly one identifier per batch, as in a request, sometimes another one.
      const use = rand() < 0.8 ? id : ids[Math.floor(rand() * ids.length)]!;
      inputs.push([prefixes[Math.floor(rand() * prefixes.length)]!, use, salts[Math.floor(rand() * salts.length)]!]);
    }
    const out = new Float64Array(inputs.length).fill(NaN);
    beginBuckets(out);
    inputs.forEach(([p, i, salt], k) => addBucket(p, alignedPrefix(p), i, salt, k));
    finishBuckets();
    inputs.forEach(([p, i, salt], k) => assert.equal(out[k], hashBytes(p, i, salt), `round ${round}, input ${k}`));
  }
});

test('a batch of mixed lengths, partial batches and over-long messages equals the scalar hash one by one', () => {
  const rand = lcg(11);
  for (let round = 0; round < 200; round++) {
    const count = 1 + Math.floor(rand() * 40);
    const inputs: [Uint8Array, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < count; i++) {
      const prefix = utf8Bytes(`${'flag-'.repeat(1 + Math.floor(rand() * 45))}.`);
      // Mostly realistic ids, some long enough to need the scalar fallback, some non-ASCII.
      const idLength = rand() < 0.1 ? 200 + Math.floor(rand() * 300) : 1 + Math.floor(rand() * 80);
      const id = utf8Bytes(Array.from({ length: idLength }, () => String.fromCharCode(33 + Math.floor(rand() * (rand() < 0.05 ? 0x500 : 90)))).join(''));
      inputs.push([prefix, id, rand() < 0.5 ? utf8Bytes('variant') : new Uint8Array(0)]);
    }
    const out = new Float64Array(count).fill(NaN);
    beginBuckets(out);
    inputs.forEach(([p, id, salt], i) => addBucket(p, i % 2 === 0 ? alignedPrefix(p) : null, id, salt, i));
    finishBuckets();
    inputs.forEach(([p, id, salt], i) => assert.equal(out[i], hashBytes(p, id, salt), `round ${round}, input ${i}`));
  }
});

function flag(id: number, key: string, extra: Partial<FlagDef> = {}, filters: Record<string, unknown> = {}): FlagDef {
  return {
    id, key, name: key, active: true, deleted: false, ensure_experience_continuity: false, version: 1,
    filters: { groups: [{ properties: [], rollout_percentage: 50 }], multivariate: null, aggregation_group_type_index: null, payloads: {}, ...filters },
    ...extra,
  } as FlagDef;
}

test('buckets hashed ahead give the same answers as hashing on demand, for every kind of identifier', () => {
  const variants = { variants: [{ key: 'a', rollout_percentage: 30 }, { key: 'b', rollout_percentage: 70 }] };
  const defs = {
    flags: [
      flag(1, 'plain-rollout'),
      flag(2, 'multivariate', {}, { multivariate: variants, groups: [{ properties: [], rollout_percentage: 100 }] }),
      flag(3, 'continuity', { ensure_experience_continuity: true }, { multivariate: variants }),
      flag(4, 'device', { bucketing_identifier: 'device_id' } as Partial<FlagDef>),
      flag(5, 'company', {}, { aggregation_group_type_index: 0 }),
      flag(6, 'mixed-aggregation', {}, { groups: [{ properties: [], rollout_percentage: 40, aggregation_group_type_index: 0 }, { properties: [], rollout_percentage: 60 }] }),
      flag(7, 'inactive', { active: false }),
    ],
    cohorts: [],
    groupTypeMapping: { '0': 'company' },
    timezone: 'UTC',
  };
  const snapshot = compileSnapshot(defs);
  const rand = lcg(5);
  for (let i = 0; i < 500; i++) {
    const distinctId = `user-${Math.floor(rand() * 1e9)}`;
    const ctx = {
      distinctId,
      personProperties: { distinct_id: distinctId },
      groups: rand() < 0.5 ? { company: `acme-${i}` } : {},
      groupProperties: {},
      deviceId: rand() < 0.5 ? `device-${i}` : undefined,
      anonDistinctId: rand() < 0.5 ? `anon-${i}` : undefined,
      hashKeyOverrides: rand() < 0.5 ? new Map([['continuity', `override-${i}`]]) : undefined,
      storedDataLoaded: true,
      now: 0,
    };
    const got = evaluateFlags(snapshot, ctx).flags;
    // Reference: the same project with every flag's bucket hashed on demand.
    const reference = evaluateFlags({ ...snapshot, prefetchByDistinctId: [], prefetchOrdinals: [] }, ctx).flags;
    assert.deepEqual(got.map((r) => [r.key, r.enabled, r.variant, r.reason, r.conditionIndex]), reference.map((r) => [r.key, r.enabled, r.variant, r.reason, r.conditionIndex]));
  }
});

test('an empty distinct id is bucket 0 without hashing, for rollouts and variants alike (PostHog get_hash)', () => {
  const variants = { variants: [{ key: 'first', rollout_percentage: 30 }, { key: 'second', rollout_percentage: 70 }] };
  const snapshot = compileSnapshot({
    flags: [
      flag(1, 'tiny-rollout', {}, { groups: [{ properties: [], rollout_percentage: 0 }] }),
      flag(2, 'multivariate', {}, { multivariate: variants, groups: [{ properties: [], rollout_percentage: 100 }] }),
    ],
    cohorts: [],
    groupTypeMapping: {},
  });
  const got = evaluateFlags(snapshot, { distinctId: '', personProperties: {}, groups: {}, groupProperties: {}, storedDataLoaded: true, now: 0 }).flags;
  assert.deepEqual(got.map((r) => [r.key, r.enabled, r.variant]), [['tiny-rollout', true, null], ['multivariate', true, 'first']]);
});

test('more identifiers in one evaluation than the bucket table tags still bucket exactly (scalar fallback)', () => {
  // 12 continuity flags, each with its own stored hash key, plus group flags: more than the
  // table's identifier slots, so some buckets are hashed one at a time. Each answer must still be
  // PostHog's: enabled exactly when the key's bucket is within the rollout.
  const keys = Array.from({ length: 12 }, (_, i) => `continuity-${i}`);
  const snapshot = compileSnapshot({
    flags: [
      ...keys.map((key, i) => flag(100 + i, key, { ensure_experience_continuity: true })),
      ...[0, 1, 2, 3, 4].map((g) => flag(200 + g, `group-${g}`, {}, { aggregation_group_type_index: g })),
    ],
    cohorts: [],
    groupTypeMapping: { '0': 'a', '1': 'b', '2': 'c', '3': 'd', '4': 'e' },
  });
  for (let n = 0; n < 200; n++) {
    const overrides = new Map(keys.map((k, i) => [k, `hash-key-${n}-${i}`]));
    const groups = { a: `ga-${n}`, b: `gb-${n}`, c: `gc-${n}`, d: `gd-${n}`, e: `ge-${n}` };
    const got = evaluateFlags(snapshot, { distinctId: `user-${n}`, personProperties: {}, groups, groupProperties: {}, hashKeyOverrides: overrides, storedDataLoaded: true, now: 0 }).flags;
    for (const r of got) {
      const id = r.key.startsWith('continuity-') ? overrides.get(r.key)! : groups['abcde'[Number(r.key.slice(6))] as keyof typeof groups];
      assert.equal(r.enabled, hashBucket(r.key, id) <= 0.5, `${r.key} for evaluation ${n}`);
    }
  }
});

test('evaluations of different projects interleaved share the scratch state without mixing answers', () => {
  const variants = { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] };
  const small = compileSnapshot({ flags: [flag(1, 'only-one'), flag(2, 'mv', {}, { multivariate: variants })], cohorts: [], groupTypeMapping: {} });
  const large = compileSnapshot({
    flags: Array.from({ length: 40 }, (_, i) => flag(10 + i, `large-${i}`, {}, i % 3 === 0 ? { multivariate: variants } : {})),
    cohorts: [],
    groupTypeMapping: {},
  });
  const ctx = (n: number) => ({ distinctId: `person-${n}`, personProperties: {}, groups: {}, groupProperties: {}, storedDataLoaded: true, now: 0 });
  const shape = (flags: readonly { key: string; enabled: boolean; variant: string | null }[]) => flags.map((r) => `${r.key}=${r.enabled}/${r.variant}`).join(',');
  const alone = (snapshot: typeof small) => Array.from({ length: 100 }, (_, n) => shape(evaluateFlags(snapshot, ctx(n)).flags));
  const expectedSmall = alone(small);
  const expectedLarge = alone(large);
  for (let n = 0; n < 100; n++) {
    assert.equal(shape(evaluateFlags(large, ctx(n)).flags), expectedLarge[n]);
    assert.equal(shape(evaluateFlags(small, ctx(n)).flags), expectedSmall[n]);
  }
});

test('an evaluation stopped at its first inconclusive flag leaves no queued bucket behind for the next one', () => {
  const variants = { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] };
  const snapshot = compileSnapshot({
    flags: [
      // Rollouts and variants first: queued (and waiting) when the inconclusive flag stops the run.
      ...Array.from({ length: 12 }, (_, i) => flag(1 + i, `rollout-${i}`, {}, i % 2 ? { multivariate: variants } : {})),
      flag(20, 'needs-plan', {}, { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 50 }] }),
      ...Array.from({ length: 12 }, (_, i) => flag(30 + i, `after-${i}`, {}, i % 2 ? { multivariate: variants } : {})),
    ],
    cohorts: [],
    groupTypeMapping: {},
  });
  const ctx = (n: number, loaded: boolean) => ({
    distinctId: `person-${n}`,
    personProperties: loaded ? { distinct_id: `person-${n}`, plan: 'pro' } : { distinct_id: `person-${n}` },
    groups: {},
    groupProperties: {},
    storedDataLoaded: loaded,
    stopAtInconclusive: !loaded,
    now: 0,
  });
  const shape = (flags: readonly { key: string; enabled: boolean; variant: string | null }[]) => flags.map((r) => `${r.key}=${r.enabled}/${r.variant}`).join(',');
  const expected = Array.from({ length: 60 }, (_, n) => shape(evaluateFlags(snapshot, ctx(n, true)).flags));
  for (let n = 0; n < 60; n++) {
    const probe = evaluateFlags(snapshot, ctx(n, false));
    assert.equal(probe.inconclusive, true);
    assert.deepEqual(probe.flags, []);
    assert.equal(shape(evaluateFlags(snapshot, ctx(n, true)).flags), expected[n]);
  }
});
