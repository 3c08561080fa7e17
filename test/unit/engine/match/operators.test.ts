/**
 * @module test/unit/engine/match/operators
 * The `compileOperator` contract (spec §5 table): which operators exist, the "not present"
 * column for every operator, null filter values, and that nothing throws.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileOperator } from '../../../../src/engine/match/operators.ts';

const NOW = Date.parse('2020-01-01T12:01:20.134Z');

/** Every value operator with a valid filter value, and its spec §5 "not present" answer. */
const NOT_PRESENT: [operator: string, value: unknown, whenMissing: boolean][] = [
  ['exact', 'a', false],
  ['is_not', 'a', true],
  ['icontains', 'a', false],
  ['not_icontains', 'a', true],
  ['icontains_multi', ['a'], false],
  ['not_icontains_multi', ['a'], true],
  ['starts_with', 'a', false],
  ['not_starts_with', 'a', true],
  ['ends_with', 'a', false],
  ['not_ends_with', 'a', true],
  ['regex', 'a', false],
  ['not_regex', 'a', true],
  ['gt', 1, false],
  ['gte', 1, false],
  ['lt', 1, false],
  ['lte', 1, false],
  ['between', [1, 2], false],
  ['not_between', [1, 2], true],
  ['semver_eq', '1.0.0', false],
  ['semver_neq', '1.0.0', false],
  ['semver_gt', '1.0.0', false],
  ['semver_gte', '1.0.0', false],
  ['semver_lt', '1.0.0', false],
  ['semver_lte', '1.0.0', false],
  ['semver_tilde', '1.0.0', false],
  ['semver_caret', '1.0.0', false],
  ['semver_wildcard', '1.*', false],
  ['is_date_before', '2020-01-01', false],
  ['is_date_after', '2020-01-01', false],
  ['is_date_exact', '2020-01-01', false],
];

/** Property values of every JSON type, plus awkward ones. */
const ODD_VALUES: unknown[] = [
  null, true, false, 0, -0, 1.5, -1e308, 1e21, '', ' ', 'null', 'NaN', 'inf', '1e3', '💥', 'İ', '\u0085', 'a'.repeat(10_000),
  [], [null], [[[]]], {}, { a: { b: [1, 'x'] } }, JSON.parse('{"__proto__": "x", "constructor": 1}'), undefined,
];

describe('operator names', () => {
  test('an absent or null operator means exact', () => {
    assert.equal(compileOperator(null, 'A', 'UTC')?.test('a', NOW), true);
    assert.equal(compileOperator(undefined, 'A', 'UTC')?.test('a', NOW), true);
  });
  for (const name of ['in', 'not_in', 'flag_evaluates_to', 'contains', 'is_date', 'EXACT', '', 'exact ', '__proto__', 'constructor', 'toString']) {
    test(`"${name}" is rejected`, () => {
      assert.equal(compileOperator(name, 'a', 'UTC'), null);
      assert.equal(compileOperator(name, null, 'UTC'), null);
    });
  }
});

describe('is_set / is_not_set ignore the value', () => {
  for (const value of [null, undefined, 'x', ['a'], 0]) {
    test(`is_set with value ${JSON.stringify(value)}`, () => {
      const op = compileOperator('is_set', value, 'UTC');
      assert.ok(op);
      assert.equal(op.whenMissing, false);
      for (const p of ODD_VALUES) assert.equal(op.test(p, NOW), true);
    });
    test(`is_not_set with value ${JSON.stringify(value)}`, () => {
      const op = compileOperator('is_not_set', value, 'UTC');
      assert.ok(op);
      assert.equal(op.whenMissing, true);
      for (const p of ODD_VALUES) assert.equal(op.test(p, NOW), false);
    });
  }
});

describe('missing properties (spec §5 "not present" column)', () => {
  for (const [operator, value, expected] of NOT_PRESENT) {
    test(`${operator} with a missing property is ${expected}`, () => {
      assert.equal(compileOperator(operator, value, 'UTC')?.whenMissing, expected);
    });
  }
});

describe('a null or absent filter value never matches, present or missing, negative operators included', () => {
  for (const [operator] of NOT_PRESENT) {
    for (const value of [null, undefined]) {
      test(`${operator} with value ${String(value)}`, () => {
        const op = compileOperator(operator, value, 'UTC');
        assert.ok(op, 'a known operator compiles even without a value');
        assert.equal(op.whenMissing, false);
        for (const p of ODD_VALUES) assert.equal(op.test(p, NOW), false);
      });
    }
  }
});

describe('never throws', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const filterValues: unknown[] = [...ODD_VALUES, cyclic, '(', '[', '*', '1.*.3', '-7d', '99999999999999999999d', 'x'.repeat(5000)];
  for (const [operator] of NOT_PRESENT) {
    test(operator, () => {
      for (const value of filterValues) {
        for (const timezone of ['UTC', 'America/Los_Angeles', 'not/a-zone', '']) {
          const op = compileOperator(operator, value, timezone);
          assert.ok(op);
          assert.equal(typeof op.whenMissing, 'boolean');
          for (const p of [...ODD_VALUES, cyclic]) assert.equal(typeof op.test(p, NOW), 'boolean');
        }
      }
    });
  }
});

describe('values that depend on now', () => {
  test('a relative date is recomputed when now changes', () => {
    const op = compileOperator('is_date_before', '-7d', 'America/Los_Angeles');
    assert.ok(op);
    const property = '2024-06-01T00:00:00Z';
    assert.equal(op.test(property, Date.parse('2024-06-05T00:00:00Z')), false);
    assert.equal(op.test(property, Date.parse('2024-06-10T00:00:00Z')), true);
    assert.equal(op.test(property, Date.parse('2024-06-05T00:00:00Z')), false);
  });
  test('a dateparser date without a time takes the time of day from now', () => {
    const op = compileOperator('is_date_exact', 'May 25, 2021', 'UTC');
    assert.ok(op);
    assert.equal(op.test('2021-05-25T08:00:00Z', Date.parse('2030-01-01T08:00:00Z')), true);
    assert.equal(op.test('2021-05-25T08:00:00Z', Date.parse('2030-01-01T09:00:00Z')), false);
  });
  test('a fixed date does not depend on now', () => {
    const op = compileOperator('is_date_after', '2024-01-01', 'UTC');
    assert.ok(op);
    for (const now of [0, NOW, Date.parse('2100-01-01T00:00:00Z')]) assert.equal(op.test('2024-06-01', now), true);
  });
});

describe('property names are ordinary values here', () => {
  test('an object with __proto__ and constructor keys compares through its JSON text', () => {
    const value = JSON.parse('{"__proto__": "x", "constructor": 1}');
    assert.equal(compileOperator('exact', '{"__proto__":"x","constructor":1}', 'UTC')?.test(value, NOW), true);
    assert.equal(compileOperator('icontains', '__PROTO__', 'UTC')?.test(value, NOW), true);
  });
});
