/**
 * @module http/hot-metrics
 * Pre-bound label children of the counters /flags touches on every request: prom-client hashes
 * a label object on each `inc({…})`, a bound child does not.
 */
import type { Metrics } from '../metrics.ts';

interface Inc {
  inc(value?: number): void;
}

/** Bound counters used on every /flags request. */
export interface HotCounters {
  enabled: Inc;
  disabled: Inc;
  failed: Inc;
  /** /flags answered from the request alone. */
  fromRequest: Inc;
  /** /flags that needed a store lookup. */
  fromStore: Inc;
}

const memo = new WeakMap<Metrics, HotCounters>();

/** The bound counters of a metrics registry, created once per registry. */
export function hotCounters(metrics: Metrics): HotCounters {
  let hot = memo.get(metrics);
  if (!hot) {
    hot = {
      enabled: metrics.flagEvaluations.labels({ outcome: 'enabled' }),
      disabled: metrics.flagEvaluations.labels({ outcome: 'disabled' }),
      failed: metrics.flagEvaluations.labels({ outcome: 'failed' }),
      fromRequest: metrics.flagRequests.labels({ source: 'request' }),
      fromStore: metrics.flagRequests.labels({ source: 'store' }),
    };
    memo.set(metrics, hot);
  }
  return hot;
}
