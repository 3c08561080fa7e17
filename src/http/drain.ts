/**
 * @module http/drain
 * Graceful shutdown of the HTTP server under keep-alive load: once draining, every response
 * (in flight or arriving on a connection that is already open) carries `Connection: close`, and
 * connections are closed only when they have nothing to answer.
 *
 * Why not fastify's defaults: `forceCloseConnections: 'idle'` destroys every connection that is
 * between two requests at the instant close starts. Under keep-alive load those are busy clients
 * whose next request is already on the wire; they see ECONNRESET. And connections that were
 * answering a request at that instant finish with `Connection: keep-alive`, so the client keeps
 * using them and nothing closes them until the 72 s keep-alive timeout (past the forced exit).
 * Here a connection gets a short grace instead: a client that sends again is answered and told
 * to close; one that stays quiet is closed by the next idle sweep.
 */
import { Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Period of the idle sweep during a drain. A connection idle at a sweep is closed; a busy
 * keep-alive client sends its next request well within it and is told to close instead.
 */
export const DRAIN_IDLE_GRACE_MS = 1000;

/** What the request handlers read: one boolean, no call. */
export interface DrainState {
  /** True from the start of a shutdown; responses then carry `Connection: close`. */
  readonly draining: boolean;
}

/** Tracks a server's connections and drains them on shutdown. One per server. */
export class ConnectionDrain implements DrainState {
  draining = false;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private sweep: NodeJS.Timeout | null = null;

  /**
   * Takes over `server`'s idle-connection closing: node's `server.close()` (and fastify's close)
   * call `closeIdleConnections()` the instant they start, which resets busy keep-alive clients
   * caught between two requests. On this server that call does nothing; the drain sweeps idle
   * connections on its own schedule instead.
   */
  attach(server: Server): void {
    this.server = server;
    server.closeIdleConnections = () => undefined;
    // One Set entry per connection, none per request.
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.once('close', () => this.stopSweep());
  }

  /**
   * Begins the drain: the responses open connections are working on will close them, requests
   * arriving on them are answered with `Connection: close` (the request handler calls `mark`),
   * and connections idle at a sweep (every DRAIN_IDLE_GRACE_MS) are closed until none is left.
   * Stopping the listener is the caller's `server.close()`. Idempotent.
   */
  start(): void {
    if (this.draining) return;
    this.draining = true;
    const server = this.server;
    if (server === null) return;
    for (const socket of this.sockets) {
      // `_httpMessage` is the response a connection is answering now; node's own
      // closeIdleConnections reads it the same way.
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
    const closeIdle = () => Server.prototype.closeIdleConnections.call(server);
    this.sweep = setInterval(closeIdle, DRAIN_IDLE_GRACE_MS);
    this.sweep.unref();
  }

  /** Sets `Connection: close` on a response that starts while draining. Call before its headers. */
  mark(res: ServerResponse): void {
    if (this.draining) res.shouldKeepAlive = false;
  }

  private stopSweep(): void {
    if (this.sweep !== null) clearInterval(this.sweep);
    this.sweep = null;
  }
}
