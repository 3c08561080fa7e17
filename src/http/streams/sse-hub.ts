/**
 * @module http/streams/sse-hub
 * The open Server-Sent Events connections of this node, by project: one place that writes
 * frames, sends heartbeats, closes readers that fall too far behind, and ends every stream on
 * shutdown. Routes (definitions-stream.ts, flags-stream.ts) decide what to send; the hub decides
 * how. A stream costs one small object and its socket: frames shared by all readers of a
 * revision are built once (as Buffers, so pending writes reference one copy).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { ProjectEntry } from '../../cache/snapshot-cache.ts';

/** One open stream. */
export interface SseClient {
  readonly projectId: number;
  readonly res: ServerResponse;
  /** When something was last written (hub clock), for heartbeats. */
  lastWriteAt: number;
  /** Called when this node starts serving a new revision of the project. */
  onChange: (entry: ProjectEntry, previous: ProjectEntry | undefined) => void;
}

/** Timing and limits of a hub. */
export interface SseHubOptions {
  /** Clock in ms (tests pass their own and call tick()). */
  now: () => number;
  /** An idle stream gets a comment after this long, ms. */
  heartbeatMs: number;
  /** A stream with more unsent bytes than this is closed; the client reconnects with Last-Event-ID. */
  maxBufferBytes: number;
  /** Run tick() on a timer; false in tests that drive the clock. Default true. */
  autoHeartbeat?: boolean;
  /** Metrics hook: a stream opened, closed (`reason`), or a frame was dropped. */
  onEvent?: (event: 'open' | 'close' | 'slow' | 'shutdown') => void;
}

const HEARTBEAT = Buffer.from(': heartbeat\n\n');
const SHUTDOWN = Buffer.from(': shutdown\n\n');

/** Formats one SSE event; `data` must not contain newlines (JSON.stringify output never does). */
export function sseFrame(event: string, data: string, id?: string | number): Buffer {
  return Buffer.from(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
}

/** Every SSE stream of this node. */
export class SseHub {
  readonly #opts: SseHubOptions;
  readonly #byProject = new Map<number, Set<SseClient>>();
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: SseHubOptions) {
    this.#opts = options;
    if (options.autoHeartbeat !== false) {
      // Checked twice per period, so an idle stream hears something within 1.5 periods at worst.
      this.#timer = setInterval(() => this.tick(), Math.max(50, Math.floor(options.heartbeatMs / 2)));
      this.#timer.unref();
    }
  }

  /** Open streams on this node. */
  get size(): number {
    return this.#size;
  }

  /**
   * Takes over the reply's socket as an event stream for `projectId` and registers it. Headers
   * already set on the reply (CORS, request id) are kept. Returns null once the hub is closed
   * (shutdown): the caller answers 503.
   */
  open(request: IncomingMessage, reply: FastifyReply, projectId: number, onChange: SseClient['onChange']): SseClient | null {
    if (this.#closed) return null;
    reply.hijack();
    const res = reply.raw;
    const headers = { ...reply.getHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };
    res.writeHead(200, headers as Record<string, string>);
    res.flushHeaders();
    // Idle streams must not be cut by the server's own timeouts; heartbeats keep proxies happy.
    request.socket.setTimeout(0);
    request.socket.setNoDelay(true);
    const client: SseClient = { projectId, res, lastWriteAt: this.#opts.now(), onChange };
    let set = this.#byProject.get(projectId);
    if (!set) this.#byProject.set(projectId, (set = new Set()));
    set.add(client);
    this.#size++;
    this.#opts.onEvent?.('open');
    res.once('close', () => this.#remove(client));
    // A client gone while it was being authorised has already closed: 'close' will not come again.
    if (res.destroyed || request.socket.destroyed) this.#remove(client);
    return client;
  }

  /**
   * Writes a frame; a reader with more than maxBufferBytes unsent is closed instead (it
   * reconnects and catches up with Last-Event-ID). Returns false when the stream is gone.
   */
  send(client: SseClient, frame: Buffer): boolean {
    const { res } = client;
    if (res.destroyed || res.writableEnded) return false;
    if (res.writableLength + frame.length > this.#opts.maxBufferBytes && res.writableLength > 0) {
      this.#opts.onEvent?.('slow');
      res.destroy();
      return false;
    }
    client.lastWriteAt = this.#opts.now();
    res.write(frame);
    return true;
  }

  /** Tells every stream of the entry's project that a new revision is served. */
  dispatch(entry: ProjectEntry, previous: ProjectEntry | undefined): void {
    const set = this.#byProject.get(entry.project.id);
    if (!set) return;
    for (const client of set) client.onChange(entry, previous);
  }

  /** Sends a heartbeat comment to every stream idle for heartbeatMs or more. */
  tick(): void {
    const due = this.#opts.now() - this.#opts.heartbeatMs;
    for (const set of this.#byProject.values()) {
      for (const client of set) if (client.lastWriteAt <= due) this.send(client, HEARTBEAT);
    }
  }

  /** Ends every stream (clients reconnect, to another node) and refuses new ones. */
  closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const set of this.#byProject.values()) {
      for (const client of set) {
        this.#opts.onEvent?.('shutdown');
        if (!client.res.destroyed) client.res.end(SHUTDOWN);
      }
    }
  }

  #remove(client: SseClient): void {
    const set = this.#byProject.get(client.projectId);
    if (!set?.delete(client)) return;
    this.#size--;
    if (set.size === 0) this.#byProject.delete(client.projectId);
    this.#opts.onEvent?.('close');
  }
}
