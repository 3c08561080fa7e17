// The error catalogue is data: each key is its own code, each status a valid HTTP error status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { codes, VexilError, isVexilError, type ErrorCode } from '../../src/errors.ts';

test('every code is VXL_ + SCREAMING_SNAKE with a valid 4xx/5xx status and a message', () => {
  for (const [code, entry] of Object.entries(codes)) {
    assert.match(code, /^VXL_[A-Z0-9]+(_[A-Z0-9]+)*$/, code);
    assert.ok(entry.status >= 400 && entry.status <= 599, `${code} status ${entry.status}`);
    assert.ok(STATUS_CODES[entry.status], `${code}: ${entry.status} is a known HTTP status`);
    assert.ok(entry.message.length > 0, `${code} has a message`);
  }
});

test('VexilError carries code, status, catalogue message and attr', () => {
  const err = new VexilError('VXL_TOKEN_MISSING');
  assert.equal(err.code, 'VXL_TOKEN_MISSING');
  assert.equal(err.status, 401);
  assert.equal(err.message, codes.VXL_TOKEN_MISSING.message);
  assert.equal(err.attr, null);
  assert.ok(isVexilError(err));
  assert.ok(!isVexilError(new Error('x')));
  const custom = new VexilError('VXL_VALIDATION' as ErrorCode, { message: 'key is bad', attr: 'key', cause: new Error('c') });
  assert.equal(custom.message, 'key is bad');
  assert.equal(custom.attr, 'key');
  assert.ok(custom.cause instanceof Error);
});

test('the /flags sentences are PostHog\'s exact words (spec §1.4)', () => {
  assert.equal(codes.VXL_TOKEN_MISSING.message, 'No API token provided. Please include a valid API token in your request.');
  assert.equal(codes.VXL_TOKEN_INVALID.message, 'The provided API key is invalid or has expired. Please check your API key and try again.');
  assert.equal(codes.VXL_DISTINCT_ID_MISSING.message, 'The distinct_id field is missing from the request. Please include a valid identifier.');
});
