/**
 * @module test/unit/cache/person-cache.test
 * The person cache: exact keys (project first), LRU bound, age limit, invalidation by distinct
 * id, group and project, and loads that race a write are not stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PersonCache, personCacheKey } from '../../../src/cache/person-cache.ts';
import type { EvaluationData, EvaluationDataQuery } from '../../../src/store/store.ts';

const data = (plan: string): EvaluationData => ({
  personProperties: { plan },
  staticCohortIds: [],
  groupProperties: new Map(),
  hashKeyOverrides: new Map(),
});
const q = (projectId: number, distinctId: string, extra: Partial<EvaluationDataQuery> = {}): EvaluationDataQuery => ({
  projectId,
  distinctId,
  groups: [],
  ...extra,
});

describe('PersonCache', () => {
  test('serves only the exact query: another project with the same distinct id misses', () => {
    const c = new PersonCache({ maxEntries: 10 });
    c.set(q(1, 'u'), data('a'));
    assert.equal(c.get(q(1, 'u'))?.personProperties?.plan, 'a');
    assert.equal(c.get(q(2, 'u')), undefined);
    assert.equal(c.get(q(1, 'u', { groups: [{ groupTypeIndex: 0, groupKey: 'acme' }] })), undefined);
    assert.equal(c.get(q(1, 'u', { overrideDistinctIds: ['u', 'anon'] })), undefined);
  });

  test('while not trusted (off the change bus) every get misses and nothing is stored', () => {
    let trusted = true;
    const c = new PersonCache({ maxEntries: 10, trusted: () => trusted });
    c.set(q(1, 'u'), data('a'));
    trusted = false;
    assert.equal(c.get(q(1, 'u')), undefined, 'an entry from before the cut is not served');
    c.set(q(1, 'v'), data('b'));
    trusted = true;
    assert.equal(c.get(q(1, 'v')), undefined, 'nothing was stored while not trusted');
  });

  test('keys do not depend on group order and cannot be forged with separators', () => {
    const g1 = [{ groupTypeIndex: 1, groupKey: 'b' }, { groupTypeIndex: 0, groupKey: 'a' }];
    assert.equal(personCacheKey(q(1, 'u', { groups: g1 })), personCacheKey(q(1, 'u', { groups: [...g1].reverse() })));
    assert.notEqual(personCacheKey(q(1, 'u\u0000x')), personCacheKey(q(1, 'u', { groups: [{ groupTypeIndex: 0, groupKey: 'x' }] })));
    assert.notEqual(personCacheKey(q(12, '3')), personCacheKey(q(1, '23')));
  });

  test('evicts the least recently used entry past maxEntries; a get refreshes recency', () => {
    const c = new PersonCache({ maxEntries: 2 });
    c.set(q(1, 'a'), data('a'));
    c.set(q(1, 'b'), data('b'));
    c.get(q(1, 'a'));
    c.set(q(1, 'c'), data('c'));
    assert.equal(c.size, 2);
    assert.notEqual(c.get(q(1, 'a')), undefined);
    assert.equal(c.get(q(1, 'b')), undefined);
    assert.notEqual(c.get(q(1, 'c')), undefined);
  });

  test('maxEntries 0 keeps nothing; a negative size is refused', () => {
    const c = new PersonCache({ maxEntries: 0 });
    c.set(q(1, 'a'), data('a'));
    assert.equal(c.get(q(1, 'a')), undefined);
    assert.throws(() => new PersonCache({ maxEntries: -1 }), RangeError);
  });

  test('entries expire after maxAgeMs on the injected clock', () => {
    let now = 1000;
    const c = new PersonCache({ maxEntries: 10, maxAgeMs: 500, now: () => now });
    c.set(q(1, 'a'), data('a'));
    now = 1499;
    assert.notEqual(c.get(q(1, 'a')), undefined);
    now = 1500;
    assert.equal(c.get(q(1, 'a')), undefined);
    assert.equal(c.size, 0);
  });

  test('invalidate drops entries reading the id as person or as override id, in that project only', () => {
    const c = new PersonCache({ maxEntries: 10 });
    c.set(q(1, 'u'), data('1'));
    c.set(q(1, 'other', { overrideDistinctIds: ['other', 'u'] }), data('2'));
    c.set(q(2, 'u'), data('3'));
    c.set(q(1, 'v'), data('4'));
    c.invalidate(1, ['u']);
    assert.equal(c.get(q(1, 'u')), undefined);
    assert.equal(c.get(q(1, 'other', { overrideDistinctIds: ['other', 'u'] })), undefined);
    assert.notEqual(c.get(q(2, 'u')), undefined);
    assert.notEqual(c.get(q(1, 'v')), undefined);
  });

  test('invalidateGroups drops entries reading the group; invalidateProject and clear drop everything they cover', () => {
    const c = new PersonCache({ maxEntries: 10 });
    const acme = { groupTypeIndex: 0, groupKey: 'acme' };
    c.set(q(1, 'u', { groups: [acme] }), data('1'));
    c.set(q(1, 'w'), data('2'));
    c.set(q(2, 'u', { groups: [acme] }), data('3'));
    c.invalidateGroups(1, [acme]);
    assert.equal(c.get(q(1, 'u', { groups: [acme] })), undefined);
    assert.notEqual(c.get(q(1, 'w')), undefined);
    assert.notEqual(c.get(q(2, 'u', { groups: [acme] })), undefined);
    c.invalidateProject(1);
    assert.equal(c.get(q(1, 'w')), undefined);
    assert.equal(c.size, 1);
    c.clear();
    assert.equal(c.size, 0);
  });

  test('getOrLoad loads once, then hits; a failing load stores nothing', async () => {
    const c = new PersonCache({ maxEntries: 10 });
    let loads = 0;
    const load = async () => {
      loads++;
      return data('x');
    };
    await c.getOrLoad(q(1, 'u'), load);
    await c.getOrLoad(q(1, 'u'), load);
    assert.equal(loads, 1);
    await assert.rejects(c.getOrLoad(q(1, 'z'), async () => Promise.reject(new Error('db down'))), /db down/);
    assert.equal(c.get(q(1, 'z')), undefined);
  });

  test('a load that raced an invalidation of what it read is not stored; unrelated writes do not block it', async () => {
    const c = new PersonCache({ maxEntries: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pending = c.getOrLoad(q(1, 'u'), async () => {
      await gate;
      return data('stale');
    });
    c.invalidate(1, ['u']);
    release();
    assert.equal((await pending).personProperties?.plan, 'stale');
    assert.equal(c.get(q(1, 'u')), undefined);

    let release2!: () => void;
    const gate2 = new Promise<void>((r) => (release2 = r));
    const pending2 = c.getOrLoad(q(1, 'u'), async () => {
      await gate2;
      return data('fresh');
    });
    c.invalidate(1, ['someone-else']);
    c.invalidate(2, ['u']);
    release2();
    await pending2;
    assert.equal(c.get(q(1, 'u'))?.personProperties?.plan, 'fresh');
  });

  test('a load that raced clear() is not stored; hit and miss are reported', async () => {
    const seen: string[] = [];
    const c = new PersonCache({ maxEntries: 10, onLookup: (r) => seen.push(r) });
    const ticket = c.begin();
    c.clear();
    c.set(q(1, 'u'), data('x'), ticket);
    assert.equal(c.get(q(1, 'u')), undefined);
    c.set(q(1, 'u'), data('y'));
    assert.notEqual(c.get(q(1, 'u')), undefined);
    assert.deepEqual(seen, ['miss', 'hit']);
  });
});
