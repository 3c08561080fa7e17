/**
 * @module store/turn-batch
 * Calls made while the event loop works through one batch of ready sockets, run as one batch
 * right after it (setImmediate runs after the poll phase). For the /flags lookup this turns one
 * round trip per request into one per batch of requests: PostgreSQL then pays its per-statement
 * cost and its wake-up once per batch instead of once per person (BENCHMARKS.md, HTTP case 3).
 *
 * At most `maxInFlight` batches run at once; calls made meanwhile wait and go together in the
 * next batch. Under load batches grow instead of the number of busy database backends, which on
 * a machine shared with the database would take CPU from the server itself. A batch that does not
 * answer in time fails and frees its place, and the number of waiting calls is capped, so a hung
 * database costs failed lookups, never unbounded memory.
 */

interface Pending<Q, R> {
  query: Q;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export interface TurnBatchOptions {
  /** Most queries in one batch. */
  maxBatch: number;
  /** Most batches running at once. */
  maxInFlight: number;
  /**
   * A batch not settled after this long fails its queries and frees its place (a late answer is
   * dropped), so a hung connection cannot hold every later query back.
   */
  batchTimeoutMs: number;
  /** Most queries waiting for a place; beyond it a query fails at once instead of queueing. */
  maxPending: number;
}

/** A query failed by the batcher itself: too many waiting, or its batch timed out. */
export class TurnBatchError extends Error {}

/**
 * Wraps `runBatch` (answers in query order, one per query) as a single-query function. A failed
 * batch rejects each of its queries with its error.
 */
export function batchPerTurn<Q, R>(runBatch: (queries: Q[]) => Promise<R[]>, options: TurnBatchOptions): (query: Q) => Promise<R> {
  let pending: Pending<Q, R>[] = [];
  let inFlight = 0;
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const run = (batch: Pending<Q, R>[]) => {
    inFlight++;
    let done = false;
    // Settles the batch once (answers, failure or timeout, whichever comes first) and frees its place.
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settle();
      inFlight--;
      if (pending.length > 0) schedule();
    };
    const fail = (err: unknown) =>
      finish(() => {
        for (const p of batch) p.reject(err);
      });
    const answer = (results: R[]) => {
      if (results.length !== batch.length) {
        fail(new Error(`batch answered ${results.length} results for ${batch.length} queries`));
        return;
      }
      finish(() => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
      });
    };
    const timer = setTimeout(() => fail(new TurnBatchError(`batch not answered within ${options.batchTimeoutMs} ms`)), options.batchTimeoutMs);
    timer.unref(); // a batch in flight must not keep a stopping process alive
    try {
      runBatch(batch.map((p) => p.query)).then(answer, fail);
    } catch (err) {
      fail(err);
    }
  };
  function flush(): void {
    scheduled = false;
    while (pending.length > 0 && inFlight < options.maxInFlight) {
      const batch = pending.length <= options.maxBatch ? pending : pending.slice(0, options.maxBatch);
      pending = batch === pending ? [] : pending.slice(options.maxBatch);
      run(batch);
    }
  }
  return (query) =>
    new Promise<R>((resolve, reject) => {
      if (pending.length >= options.maxPending) {
        reject(new TurnBatchError(`${pending.length} queries already waiting`));
        return;
      }
      pending.push({ query, resolve, reject });
      if (inFlight < options.maxInFlight) schedule();
    });
}
