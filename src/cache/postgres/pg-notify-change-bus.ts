/**
 * @module cache/postgres/pg-notify-change-bus
 * ChangeBus over PostgreSQL LISTEN/NOTIFY, for deployments without Redis and as the path notices
 * take while Redis is down. One dedicated connection (LISTEN needs a session, so not the pool)
 * both listens and notifies; it reconnects with back-off, and a notice sent while it is down is
 * dropped (the revision poll is the safety net).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { parseNotice, type ChangeBus, type ChangeNotice } from '../change-bus.ts';

/** Connection and channel of a PgNotifyChangeBus. */
export interface PgNotifyChangeBusOptions {
  url: string;
  /** NOTIFY channel (an SQL identifier: letters, digits, `_`). Default `vexil_definitions`. */
  channel?: string;
  log: Logger;
  /** Connect deadline, ms. Default 3000. */
  connectTimeoutMs?: number;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/** A notice that fits a NOTIFY payload: a long person list becomes "every person" (safe, coarser). */
export function notifyPayload(notice: ChangeNotice): string {
  const text = JSON.stringify(notice);
  if (Buffer.byteLength(text) < MAX_PAYLOAD_BYTES) return text;
  return JSON.stringify({ projectId: notice.projectId, revision: notice.revision, ...(notice.persons ? { persons: { all: true } } : {}) });
}

/** A ChangeBus on one PostgreSQL NOTIFY channel. */
export class PgNotifyChangeBus implements ChangeBus {
  readonly #opts: PgNotifyChangeBusOptions;
  readonly #channel: string;
  readonly #handlers = new Set<(notice: ChangeNotice) => void>();
  readonly #resumed = new Set<() => void>();
  #client: pg.Client | null = null;
  #closed = false;
  #backoffMs = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | null = null;
  #healthy = true;

  private constructor(options: PgNotifyChangeBusOptions) {
    this.#opts = options;
    this.#channel = options.channel ?? 'vexil_definitions';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#channel)) throw new Error(`bad NOTIFY channel ${this.#channel}`);
  }

  /** Connects and listens. Resolves even when PostgreSQL is unreachable (it keeps retrying). */
  static async open(options: PgNotifyChangeBusOptions): Promise<PgNotifyChangeBus> {
    const bus = new PgNotifyChangeBus(options);
    await bus.#connect();
    return bus;
  }

  /** Whether the listening connection is up. */
  get healthy(): boolean {
    return this.#client !== null;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#opts.url, connectionTimeoutMillis: this.#opts.connectTimeoutMs ?? 3000 });
    client.on('error', (err: Error) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (msg: pg.Notification) => {
      if (msg.channel !== this.#channel || msg.payload === undefined) return;
      const notice = parseNotice(msg.payload);
      if (notice) for (const handler of this.#handlers) handler(notice);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
      this.#lost(null, err as Error);
      return;
    }
    if (this.#closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#backoffMs = RECONNECT_MIN_MS;
    const wasLost = !this.#healthy;
    this.#healthy = true;
    if (wasLost) {
      this.#opts.log.info('postgres change notices listening again');
      // Notices sent while the connection was down never reached this node.
      for (const handler of this.#resumed) handler();
    }
  }

  #lost(client: pg.Client | null, err: Error): void {
    if (client !== null && client !== this.#client) return;
    this.#client = null;
    if (client) void client.end().catch(() => undefined);
    if (this.#closed || this.#timer) return;
    if (this.#healthy) this.#opts.log.warn({ err }, 'postgres change notices lost; reconnecting (revision poll covers the gap)');
    this.#healthy = false;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, RECONNECT_MAX_MS);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }

  async publish(notice: ChangeNotice): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      await client.query('SELECT pg_notify($1, $2)', [this.#channel, notifyPayload(notice)]);
    } catch (err) {
      this.#lost(client, err as Error);
    }
  }

  subscribe(handler: (notice: ChangeNotice) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  get subscribed(): { postgres: boolean } {
    return { postgres: this.#client !== null };
  }

  onResumed(handler: () => void): () => void {
    this.#resumed.add(handler);
    return () => this.#resumed.delete(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
    this.#resumed.clear();
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    if (client) await client.end().catch(() => undefined);
  }
}
