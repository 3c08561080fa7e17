/**
 * @module test/unit/engine/match/regex
 * User regexes (spec §5.3): fancy_regex syntax and semantics, invalid patterns, and bounded
 * cost on catastrophic patterns. Each row is `{ pattern, subject, expected }`; `expected: null`
 * means "step budget exceeded", and a row with `pattern` only and `expected: 'invalid'` means
 * `compileRegex` rejects the pattern.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileRegex } from '../../../../src/engine/match/regex.ts';

interface Row {
  pattern: string;
  subject: string;
  expected: boolean | null;
  /** Shown instead of the subject in the test name (long subjects). */
  label?: string;
}

const rows: Record<string, Row[]> = {
  'plain patterns search anywhere': [
    { pattern: 'abc', subject: 'xxabcxx', expected: true },
    { pattern: 'abc', subject: 'ab', expected: false },
    { pattern: '', subject: '', expected: true },
    { pattern: 'a.c', subject: 'a\nc', expected: false },
    { pattern: '(?s)a.c', subject: 'a\nc', expected: true },
    { pattern: 'a\\.c', subject: 'abc', expected: false },
    { pattern: 'gmail|yahoo', subject: 'me@yahoo.com', expected: true },
    { pattern: '(?x) a b  c # spaces and comments are ignored', subject: 'abc', expected: true },
    { pattern: 'a{', subject: 'a{', expected: true }, // fancy_regex: a `{` that starts no repetition is literal
    { pattern: 'x{,2}y', subject: 'xxy', expected: true },
    { pattern: 'colou?r', subject: 'color', expected: true },
  ],
  'anchors (Rust: `$` is end of text unless (?m))': [
    { pattern: '^abc$', subject: 'abc', expected: true },
    { pattern: '^abc$', subject: 'abc\n', expected: false },
    { pattern: '^abc$', subject: 'xabc', expected: false },
    { pattern: '(?m)^b$', subject: 'a\nb\nc', expected: true },
    { pattern: '\\Aabc\\z', subject: 'abc', expected: true },
    { pattern: 'abc\\Z', subject: 'abc\n', expected: true },
    { pattern: '^$', subject: '', expected: true },
  ],
  'classes are Unicode-aware like Rust': [
    { pattern: '^[a-c]+$', subject: 'abcab', expected: true },
    { pattern: '[^0-9]', subject: '123', expected: false },
    { pattern: '^[[:digit:]]+$', subject: '42', expected: true },
    { pattern: '^[a-z&&[^aeiou]]+$', subject: 'xyz', expected: true },
    { pattern: '^[a-z&&[^aeiou]]+$', subject: 'xya', expected: false },
    { pattern: '^[\\w--\\d]+$', subject: 'abc1', expected: false },
    { pattern: '^\\d+$', subject: '١٢٣', expected: true },
    { pattern: '^\\w+$', subject: 'héllo_wörld', expected: true },
    { pattern: '\\s', subject: 'a\u00a0b', expected: true },
    { pattern: '^\\p{Greek}+$', subject: 'αβγ', expected: true },
    { pattern: '\\p{sc=Cyrillic}', subject: 'Привет', expected: true },
    { pattern: '^\\P{L}+$', subject: '12-34', expected: true },
    { pattern: '^\\pL+$', subject: 'abc', expected: true },
    { pattern: '^[\\W\\d]+$', subject: '1-2', expected: true },
    { pattern: '^[\\W_]+$', subject: '_-_', expected: true },
    { pattern: '^[\\p{L}&&\\p{Greek}]+$', subject: 'αβ', expected: true },
    { pattern: '^[\\p{L}&&\\p{Greek}]+$', subject: 'ab', expected: false },
    { pattern: '^\\p{ID_Start}', subject: '1a', expected: false },
  ],
  '(?i) uses simple case folding': [
    { pattern: '(?i)hello', subject: 'HeLLo', expected: true },
    { pattern: '(?i)straße', subject: 'STRAẞE', expected: true },
    { pattern: '(?i)σ', subject: 'ς', expected: true },
    { pattern: '(?i)k', subject: '\u212a', expected: true },
    { pattern: '(?i:a)b', subject: 'AB', expected: false },
    { pattern: 'a(?i)b', subject: 'aB', expected: true },
    { pattern: '(?i)[^a]', subject: 'A', expected: false },
  ],
  'look-ahead and look-behind': [
    { pattern: 'foo(?=bar)', subject: 'foobar', expected: true },
    { pattern: 'foo(?=bar)', subject: 'foobaz', expected: false },
    { pattern: 'foo(?!bar)', subject: 'foobaz', expected: true },
    { pattern: 'foo(?!bar)', subject: 'foobar', expected: false },
    { pattern: '^(?!.*admin).*@corp\\.com$', subject: 'bob@corp.com', expected: true },
    { pattern: '^(?!.*admin).*@corp\\.com$', subject: 'admin@corp.com', expected: false },
    { pattern: '^(?=.*\\d)(?=.*[a-z]).{8,}$', subject: 'abcdefg1', expected: true },
    { pattern: '^(?=.*\\d)(?=.*[a-z]).{8,}$', subject: 'abcdefgh', expected: false },
    { pattern: '(?<=@)corp\\.com$', subject: 'a@corp.com', expected: true },
    { pattern: '(?<!test)@corp', subject: 'test@corp', expected: false },
    { pattern: '(?<=\\d{3})px', subject: '100px', expected: true },
    { pattern: '(?<=^|,)b(?=,|$)', subject: 'a,b,c', expected: true },
    { pattern: '(?<=(a|bc))d\\1', subject: 'bcdbc', expected: true },
  ],
  'backreferences': [
    { pattern: '(\\w+) \\1', subject: 'hello hello', expected: true },
    { pattern: '(\\w+) \\1', subject: 'hello world', expected: false },
    { pattern: '<(\\w+)>.*</\\1>', subject: '<b>x</b>', expected: true },
    { pattern: '<(\\w+)>.*</\\1>', subject: '<b>x</i>', expected: false },
    { pattern: '(?i)(a)\\1', subject: 'aA', expected: true },
    { pattern: '(?:(a)|b)\\1', subject: 'b', expected: false }, // an unset group never matches
  ],
  'named groups': [
    { pattern: '(?P<y>\\d{4})-(?P=y)', subject: '2024-2024', expected: true },
    { pattern: '(?P<y>\\d{4})-(?P=y)', subject: '2024-2025', expected: false },
    { pattern: '(?<word>\\w+)\\s\\k<word>', subject: 'la la', expected: true },
    { pattern: '^(?P<user>[a-z]+)@', subject: 'bob@x', expected: true },
  ],
  'atomic groups and possessive quantifiers': [
    { pattern: '(?>a+)b', subject: 'aaab', expected: true },
    { pattern: '(?>a+)ab', subject: 'aaab', expected: false },
    { pattern: '^a(?>bc|b)c$', subject: 'abcc', expected: true },
    { pattern: '^a(?>bc|b)c$', subject: 'abc', expected: false },
    { pattern: 'a++b', subject: 'aab', expected: true },
    { pattern: 'a*+a', subject: 'aaa', expected: false },
  ],
  'Unicode and emoji subjects': [
    { pattern: '^.$', subject: '😀', expected: true },
    { pattern: '^..$', subject: '😀', expected: false },
    { pattern: '^😀+$', subject: '😀😀', expected: true },
    { pattern: '^\\x{1F600}$', subject: '😀', expected: true },
    { pattern: '^[😀-😂]$', subject: '😁', expected: true },
    { pattern: '(?<=😀)a', subject: '😀a', expected: true },
    { pattern: '(.)\\1', subject: '😀😀', expected: true },
    { pattern: '\\bcafé\\b', subject: 'un café noir', expected: true },
    { pattern: '\\bcaf\\b', subject: 'café', expected: false }, // é is a word character in Rust
    { pattern: '\\bcaf\\b', subject: 'caf!', expected: true },
    { pattern: '\\w', subject: '😀', expected: false },
  ],
};

const invalid: string[] = [
  '(', ')', '[a-', 'a{2,1}', '*a', 'a**', '\\q', '\\', '(?<n>a)(?<n>b)', '(a)\\2', '\\k<nope>', '(?z)', '[z-a]',
  '\\p{NotAProperty}', '(?-u)\\w', '\\x{D800}', '\\x{110000}', '(?P>n)', '(?(1)a|b)', '\\0',
];

const long = 'a'.repeat(50_000) + '!';
/** Catastrophic in a backtracking engine. Every row must finish (the 10 s timeout would catch a hang). */
const catastrophic: Row[] = [
  { pattern: '(a+)+$', subject: long, label: "'a'×50000+'!'", expected: false },
  { pattern: '(a|aa)+$', subject: long, label: "'a'×50000+'!'", expected: false },
  { pattern: '(x+x+)+y', subject: 'x'.repeat(50_000), label: "'x'×50000", expected: false },
  { pattern: '^(([a-z])+.)+[A-Z]([a-z])+$', subject: long, label: "'a'×50000+'!'", expected: false },
  { pattern: '(.*a){20}$', subject: long, label: "'a'×50000+'!'", expected: false },
  // Backreferences force the backtracker; it gives up at its budget.
  { pattern: '^(a|a)+\\1b', subject: 'a'.repeat(30), label: "'a'×30", expected: null },
  { pattern: '^(a|a)+\\1b', subject: long, label: "'a'×50000+'!'", expected: null },
  { pattern: '(a+)+\\1$', subject: long, label: "'a'×50000+'!'", expected: null },
  { pattern: '(.*)\\1x', subject: 'ab'.repeat(25_000), label: "'ab'×25000", expected: null },
  { pattern: '(?=a)(a|a)+(?!a)\\b!?b', subject: 'a'.repeat(40), label: "'a'×40", expected: null },
  // fancy_regex counts each start position given up as a backtrack, so long subjects exhaust it.
  { pattern: '(?=b)b', subject: 'a'.repeat(9_000) + 'b', label: "'a'×9000+'b'", expected: true },
  { pattern: '(?=b)b', subject: 'a'.repeat(11_000) + 'b', label: "'a'×11000+'b'", expected: null },
  // Backtracking-free parts of a fancy pattern run on re2js, as fancy_regex runs them on the regex crate.
  { pattern: '^(?!.*admin)(a+)+b', subject: long, label: "'a'×50000+'!'", expected: false },
  { pattern: '(\\w)\\1x|(a+)+$', subject: 'a'.repeat(3_000) + '!', label: "'a'×3000+'!'", expected: false },
  // Unicode \b needs the backtracker on this subject; its work budget grows with the subject.
  { pattern: '\\bfoo\\b', subject: 'é'.repeat(100_000) + ' foo', label: "'é'×100000+' foo'", expected: true },
  { pattern: '\\bfoo\\b', subject: 'é'.repeat(100_000) + 'foo', label: "'é'×100000+'foo'", expected: false },
];

const name = (row: Row): string => `${JSON.stringify(row.pattern)} on ${row.label ?? JSON.stringify(row.subject)}`;

for (const [group, groupRows] of Object.entries(rows)) {
  describe(group, () => {
    for (const row of groupRows) {
      test(`${name(row)} is ${row.expected}`, () => {
        const re = compileRegex(row.pattern);
        assert.ok(re !== null, 'pattern should compile');
        assert.equal(re.test(row.subject), row.expected);
      });
    }
  });
}

describe('invalid patterns compile to null', () => {
  for (const pattern of invalid) {
    test(JSON.stringify(pattern), () => assert.equal(compileRegex(pattern), null));
  }
});

describe('catastrophic patterns finish with false or null', () => {
  for (const row of catastrophic) {
    test(`${name(row)} is ${row.expected}`, { timeout: 10_000 }, () => {
      const re = compileRegex(row.pattern);
      assert.ok(re !== null, 'pattern should compile');
      assert.equal(re.test(row.subject), row.expected);
    });
  }
});

describe('a compiled pattern is reusable', () => {
  test('one compiled object answers many subjects, before and after a budget overrun', { timeout: 10_000 }, () => {
    const re = compileRegex('^(a|a)+\\1b|(\\w+)@\\2')!;
    assert.equal(re.test('x@x'), true);
    assert.equal(re.test('a'.repeat(30)), null);
    assert.equal(re.test('x@y'), false);
    assert.equal(re.test('ab@ab'), true);
  });

  test('test never throws, even on lone surrogates', () => {
    for (const pattern of ['.', '(.)\\1', '\\bx', '(?<=\\uD800)x', '[^a]']) {
      const re = compileRegex(pattern);
      assert.doesNotThrow(() => re?.test('\ud800x\udc00'));
    }
  });
});
