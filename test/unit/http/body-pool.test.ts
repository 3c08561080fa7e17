import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BodyPool, type WrittenResponse } from '../../../src/http/body-pool.ts';

/** A response whose write either completed during end() (nothing queued) or is still pending. */
function response(pending: boolean): WrittenResponse & { finish(): void } {
  const emitter = new EventEmitter();
  return {
    writableLength: pending ? 100 : 0,
    on: (event, listener) => emitter.on(event, listener),
    finish: () => emitter.emit('finish'),
  };
}

const BODY = 12_000;
/** Bodies of BODY bytes that fill one 256 KiB slab. */
const PER_SLAB = Math.floor((256 * 1024) / BODY);

function fill(body: Buffer, byte: number): Buffer {
  return body.fill(byte);
}

describe('response body pool', () => {
  test('bodies handed out together never share memory', () => {
    const pool = new BodyPool();
    const bodies = Array.from({ length: 3 * PER_SLAB }, (_, i) => fill(pool.take(BODY), i % 251));
    bodies.forEach((b, i) => assert.ok(b.every((x) => x === i % 251), `body ${i} intact`));
  });

  test('a slab is used again once each of its bodies was written, and not before', () => {
    const pool = new BodyPool();
    const first = Array.from({ length: PER_SLAB }, () => pool.take(BODY));
    const slabMemory = first[0]!.buffer;
    // Every body of the first slab but one is written at once; one still waits for its write.
    const waiting = response(true);
    first.forEach((b, i) => pool.releaseAfterEnd(i === 3 ? waiting : response(false), b));
    assert.equal(pool.deferred, 1);
    // Cycle through more slabs: none of them may reuse the first slab's memory yet.
    for (let i = 0; i < 4 * PER_SLAB; i++) {
      const b = pool.take(BODY);
      assert.notEqual(b.buffer, slabMemory, 'a slab with a body still being written is not reused');
      pool.releaseAfterEnd(response(false), b);
    }
    waiting.finish();
    // Now free: the pool hands it out again instead of allocating.
    const allocated = pool.allocated;
    let reused = false;
    for (let i = 0; i < 4 * PER_SLAB && !reused; i++) {
      const b = pool.take(BODY);
      reused = b.buffer === slabMemory;
      pool.releaseAfterEnd(response(false), b);
    }
    assert.ok(reused, 'the drained slab is used again');
    assert.equal(pool.allocated, allocated);
  });

  test('steady traffic whose writes complete at once runs on a couple of slabs', () => {
    const pool = new BodyPool();
    for (let i = 0; i < 100 * PER_SLAB; i++) pool.releaseAfterEnd(response(false), pool.take(BODY));
    assert.ok(pool.allocated <= 2, `${pool.allocated} slabs`);
  });

  test('a body never released keeps its slab out of the pool; the pool allocates instead', () => {
    const pool = new BodyPool();
    const lost = pool.take(BODY); // its client went away: no finish, no release
    for (let i = 0; i < PER_SLAB; i++) pool.releaseAfterEnd(response(false), pool.take(BODY));
    for (let i = 0; i < 10 * PER_SLAB; i++) {
      const b = pool.take(BODY);
      assert.notEqual(b.buffer, lost.buffer);
      pool.releaseAfterEnd(response(false), b);
    }
  });

  test('large bodies get their own memory, and foreign buffers are ignored', () => {
    const pool = new BodyPool();
    const large = pool.take(200_000);
    assert.equal(large.length, 200_000);
    pool.releaseAfterEnd(response(true), large);
    pool.releaseAfterEnd(response(true), Buffer.from('not from the pool'));
    assert.equal(pool.deferred, 0);
  });
});
