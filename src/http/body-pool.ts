/**
 * @module http/body-pool
 * Memory for response bodies, cut from slabs that are used again once every body cut from them
 * has been written. At 30k responses/s of ~12 KB each, fresh memory per body meant ~360 MB/s of
 * allocation outside the JS heap, which V8 answers with full mark-compacts (one to three a second
 * per process): about a tenth of a /flags request's CPU at full load, and most of its p99
 * (BENCHMARKS.md, HTTP). Reused slabs also stay in the CPU's caches.
 *
 * A body is safe to overwrite only when the kernel has its bytes: right after `end()` when nothing
 * is left queued, else at the response's `finish` (Node emits it from the write's completion). A
 * body whose response never finishes (client gone) keeps its slab out of the pool; the slab is
 * then left to the garbage collector, never reused.
 */

/** Slab size: about twenty 12 KB bodies. */
const SLAB_BYTES = 256 * 1024;
/** Bodies larger than this get memory of their own. */
const LARGEST_CUT = SLAB_BYTES / 8;
/** Idle slabs kept for reuse; beyond this, a drained slab is dropped. */
const MAX_FREE_SLABS = 16;

/** What releaseAfterEnd needs of a node:http ServerResponse. */
export interface WrittenResponse {
  readonly writableLength: number;
  on(event: 'finish', listener: () => void): unknown;
}

class Slab {
  readonly bytes = Buffer.allocUnsafeSlow(SLAB_BYTES);
  used = 0;
  /** Bodies cut from this slab and not yet released. */
  outstanding = 0;
  /** No more bodies are cut from it; it returns to the pool when the last one is released. */
  retired = false;

  constructor(private readonly pool: BodyPool) {}

  /** Shared by every body of this slab, so releasing allocates nothing. */
  readonly release = (): void => {
    if (this.outstanding > 0 && --this.outstanding === 0 && this.retired) this.pool.recycle(this);
  };
}

/** Hands out body memory and takes it back. One pool per process is enough (see `bodyPool`). */
export class BodyPool {
  private current: Slab;
  private readonly free: Slab[] = [];
  private readonly slabOf = new WeakMap<ArrayBufferLike, Slab>();
  /** Slabs allocated so far (tests and diagnostics). */
  allocated = 0;
  /** Bodies whose memory waited for their write to complete (tests and diagnostics). */
  deferred = 0;

  constructor() {
    this.current = this.newSlab();
  }

  /**
   * `length` bytes of memory for a body, with arbitrary contents. Hand the body to
   * `releaseAfterEnd` once written; a body never released only costs its slab's reuse.
   */
  take(length: number): Buffer {
    if (length > LARGEST_CUT) return Buffer.allocUnsafeSlow(length);
    let slab = this.current;
    if (slab.used + length > SLAB_BYTES) {
      const full = slab;
      full.retired = true;
      slab = this.current = this.free.pop() ?? this.newSlab();
      if (full.outstanding === 0) this.recycle(full);
    }
    const body = slab.bytes.subarray(slab.used, slab.used + length);
    // 8-byte alignment for the next body, as Node's own pool keeps.
    slab.used = (slab.used + length + 7) & ~7;
    slab.outstanding++;
    return body;
  }

  /**
   * Call right after `res.end(body)`. When nothing is left queued, the kernel took every byte
   * during end() (the usual case on a socket with room) and the memory is free at once; otherwise
   * it is freed by the response's `finish`, which Node emits once the write has completed. Bodies
   * not cut from a slab are ignored.
   */
  releaseAfterEnd(res: WrittenResponse, body: Buffer): void {
    const slab = this.slabOf.get(body.buffer);
    if (slab === undefined) return;
    if (res.writableLength === 0) slab.release();
    else {
      this.deferred++;
      res.on('finish', slab.release);
    }
  }

  /** @internal Called by a retired slab whose last body was released. */
  recycle(slab: Slab): void {
    slab.used = 0;
    slab.outstanding = 0;
    slab.retired = false;
    if (slab !== this.current && this.free.length < MAX_FREE_SLABS) this.free.push(slab);
  }

  private newSlab(): Slab {
    const slab = new Slab(this);
    this.slabOf.set(slab.bytes.buffer, slab);
    this.allocated++;
    return slab;
  }
}

/** The process's pool for /flags bodies. */
export const bodyPool = new BodyPool();
