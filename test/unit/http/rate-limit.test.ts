// Token buckets with a pinned clock: burst, refill, Retry-After, and the bounded key table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../src/http/rate-limit.ts';

test('bursts to the bucket size, then refills at the rate; Retry-After says when', () => {
  let now = 0;
  const limiter = new RateLimiter<string>(1 / 6, () => now, { burst: 3 }); // 10 per minute
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('k')), [true, true, true, false]);
  assert.equal(limiter.retryAfterSeconds('k'), 6);
  now = 4_000;
  assert.equal(limiter.retryAfterSeconds('k'), 2);
  assert.equal(limiter.take('k'), false);
  now = 6_000;
  assert.equal(limiter.take('k'), true);
  assert.equal(limiter.take('other'), true, 'keys have their own buckets');
});

test('a full table drops refilled buckets first, and lets a new key through untracked when none is', () => {
  let now = 0;
  const limiter = new RateLimiter<string>(1, () => now, { burst: 1, maxEntries: 2 });
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('b'), true);
  assert.equal(limiter.take('c'), true, 'no room and nothing refilled: untracked, not refused');
  assert.equal(limiter.take('a'), false, 'a is still limited');
  now = 1_000;
  assert.equal(limiter.take('c'), true, 'refilled buckets were dropped to make room for c');
  assert.equal(limiter.take('c'), false, 'c is tracked now');
});

test('the default burst is one second of the rate (the /flags limiter)', () => {
  const limiter = new RateLimiter(2, () => 0);
  assert.deepEqual([1, 2, 3].map(() => limiter.take(7)), [true, true, false]);
});
