/**
 * @module cache/memory/memory-change-bus
 * In-process ChangeBus for a single node (no REDIS_URL): publish calls the subscribers directly.
 */
import type { ChangeBus, ChangeNotice } from '../change-bus.ts';

/** A ChangeBus whose subscribers all live in this process. */
export class MemoryChangeBus implements ChangeBus {
  readonly #handlers = new Set<(notice: ChangeNotice) => void>();

  async publish(notice: ChangeNotice): Promise<void> {
    // Delivered on a later tick so a publisher never re-enters its own subscriber synchronously,
    // the same ordering Redis gives.
    await Promise.resolve();
    for (const handler of this.#handlers) handler(notice);
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Never called: in-process delivery cannot be cut off. */
  onResumed(_handler: () => void): () => void {
    return () => undefined;
  }

  readonly subscribed = {};

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
