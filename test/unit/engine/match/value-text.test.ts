/**
 * @module test/unit/engine/match/value-text
 * `str`, `num`, Rust f64 parsing, ASCII lowercasing and Rust trimming (spec §5 definitions).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asciiLower, num, parseRustF64, rustTrim, str } from '../../../../src/engine/match/value-text.ts';

describe('str: a string is itself, anything else compact JSON (spec §5)', () => {
  const rows: [unknown, string][] = [
    ['abc', 'abc'], [42, '42'], [4.5, '4.5'], [true, 'true'], [false, 'false'], [null, 'null'], [undefined, 'null'],
    [[1, 'a'], '[1,"a"]'], [{ a: [true, null] }, '{"a":[true,null]}'], ['', ''], ['line\nbreak', 'line\nbreak'], [['q"'], '["q\\""]'],
  ];
  for (const [input, expected] of rows) test(`${JSON.stringify(input) ?? 'undefined'} → ${JSON.stringify(expected)}`, () => assert.equal(str(input), expected));
});

describe('parseRustF64 follows Rust f64::from_str', () => {
  const rows: [string, number | null][] = [
    ['1', 1], ['-2.5', -2.5], ['+5', 5], ['1e3', 1000], ['1E-2', 0.01], ['.5', 0.5], ['5.', 5], ['0x10', null], ['1_000', null],
    ['inf', Infinity], ['+Infinity', Infinity], ['-INF', -Infinity], ['infinit', null], ['', null], [' 1', null], ['1 ', null],
    ['.', null], ['e5', null], ['1e', null], ['1e+', null], ['--1', null], ['1e400', Infinity], ['1,5', null], ['١', null],
  ];
  for (const [input, expected] of rows) test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(parseRustF64(input), expected));
  for (const input of ['nan', 'NaN', '-nan', '+NAN']) test(`${JSON.stringify(input)} → NaN`, () => assert.ok(Number.isNaN(parseRustF64(input))));
});

describe('num: numbers as-is, strings parsed, other types are not numbers', () => {
  const rows: [unknown, number | null][] = [[3, 3], ['3', 3], [true, null], [null, null], [[3], null], [{}, null], ['abc', null]];
  for (const [input, expected] of rows) test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(num(input), expected));
});

describe('asciiLower lowercases A–Z only', () => {
  const rows: [string, string][] = [['ABC', 'abc'], ['abc', 'abc'], ['ÉCOLE', 'École'], ['İSTANBUL', 'İstanbul'], ['ΣΑ', 'ΣΑ'], ['MiXeD 123', 'mixed 123'], ['', '']];
  for (const [input, expected] of rows) test(`${input} → ${expected}`, () => assert.equal(asciiLower(input), expected));
});

describe('rustTrim trims Unicode White_Space, not U+FEFF', () => {
  const rows: [string, string][] = [[' a ', 'a'], ['\u0085a\u0085', 'a'], ['\u3000a\t\n', 'a'], ['\ufeffa', '\ufeffa']];
  for (const [input, expected] of rows) test(JSON.stringify(input), () => assert.equal(rustTrim(input), expected));
});
