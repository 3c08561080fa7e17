/**
 * @module cache/fallback-change-bus
 * Two ChangeBuses as one: Redis first, PostgreSQL NOTIFY behind it. Definitions notices (rare:
 * one per admin write) always go on both, so a node whose Redis connection is down still hears
 * them within one NOTIFY; person notices (one per ingest batch) go on the second bus only while
 * the first is unhealthy. Receivers get each notice up to twice; both handlers are idempotent
 * (a revision already served is ignored, an invalidation repeated is harmless). When Redis comes
 * back, its connection re-subscribes on its own: nothing to rejoin by hand.
 */
import type { ChangeBus, ChangeNotice } from './change-bus.ts';

/** A bus that can say whether it currently delivers (RedisChangeBus). */
export interface HealthReportingBus extends ChangeBus {
  readonly healthy: boolean;
}

/** Publishes on `primary` and, when needed, on `secondary`; delivers what either receives. */
export class FallbackChangeBus implements ChangeBus {
  readonly #primary: HealthReportingBus;
  readonly #secondary: ChangeBus;

  constructor(primary: HealthReportingBus, secondary: ChangeBus) {
    this.#primary = primary;
    this.#secondary = secondary;
  }

  async publish(notice: ChangeNotice): Promise<void> {
    const both = !notice.persons || !this.#primary.healthy;
    await Promise.all([this.#primary.publish(notice), both ? this.#secondary.publish(notice) : undefined]);
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    const a = this.#primary.subscribe(handler);
    const b = this.#secondary.subscribe(handler);
    return () => {
      a();
      b();
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#secondary.close()]);
  }
}
