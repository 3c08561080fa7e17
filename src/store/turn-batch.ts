/**
 * @module store/turn-batch
 * Calls made while the event loop works through one batch of ready sockets, run as one batch
 * right after it (setImmediate runs after the poll phase). For the /flags lookup this turns one
 * round trip per request into one per batch of requests: PostgreSQL then pays its per-statement
 * cost and its wake-up once per batch instead of once per person (BENCHMARKS.md, HTTP case 3).
 * A call waits for no other request: only for the end of the turn it was made in.
 */

interface Pending<Q, R> {
  query: Q;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Wraps `runBatch` (answers in query order, one per query) as a single-query function. Batches
 * hold at most `maxBatch` queries; a failed batch rejects each of its queries with its error.
 */
export function batchPerTurn<Q, R>(runBatch: (queries: Q[]) => Promise<R[]>, maxBatch: number): (query: Q) => Promise<R> {
  let pending: Pending<Q, R>[] = [];
  const run = (batch: Pending<Q, R>[]) => {
    let results: Promise<R[]>;
    try {
      results = runBatch(batch.map((p) => p.query));
    } catch (err) {
      results = Promise.reject(err);
    }
    results.then(
      (rs) => {
        if (rs.length !== batch.length) throw new Error(`batch answered ${rs.length} results for ${batch.length} queries`);
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(rs[i]!);
      },
    ).catch((err: unknown) => {
      for (const p of batch) p.reject(err);
    });
  };
  const flush = () => {
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += maxBatch) run(all.slice(i, i + maxBatch));
  };
  return (query) =>
    new Promise<R>((resolve, reject) => {
      if (pending.push({ query, resolve, reject }) === 1) setImmediate(flush);
    });
}
