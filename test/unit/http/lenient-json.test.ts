// parseLenientJson: short texts are parsed first and depth-checked after; long ones are scanned
// first. Both paths must give the same outcome for the same document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLenientJson } from '../../../src/http/decode/lenient-json.ts';

const LIMITS = { maxDepth: 64, maxProperties: 100 };
/** The same document padded with spaces past the short-text threshold (4 × maxProperties). */
const long = (text: string) => text + ' '.repeat(4 * LIMITS.maxProperties);

function nested(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

test('depth: 64 levels pass and 65 fail, for objects and arrays, short and long texts alike', () => {
  const objects = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);
  for (const make of [objects, (d: number) => nested(d, '[', ']')]) {
    for (const text of [make(64), long(make(64))]) assert.equal(parseLenientJson(text, LIMITS).ok, true);
    for (const text of [make(65), long(make(65))]) assert.deepEqual(parseLenientJson(text, LIMITS), { ok: false, reason: 'depth', limit: 64 });
  }
});

test('a very deep valid document fails on depth without overflowing the stack', () => {
  // 38,000 characters: under the short-text threshold, so JSON.parse sees it first.
  const text = nested(19_000, '[', ']');
  assert.deepEqual(parseLenientJson(text, { maxDepth: 64, maxProperties: 10_000 }), { ok: false, reason: 'depth', limit: 64 });
});

test('bare NaN and Infinity become null; syntax errors stay syntax errors; on both paths', () => {
  for (const wrap of [(t: string) => t, long]) {
    assert.deepEqual(parseLenientJson(wrap('{"a":NaN,"b":[-Infinity],"c":"NaN"}'), LIMITS), { ok: true, value: { a: null, b: [null], c: 'NaN' } });
    assert.deepEqual(parseLenientJson(wrap('{"a": '), LIMITS), { ok: false, reason: 'syntax' });
  }
});

test('the member cap applies to texts long enough to exceed it', () => {
  const members = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
  assert.equal(parseLenientJson(members(100), LIMITS).ok, true);
  assert.deepEqual(parseLenientJson(members(101), LIMITS), { ok: false, reason: 'properties', limit: 100 });
});

test('__proto__ is an ordinary key of the parsed value', () => {
  const r = parseLenientJson('{"__proto__":{"polluted":true}}', LIMITS);
  assert.equal(r.ok, true);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys((r as { value: object }).value), ['__proto__']);
});
