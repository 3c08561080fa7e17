/**
 * @module metrics
 * Every metric Vexil exports, declared in one place (STYLE §9). Names carry the `vexil_` prefix and
 * base units; labels take only bounded values (route pattern, status class, outcome), never ids or tokens.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** The metric handles one app instance records into. */
export interface Metrics {
  readonly registry: Registry;
  /** HTTP requests by route pattern, method and status class (2xx…5xx). */
  readonly httpRequests: Counter<'route' | 'method' | 'status_class'>;
  /** HTTP request duration in seconds, by route pattern. */
  readonly httpDuration: RouteHistogram;
  /** Flag decisions returned by /flags, by outcome (enabled, disabled, failed). */
  readonly flagEvaluations: Counter<'outcome'>;
  /** /flags requests by how they were answered: from the request only, or after a store lookup. */
  readonly flagRequests: Counter<'source'>;
  /** Per-request store lookups by result (ok, error, timeout). */
  readonly storeLookups: Counter<'result'>;
  /** Snapshot rebuilds by result (ok, error). */
  readonly snapshotRebuilds: Counter<'result'>;
  /** Projects with a compiled snapshot in memory. */
  readonly snapshotsCached: Gauge;
  /** Events received on the capture endpoints, by kind (person, identify, alias, merge, group, other, invalid). */
  readonly captureEvents: Counter<'kind'>;
  /** Person-cache lookups on /flags by result (hit, miss). */
  readonly personCacheLookups: Counter<'result'>;
  /** SSE stream events (open, close, slow = closed for falling behind, shutdown). */
  readonly streamEvents: Counter<'event'>;
  /** Time from a node serving a new revision until every stream of the project was written to, seconds. */
  readonly streamFanOutSeconds: Histogram;
  /**
   * A bound counter child for hot paths: increments add to a plain number, handed to prom-client
   * when the registry is read (a child's own `inc` hashes its label set on every call).
   */
  pending(child: { inc(value: number): void }): PendingCount;
}

/** An increment-only count that reaches its prom-client counter at the next scrape. */
export class PendingCount {
  n = 0;
  inc(value = 1): void {
    this.n += value;
  }
}

/**
 * Creates a fresh registry with every metric registered. One registry per app instance, so
 * several apps in one process (tests) do not collide on names.
 */
export function createMetrics(options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): Metrics {
  const registry = new Registry();
  // Added when /metrics is rendered (e.g. `worker` under VEXIL_WORKERS), not on each count.
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'vexil_' });
  const registers = [registry];
  // Every counter's collect hands over every pending count: whichever metric the registry reads
  // first, each one's own counts are in before its values are read.
  const pendings: Array<{ count: PendingCount; child: { inc(value: number): void } }> = [];
  const collect = () => {
    for (const p of pendings) {
      if (p.count.n !== 0) {
        p.child.inc(p.count.n);
        p.count.n = 0;
      }
    }
  };
  return {
    registry,
    pending(child) {
      const count = new PendingCount();
      pendings.push({ count, child });
      return count;
    },
    httpRequests: new Counter({
      name: 'vexil_http_requests_total',
      help: 'HTTP requests by route pattern, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      registers,
      collect,
    }),
    httpDuration: new RouteHistogram(
      registry,
      'vexil_http_request_duration_seconds',
      'HTTP request duration in seconds, by route pattern.',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    flagEvaluations: new Counter({
      name: 'vexil_flag_evaluations_total',
      help: 'Flag decisions returned by /flags, by outcome.',
      labelNames: ['outcome'],
      registers,
      collect,
    }),
    flagRequests: new Counter({
      name: 'vexil_flags_requests_total',
      help: '/flags requests by data source: request only, or request plus a store lookup.',
      labelNames: ['source'],
      registers,
      collect,
    }),
    storeLookups: new Counter({
      name: 'vexil_store_lookups_total',
      help: 'Per-request store lookups (persons, groups, overrides) by result.',
      labelNames: ['result'],
      registers,
      collect,
    }),
    snapshotRebuilds: new Counter({
      name: 'vexil_snapshot_rebuilds_total',
      help: 'Compiled flag snapshot rebuilds by result.',
      labelNames: ['result'],
      registers,
      collect,
    }),
    snapshotsCached: new Gauge({
      name: 'vexil_snapshots_cached',
      help: 'Projects with a compiled snapshot in memory.',
      registers,
    }),
    captureEvents: new Counter({
      name: 'vexil_capture_events_total',
      help: 'Events received on the capture endpoints, by kind; only person and group changes are stored.',
      labelNames: ['kind'],
      registers,
      collect,
    }),
    personCacheLookups: new Counter({
      name: 'vexil_person_cache_lookups_total',
      help: 'In-process person cache lookups by result (hit, miss).',
      labelNames: ['result'],
      registers,
      collect,
    }),
    streamEvents: new Counter({
      name: 'vexil_stream_events_total',
      help: 'SSE streams opened and closed, by event (open, close, slow, shutdown); open minus close is the number open.',
      labelNames: ['event'],
      registers,
    }),
    streamFanOutSeconds: new Histogram({
      name: 'vexil_stream_fanout_seconds',
      help: 'Time from this node serving a new revision until all of the project’s SSE streams were written to.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}

/** One line of a metric's exposition, in the shape prom-client's registry formats. */
interface ExposedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** One route's series of a RouteHistogram: counts per bucket (the last is +Inf), sum and count. */
export class RouteSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A histogram labelled by route whose `observe` is an array increment, exposed as prom-client's
 * Histogram exposes one (`_bucket` with `le` first, cumulative, then `_sum` and `_count`). It
 * replaces prom-client's Histogram on the request path, where each of its `observe` calls
 * converted, validated and hashed the label set (1.4–2.2 % of a /flags request's CPU,
 * BENCHMARKS.md, HTTP).
 */
export class RouteHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, RouteSeries>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    // The registry reads a metric through get() only; it is typed for prom-client's own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of `route`, to keep and observe into. */
  series(route: string): RouteSeries {
    let s = this.#series.get(route);
    if (s === undefined) this.#series.set(route, (s = new RouteSeries(this.bounds)));
    return s;
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    for (const [route, s] of this.#series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, route }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', route }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { route }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { route }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
