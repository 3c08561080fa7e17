/**
 * @module http/streams/sse-hub
 * The open Server-Sent Events connections of this node, by project: one place that writes
 * frames, sends heartbeats, closes readers that fall too far behind, and ends every stream on
 * shutdown. Routes (definitions-stream.ts, flags-stream.ts) decide what to send; the hub decides
 * how. A stream costs one small object and its socket: frames shared by all readers of a
 * revision are built once (as Buffers, so pending writes reference one copy).
 *
 * Why the hub writes to the socket itself (BENCHMARKS.md, "Streams"): a change reaches 10,000
 * streams as 10,000 writes, and through node's ServerResponse each one costs a chunk-size string,
 * a four-part writev and a cork/uncork tick; written straight to the socket it is one write of
 * the shared Buffer. The response therefore has no Transfer-Encoding and ends when the
 * connection does (`Connection: close`), which HTTP/1.1 allows and SSE clients expect.
 *
 * Fan-outs run in slices (fan-out.ts), so 10,000 writes never hold the event loop for long:
 * /flags requests on the same node are answered between slices.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { ProjectEntry } from '../../cache/snapshot-cache.ts';
import { VexilError } from '../../errors.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { FanOutQueue } from './fan-out.ts';

/** One open stream. */
export interface SseClient {
  readonly projectId: number;
  readonly socket: Socket;
  /** When something was last written (hub clock), for heartbeats. */
  lastWriteAt: number;
  /** How much earlier than heartbeatMs this stream's heartbeat is due (see `tick`). */
  readonly heartbeatSkewMs: number;
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
  /** Metrics hook: a stream opened, closed, was closed for falling behind, or ended by shutdown. */
  onEvent?: (event: 'open' | 'close' | 'slow' | 'shutdown') => void;
  /** Metrics hook: a change reached all `streams` of its project after `seconds`. */
  onFanOut?: (seconds: number, streams: number) => void;
  /** A route's change handler threw for one stream (the others are still told). */
  onError?: (err: unknown) => void;
}

const HEARTBEAT = Buffer.from(': heartbeat\n\n');
const SHUTDOWN = Buffer.from(': shutdown\n\n');
/** Spreads heartbeat skews evenly over [0, 1) whatever the number of streams (Weyl sequence). */
const GOLDEN = 0.6180339887498949;
const UNSAFE_HEADER = /[\r\n]/;

/** Formats one SSE event; `data` must not contain newlines (JSON.stringify output never does). */
export function sseFrame(event: string, data: string, id?: string | number): Buffer {
  return Buffer.from(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
}

/**
 * Counts a new stream connection against the project's bucket (opens only: the events on an
 * open stream are not requests). Over the limit ⇒ 429 with `Retry-After`, so a reconnect storm
 * is spread out rather than refused for good.
 */
export function limitStreamOpen(limiter: RateLimiter | null, projectId: number, reply: FastifyReply): void {
  if (!limiter || limiter.take(projectId)) return;
  reply.header('retry-after', String(limiter.retryAfterSeconds(projectId)));
  throw new VexilError('VXL_RATE_LIMITED');
}

/** The response head: the reply's headers (CORS, request id) and the event-stream ones. */
function responseHead(reply: FastifyReply): string {
  const headers: Record<string, unknown> = {
    ...reply.getHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'close',
    'x-accel-buffering': 'no',
    date: new Date().toUTCString(),
  };
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      // Values come from this server (node refuses CR/LF in incoming ones); never split a header.
      if (v !== undefined && !UNSAFE_HEADER.test(text)) head += `${name}: ${text}\r\n`;
    }
  }
  return `${head}\r\n`;
}

/** Every SSE stream of this node. */
export class SseHub {
  readonly #opts: SseHubOptions;
  readonly #byProject = new Map<number, Set<SseClient>>();
  readonly #queue: FanOutQueue<SseClient>;
  #size = 0;
  #opened = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: SseHubOptions) {
    this.#opts = options;
    this.#queue = new FanOutQueue<SseClient>((err) => options.onError?.(err));
    if (options.autoHeartbeat !== false) {
      // Skews spread due heartbeats over half a period; ticking every quarter period (at most
      // every second) sends each batch in small parts, and an idle stream hears something
      // within 1.25 periods at worst.
      this.#timer = setInterval(() => this.tick(), Math.max(50, Math.min(1000, Math.floor(options.heartbeatMs / 4))));
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
    const socket = request.socket;
    // Idle streams must not be cut by the server's own timeouts; heartbeats keep proxies happy.
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.write(responseHead(reply));
    const skew = ((this.#opened++ * GOLDEN) % 1) * (this.#opts.heartbeatMs / 2);
    const client: SseClient = { projectId, socket, lastWriteAt: this.#opts.now(), heartbeatSkewMs: skew, onChange };
    let set = this.#byProject.get(projectId);
    if (!set) this.#byProject.set(projectId, (set = new Set()));
    set.add(client);
    this.#size++;
    this.#opts.onEvent?.('open');
    socket.once('close', () => this.#remove(client));
    // A client gone while it was being authorised has already closed: 'close' will not come again.
    if (socket.destroyed) this.#remove(client);
    return client;
  }

  /**
   * Writes a frame; a reader with more than maxBufferBytes unsent is closed instead (it
   * reconnects and catches up with Last-Event-ID). Returns false when the stream is gone.
   */
  send(client: SseClient, frame: Buffer): boolean {
    const { socket } = client;
    if (socket.destroyed || !socket.writable) return false;
    const pending = socket.writableLength;
    if (pending > 0 && pending + frame.length > this.#opts.maxBufferBytes) {
      this.#opts.onEvent?.('slow');
      socket.destroy();
      return false;
    }
    client.lastWriteAt = this.#opts.now();
    socket.write(frame);
    return true;
  }

  /**
   * Tells every stream of the entry's project that a new revision is served, in order of
   * opening and in slices (changes before heartbeats). Resolves when every stream was told.
   */
  dispatch(entry: ProjectEntry, previous: ProjectEntry | undefined): Promise<void> {
    const set = this.#byProject.get(entry.project.id);
    if (!set || this.#closed) return Promise.resolve();
    const started = performance.now();
    const streams = set.size;
    return this.#queue.push([...set], (client) => client.onChange(entry, previous)).then(() => {
      this.#opts.onFanOut?.((performance.now() - started) / 1000, streams);
    });
  }

  /**
   * Sends a heartbeat comment to every stream idle for heartbeatMs minus its skew. The skews
   * (0 to half a period, fixed per stream) keep streams written together by one change from
   * all coming due at the same tick. Runs after pending changes, in slices.
   */
  tick(): void {
    if (this.#closed || this.#queue.background) return;
    const due = this.#opts.now() - this.#opts.heartbeatMs;
    const idle = (c: SseClient) => c.lastWriteAt <= due + c.heartbeatSkewMs;
    const clients: SseClient[] = [];
    for (const set of this.#byProject.values()) for (const c of set) if (idle(c)) clients.push(c);
    // Checked again when its turn comes: a change sent meanwhile already kept the stream alive.
    if (clients.length > 0) this.#queue.pushBackground(clients, (c) => idle(c) && this.send(c, HEARTBEAT));
  }

  /** Ends every stream (clients reconnect, to another node) and refuses new ones. */
  closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#queue.clear();
    for (const set of [...this.#byProject.values()]) {
      for (const client of set) {
        this.#opts.onEvent?.('shutdown');
        const { socket } = client;
        // The connection is the response: closing it ends the stream. A reader still behind
        // would hold the close up (and the server's) until it caught up, so it is cut instead.
        if (socket.writableLength > 0) socket.destroy();
        else if (!socket.destroyed) socket.end(SHUTDOWN, () => socket.destroy());
        this.#remove(client);
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
