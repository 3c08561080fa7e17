/**
 * @module cache/redis/redis-change-bus
 * ChangeBus over Redis pub/sub, so every node swaps its snapshot when any node changes a project.
 * Redis being down degrades to the snapshot cache's revision poll; it never stops serving.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseNotice, type ChangeBus, type ChangeNotice } from '../change-bus.ts';

/** Connection and channel of a RedisChangeBus. */
export interface RedisChangeBusOptions {
  url: string;
  /** Pub/sub channel; tests use their own prefix. Default `vexil:definitions`. */
  channel?: string;
  log: Logger;
  /** How long open() waits for the subscription before carrying on without it. Default 3000 ms. */
  connectTimeoutMs?: number;
  /**
   * Base of the connections' names in Redis (`CLIENT SETNAME`): `<name>:bus-pub` and
   * `<name>:bus-sub`, so an operator (or a fault test) finds them in `CLIENT LIST`. Default `vexil`.
   */
  connectionName?: string;
}

/** A ChangeBus on one Redis channel: one connection publishes, one subscribes (Redis requires two). */
export class RedisChangeBus implements ChangeBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #handlers = new Set<(notice: ChangeNotice) => void>();
  readonly #resumed = new Set<() => void>();
  /** An outage was logged and its end not yet (one line each per outage). */
  #reportedDown = false;
  /** The last publish failed (reset by the next ready): notices may not have gone out. */
  #publishFailed = false;
  /** open() has returned: any later subscriber `ready` follows a time without the subscription. */
  #opened = false;
  /** The subscriber is subscribed to the channel (from the SUBSCRIBE answer to the connection's close). */
  #listening = false;

  private constructor(options: RedisChangeBusOptions) {
    this.#channel = options.channel ?? 'vexil:definitions';
    this.#log = options.log;
    // The publisher fails fast while disconnected (no offline queue): the poll covers the gap.
    // Redis refuses names with spaces.
    const name = (options.connectionName ?? 'vexil').replace(/\s/g, '_');
    this.#pub = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false, connectionName: `${name}:bus-pub` });
    // The subscriber retries forever and re-subscribes on reconnect (ioredis autoResubscribe).
    this.#sub = new Redis(options.url, { maxRetriesPerRequest: null, connectionName: `${name}:bus-sub` });
    for (const conn of [this.#pub, this.#sub]) {
      conn.on('error', (err: Error) => this.#degraded(err));
      conn.on('ready', () => this.#recovered());
    }
    this.#sub.on('ready', () => {
      if (this.#opened) void this.#resubscribed();
    });
    this.#sub.on('close', () => {
      this.#listening = false;
    });
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const notice = parseNotice(message);
      if (notice) for (const handler of this.#handlers) handler(notice);
    });
  }

  /**
   * Connects and subscribes. Resolves even when Redis is unreachable (logged at warn), at the
   * first failed connection attempt or the deadline: the subscriber keeps retrying on its own.
   */
  static async open(options: RedisChangeBusOptions): Promise<RedisChangeBus> {
    const bus = new RedisChangeBus(options);
    const timeoutMs = options.connectTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    let failed: (() => void) | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      failed = () => resolve('timeout');
      bus.#sub.once('error', failed);
    });
    const subscribed = bus.#sub.subscribe(bus.#channel).then(
      () => {
        bus.#listening = true;
        return 'ok' as const;
      },
      () => 'error' as const,
    );
    const outcome = await Promise.race([subscribed, timeout]);
    clearTimeout(timer);
    bus.#sub.off('error', failed!);
    // One line per outage: a refused connection has already been reported by #degraded.
    if (outcome !== 'ok' && !bus.#reportedDown) {
      options.log.warn({ channel: bus.#channel }, 'redis unreachable; change notices fall back to polling');
      bus.#reportedDown = true;
    }
    bus.#opened = true;
    return bus;
  }

  /**
   * Whether both connections are up and the last publish went out. A connection cut without an
   * error (`CLIENT KILL`, a server restart) counts as down from its close to its next `ready`.
   */
  get healthy(): boolean {
    return this.#pub.status === 'ready' && this.#sub.status === 'ready' && !this.#publishFailed;
  }

  #degraded(err: Error): void {
    // One line per outage, not one per reconnect attempt.
    if (this.#reportedDown) return;
    this.#reportedDown = true;
    this.#log.warn({ err }, 'redis unreachable; change notices fall back to polling');
  }

  #recovered(): void {
    if (this.#pub.status === 'ready') this.#publishFailed = false;
    if (!this.#reportedDown || this.#pub.status !== 'ready' || this.#sub.status !== 'ready') return;
    this.#reportedDown = false;
    this.#log.info('redis reachable again');
  }

  /**
   * The subscriber is back after a time without its subscription: once it is subscribed again
   * (a SUBSCRIBE of our own, answered after ioredis' automatic one), tell the resumed handlers.
   */
  async #resubscribed(): Promise<void> {
    try {
      await this.#sub.subscribe(this.#channel);
    } catch {
      return; // cut again: the next ready tries again
    }
    this.#listening = true;
    for (const handler of this.#resumed) handler();
  }

  async publish(notice: ChangeNotice): Promise<void> {
    try {
      await this.#pub.publish(this.#channel, JSON.stringify(notice));
      this.#publishFailed = false;
    } catch (err) {
      this.#publishFailed = true;
      this.#degraded(err as Error);
    }
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  get subscribed(): { redis: boolean } {
    return { redis: this.#listening };
  }

  onResumed(handler: () => void): () => void {
    this.#resumed.add(handler);
    return () => this.#resumed.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    this.#resumed.clear();
    // quit() waits for pending replies; disconnect() is the fallback when the server is gone.
    await Promise.all(
      [this.#pub, this.#sub].map(async (conn) => {
        try {
          if (conn.status === 'ready') await conn.quit();
          else conn.disconnect();
        } catch {
          conn.disconnect();
        }
      }),
    );
  }
}
