/**
 * @module http/hot-metrics
 * The counters /flags touches on every request, as pending counts (see Metrics.pending): a plain
 * addition per request, handed to prom-client when /metrics is read.
 */
import type { Metrics, PendingCount } from '../metrics.ts';

/** Bound counters used on every /flags request. */
export interface HotCounters {
  enabled: PendingCount;
  disabled: PendingCount;
  failed: PendingCount;
  /** /flags answered from the request alone. */
  fromRequest: PendingCount;
  /** /flags that needed a store lookup. */
  fromStore: PendingCount;
  /** Store lookups that answered. */
  lookupOk: PendingCount;
}

const memo = new WeakMap<Metrics, HotCounters>();

/** The bound counters of a metrics registry, created once per registry. */
export function hotCounters(metrics: Metrics): HotCounters {
  let hot = memo.get(metrics);
  if (!hot) {
    hot = {
      enabled: metrics.pending(metrics.flagEvaluations.labels({ outcome: 'enabled' })),
      disabled: metrics.pending(metrics.flagEvaluations.labels({ outcome: 'disabled' })),
      failed: metrics.pending(metrics.flagEvaluations.labels({ outcome: 'failed' })),
      fromRequest: metrics.pending(metrics.flagRequests.labels({ source: 'request' })),
      fromStore: metrics.pending(metrics.flagRequests.labels({ source: 'store' })),
      lookupOk: metrics.pending(metrics.storeLookups.labels({ result: 'ok' })),
    };
    memo.set(metrics, hot);
  }
  return hot;
}
