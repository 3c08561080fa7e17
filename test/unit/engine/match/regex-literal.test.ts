// Quantifier-free literal patterns take the native fast path; they must match exactly as the
// general engines do, and stay linear on long subjects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegex } from '../../../../src/engine/match/regex.ts';

const rows: [pattern: string, subject: string, expected: boolean][] = [
  ['\\.(io|com)$', 'vexil.io', true],
  ['\\.(io|com)$', 'vexil.io\n', false],
  ['^(Chrome|Edge)$', 'Chrome', true],
  ['^(Chrome|Edge)$', 'chrome', false],
  ['@(gmail|yahoo|outlook)\\.com$', 'a@gmail.com', true],
  ['@(gmail|yahoo|outlook)\\.com$', 'a@gmailxcom', false],
  ['(?:ab|cd)e', 'xxcde', true],
  ['a\\-b', 'a-b', true],
  ['a\\\\b', 'a\\b', true],
  ['😀|ü', 'grüße', true],
  ['^$', '', true],
  ['a|', 'zzz', true],
];

for (const [pattern, subject, expected] of rows) {
  test(`/${pattern}/ on ${JSON.stringify(subject)} is ${expected}`, () => {
    assert.equal(compileRegex(pattern)!.test(subject), expected);
  });
}

test('an invalid literal-looking pattern is still invalid', () => {
  assert.equal(compileRegex('(ab'), null);
  assert.equal(compileRegex('ab)'), null);
});

test('a literal alternation on a 1 MB subject finishes (linear: pattern × subject steps)', { timeout: 10000 }, () => {
  const re = compileRegex('(aaaaaaaaab|aaaaaaaaac|aaaaaaaaad)$')!;
  assert.equal(re.test('a'.repeat(1_000_000)), false);
});
