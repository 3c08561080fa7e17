/**
 * @module cluster/cluster-change-bus
 * ChangeBus for the workers of one node without Redis (VEXIL_WORKERS > 1): a notice goes to the
 * cluster primary over IPC, which relays it to every worker, the publisher included. So a change
 * made through worker A is applied by worker B at once, as MemoryChangeBus does within one process.
 * With REDIS_URL every worker subscribes to Redis itself and this bus is not used.
 */
import type { ChangeBus, ChangeNotice } from '../cache/change-bus.ts';

/** The IPC message that carries a notice between a worker and the primary. */
export interface ChangeMessage {
  vexil: 'change';
  notice: ChangeNotice;
}

/** True for a ChangeMessage (other IPC traffic, e.g. node:cluster's own, is ignored). */
export function isChangeMessage(message: unknown): message is ChangeMessage {
  return typeof message === 'object' && message !== null && (message as { vexil?: unknown }).vexil === 'change';
}

/** A ChangeBus over the IPC channel of a node:cluster worker. */
export class ClusterChangeBus implements ChangeBus {
  readonly #handlers = new Set<(notice: ChangeNotice) => void>();
  readonly #onMessage = (message: unknown) => {
    if (!isChangeMessage(message)) return;
    for (const handler of this.#handlers) handler(message.notice);
  };

  constructor(private readonly proc: NodeJS.Process = process) {
    proc.on('message', this.#onMessage);
  }

  async publish(notice: ChangeNotice): Promise<void> {
    // Best effort like every bus: a primary that is gone (node shutting down) loses the notice,
    // and the revision poll catches up.
    if (!this.proc.connected || !this.proc.send) return;
    const message: ChangeMessage = { vexil: 'change', notice };
    this.proc.send(message, undefined, {}, () => undefined);
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Never called: the IPC channel lives as long as the worker. */
  onResumed(_handler: () => void): () => void {
    return () => undefined;
  }

  readonly subscribed = {};

  async close(): Promise<void> {
    this.#handlers.clear();
    this.proc.off('message', this.#onMessage);
  }
}
