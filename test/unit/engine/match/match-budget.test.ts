// The per-evaluation matching budget (issue 13 §5): oversized property text fails the flags
// that would scan it, unscanned, and the work one evaluation pays for stays bounded.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSnapshot, DEFAULT_MATCH_BUDGET, evaluateFlags } from '../../../../src/engine/index.ts';
import type { EvaluationContext, FlagDef, PropertyFilterDef } from '../../../../src/engine/index.ts';
import { FlagFailure } from '../../../../src/engine/flag-failure.ts';
import {
  beginMatchBudget,
  endMatchBudget,
  lastMatchBudgetSpent,
  remainingMatchBudget,
  SCAN_WEIGHT,
  spendMatchBudget,
} from '../../../../src/engine/match/match-budget.ts';
import { compileRegexOperator, compileIcontains } from '../../../../src/engine/match/string.ts';
import { compileRegex } from '../../../../src/engine/match/regex.ts';

const MB = 1_000_000;

let nextId = 1;
function flag(key: string, properties: PropertyFilterDef[], rollout = 100): FlagDef {
  return { id: nextId++, key, active: true, filters: { groups: [{ properties, rollout_percentage: rollout }] } };
}
const person = (key: string, operator: string, value: unknown): PropertyFilterDef => ({ key, operator, value, type: 'person' });

function context(props: Record<string, unknown>, matchBudget?: number): EvaluationContext {
  return { distinctId: 'u1', personProperties: props, groups: {}, groupProperties: {}, storedDataLoaded: true, now: 0, matchBudget };
}

/** The abusive case of the issue: four regex flags (re2js, backtracker, literal, negated) and bystanders. */
const snapshot = compileSnapshot({
  flags: [
    flag('rx-re2', [person('email', 'regex', '(?i)^[a-z]+@example\\.com$')]),
    flag('rx-lookahead', [person('email', 'regex', '^(?=.*@)(?!.*test).*$')]),
    flag('rx-literal', [person('email', 'regex', '\\.(io|com)$')]),
    flag('rx-not', [person('email', 'not_regex', 'chrom[e]')]),
    flag('plan-pro', [person('plan', 'exact', 'pro')]),
    flag('ua-chrome', [person('ua', 'icontains', 'chrome')]),
    flag('half', [], 50),
  ],
  cohorts: [],
  groupTypeMapping: {},
});

function byKey(result: ReturnType<typeof evaluateFlags>) {
  return new Map(result.flags.map((f) => [f.key, f]));
}

describe('matching budget', () => {
  test('a 1 MB property fails the flags that would scan it; other flags answer as usual', () => {
    const big = 'a'.repeat(MB);
    const result = evaluateFlags(snapshot, context({ email: big, plan: 'pro', ua: 'Mozilla Chrome/120' }));
    const flags = byKey(result);
    assert.equal(result.errors, true);
    for (const key of ['rx-re2', 'rx-lookahead', 'rx-not']) {
      const f = flags.get(key)!;
      assert.equal(f.failed, true, key);
      assert.equal(f.enabled, false, key);
      assert.equal(f.reason, 'match_budget_exceeded', key);
      assert.match(f.description, /budget/);
    }
    // Built-in RegExp on a literal pattern pays 1 per character: a megabyte fits the default.
    assert.equal(flags.get('rx-literal')!.failed, false);
    assert.equal(flags.get('plan-pro')!.enabled, true);
    assert.equal(flags.get('ua-chrome')!.enabled, true);
    assert.equal(flags.get('half')!.failed, false);
  });

  test('the oversized value is never scanned: the evaluation pays only for what it matched', () => {
    const big = 'b'.repeat(MB);
    const ua = 'Mozilla Chrome/120';
    evaluateFlags(snapshot, context({ email: big, plan: 'pro', ua }));
    // rx-literal scans the megabyte at weight 1, ua-chrome scans `ua`; the three weighted
    // searches (16 units × 1 MB each) were refused before they started, and took nothing.
    assert.equal(lastMatchBudgetSpent(), MB + ua.length);
    assert.ok(lastMatchBudgetSpent() <= DEFAULT_MATCH_BUDGET);
  });

  test('however many oversized values a request sends, one evaluation pays at most the budget', () => {
    const props: Record<string, unknown> = {};
    const flags: FlagDef[] = [];
    for (let i = 0; i < 40; i++) {
      props[`p${i}`] = 'x'.repeat(200_000);
      flags.push(flag(`f${i}`, [person(`p${i}`, i % 2 === 0 ? 'icontains' : 'regex', i % 2 === 0 ? 'needle' : '\\d{4}-\\d{2}')]));
    }
    const snap = compileSnapshot({ flags, cohorts: [], groupTypeMapping: {} });
    const result = evaluateFlags(snap, context(props));
    assert.ok(lastMatchBudgetSpent() <= DEFAULT_MATCH_BUDGET);
    const failed = result.flags.filter((f) => f.failed).length;
    // 1 Mi pays for five 200 000-character icontains scans; every regex (16 units per character) is refused.
    assert.equal(failed, 35);
    assert.ok(result.flags.filter((f) => !f.failed).every((f) => f.key.startsWith('f') && Number(f.key.slice(1)) % 2 === 0));
  });

  test('short values match normally, and their cost is their length', () => {
    const result = evaluateFlags(snapshot, context({ email: 'ann@example.com', plan: 'free', ua: 'Firefox' }));
    const flags = byKey(result);
    assert.equal(result.errors, false);
    assert.equal(flags.get('rx-re2')!.enabled, true);
    assert.equal(flags.get('rx-lookahead')!.enabled, true);
    assert.equal(flags.get('rx-literal')!.enabled, true);
    assert.equal(flags.get('rx-not')!.enabled, true);
    assert.equal(flags.get('ua-chrome')!.enabled, false);
    assert.equal(lastMatchBudgetSpent(), 15 * SCAN_WEIGHT * 3 + 15 + 7);
  });

  test('a value that exactly fits the budget is matched; one character more fails the flag', () => {
    const snap = compileSnapshot({ flags: [flag('rx', [person('email', 'regex', '(?i)z$')])], cohorts: [], groupTypeMapping: {} });
    const fits = evaluateFlags(snap, context({ email: 'a'.repeat(99) + 'Z' }, 100 * SCAN_WEIGHT));
    assert.equal(fits.flags[0]!.enabled, true);
    const over = evaluateFlags(snap, context({ email: 'a'.repeat(100) + 'Z' }, 100 * SCAN_WEIGHT));
    assert.equal(over.flags[0]!.reason, 'match_budget_exceeded');
    assert.equal(over.errors, true);
  });

  test('an unlimited budget (Infinity) matches oversized values', () => {
    const result = evaluateFlags(snapshot, context({ email: 'c'.repeat(200_000) + '@example.com', plan: 'pro', ua: 'x' }, Infinity));
    assert.equal(result.errors, false);
    assert.equal(byKey(result).get('rx-re2')!.enabled, true);
    assert.equal(lastMatchBudgetSpent(), 0);
  });

  test('a person filter inside a cohort fails the flag that reaches it', () => {
    const snap = compileSnapshot({
      flags: [{ id: 90, key: 'in-cohort', active: true, filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: 7 }] }] } }],
      cohorts: [{ id: 7, is_static: false, filters: { properties: { type: 'AND', values: [{ type: 'AND', values: [person('email', 'regex', '@corp\\.[a-z]+$')] }] } } }],
      groupTypeMapping: {},
    });
    const result = evaluateFlags(snap, context({ email: 'd'.repeat(MB) }));
    assert.equal(result.flags[0]!.failed, true);
    assert.equal(result.flags[0]!.reason, 'match_budget_exceeded');
  });

  test('non-string values pay for their JSON text', () => {
    const snap = compileSnapshot({ flags: [flag('obj', [person('blob', 'icontains', 'k')])], cohorts: [], groupTypeMapping: {} });
    const blob = { k: 'v'.repeat(100) };
    evaluateFlags(snap, context({ blob }));
    assert.equal(lastMatchBudgetSpent(), JSON.stringify(blob).length);
    assert.equal(evaluateFlags(snap, context({ blob }, 50)).flags[0]!.reason, 'match_budget_exceeded');
  });
});

describe('exact on oversized values', () => {
  const snap = compileSnapshot({
    flags: [
      flag('one', [person('email', 'exact', 'ann@example.com')]),
      flag('few', [person('email', 'exact', ['ann@example.com', 'bob@example.com'])]),
      flag('many', [person('email', 'exact', Array.from({ length: 20 }, (_, i) => `u${i}@example.com`))]),
      flag('not-one', [person('email', 'is_not', 'ann@example.com')]),
      flag('not-many', [person('email', 'is_not', Array.from({ length: 20 }, (_, i) => `u${i}@example.com`))]),
    ],
    cohorts: [],
    groupTypeMapping: {},
  });

  test('a value longer than every target is decided without lowercasing, and never fails', () => {
    const result = evaluateFlags(snap, context({ email: 'ANN@EXAMPLE.COM' + 'x'.repeat(MB) }));
    const flags = byKey(result);
    assert.equal(result.errors, false);
    assert.deepEqual([...flags.values()].map((f) => [f.key, f.enabled]), [['one', false], ['few', false], ['many', false], ['not-one', true], ['not-many', true]]);
    assert.equal(lastMatchBudgetSpent(), 0);
  });

  test('values within the targets\' length still compare case-insensitively', () => {
    const flags = byKey(evaluateFlags(snap, context({ email: 'ANN@Example.com' })));
    assert.equal(flags.get('one')!.enabled, true);
    assert.equal(flags.get('few')!.enabled, true);
    assert.equal(flags.get('not-one')!.enabled, false);
    assert.equal(byKey(evaluateFlags(snap, context({ email: 'U7@EXAMPLE.COM' }))).get('many')!.enabled, true);
  });
});

describe('match-budget module', () => {
  test('is unlimited outside an evaluation, so operators called directly never fail', () => {
    assert.equal(remainingMatchBudget(), Infinity);
    assert.equal(compileIcontains('x', false)('y'.repeat(MB) + 'x', 0), true);
    assert.equal(compileRegexOperator('(?i)X$', false)('y'.repeat(100_000) + 'x', 0), true);
  });

  test('refuses a charge that does not fit and takes nothing for it', () => {
    beginMatchBudget(10);
    try {
      spendMatchBudget(4);
      assert.throws(() => spendMatchBudget(7), (err: unknown) => err instanceof FlagFailure && err.code === 'match_budget_exceeded');
      assert.equal(remainingMatchBudget(), 6);
      spendMatchBudget(6);
      assert.equal(remainingMatchBudget(), 0);
    } finally {
      endMatchBudget();
    }
    assert.equal(lastMatchBudgetSpent(), 10);
    assert.equal(remainingMatchBudget(), Infinity);
  });

  test('literal-only patterns run on the built-in RegExp and weigh 1; others weigh SCAN_WEIGHT', () => {
    assert.equal(compileRegex('\\.(io|com)$')!.weight, 1);
    assert.equal(compileRegex('^[a-z]+$')!.weight, SCAN_WEIGHT);
    assert.equal(compileRegex('a(?=b)')!.weight, SCAN_WEIGHT);
  });
});
