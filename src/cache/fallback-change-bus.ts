/**
 * @module cache/fallback-change-bus
 * Two ChangeBuses as one: Redis first, PostgreSQL NOTIFY behind it. Definitions notices (rare:
 * one per admin write) always go on both, so a node whose Redis connection is down still hears
 * them within one NOTIFY; person notices (one per ingest batch) go on the second bus only while
 * the first is unhealthy. Receivers get each notice up to twice; both handlers are idempotent
 * (a revision already served is ignored, an invalidation repeated is harmless). When Redis comes
 * back, its connection re-subscribes on its own: nothing to rejoin by hand. A person notice whose
 * Redis publish fails (a connection cut mid-way) goes on NOTIFY too; a node whose own subscription
 * was cut hears `onResumed` once it is back, since notices sent meanwhile did not reach it.
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
    if (!notice.persons) {
      await Promise.all([this.#primary.publish(notice), this.#secondary.publish(notice)]);
      return;
    }
    if (this.#primary.healthy) {
      await this.#primary.publish(notice);
      // Still healthy after the publish: it went out. Otherwise (the connection was cut meanwhile)
      // it may not have, and NOTIFY carries it too.
      if (this.#primary.healthy) return;
    }
    await this.#secondary.publish(notice);
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    const a = this.#primary.subscribe(handler);
    const b = this.#secondary.subscribe(handler);
    return () => {
      a();
      b();
    };
  }

  get subscribed(): Readonly<Record<string, boolean>> {
    return { ...this.#primary.subscribed, ...this.#secondary.subscribed };
  }

  onResumed(handler: () => void): () => void {
    const a = this.#primary.onResumed(handler);
    const b = this.#secondary.onResumed(handler);
    return () => {
      a();
      b();
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#secondary.close()]);
  }
}
