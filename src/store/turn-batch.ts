/**
 * @module store/turn-batch
 * Calls made while the event loop works through one batch of ready sockets, run as one batch
 * right after it (setImmediate runs after the poll phase). For the /flags lookup this turns one
 * round trip per request into one per batch of requests: PostgreSQL then pays its per-statement
 * cost and its wake-up once per batch instead of once per person (BENCHMARKS.md, HTTP case 3).
 *
 * At most `maxInFlight` batches run at once; calls made meanwhile wait and go together in the
 * next batch. Under load batches grow instead of the number of busy database backends, which on
 * a machine shared with the database would take CPU from the server itself.
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
}

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
  const settle = (batch: Pending<Q, R>[], results: R[]) => {
    if (results.length !== batch.length) throw new Error(`batch answered ${results.length} results for ${batch.length} queries`);
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
  };
  const run = (batch: Pending<Q, R>[]) => {
    inFlight++;
    let results: Promise<R[]>;
    try {
      results = runBatch(batch.map((p) => p.query));
    } catch (err) {
      results = Promise.reject(err);
    }
    results
      .then((rs) => settle(batch, rs))
      .catch((err: unknown) => {
        for (const p of batch) p.reject(err);
      })
      .finally(() => {
        inFlight--;
        if (pending.length > 0) schedule();
      });
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
      pending.push({ query, resolve, reject });
      if (inFlight < options.maxInFlight) schedule();
    });
}
