/**
 * @module test/helpers/tcp-balancer
 * A small TCP load balancer for fault tests: each client connection goes to the next backend
 * round-robin and is piped byte for byte. Like a real balancer's connect retry, a backend that
 * refuses the connection (ECONNREFUSED) is skipped for the next one; nothing else is retried, so a
 * reset or a dropped request reaches the client as it happened.
 */
import { connect, createServer, type Socket } from 'node:net';
import { resetSocket } from './reset-socket.ts';

export interface TcpBalancer {
  port: number;
  /** Connections sent on to a backend, and connects retried on another backend after a refusal. */
  stats: { forwarded: number; refusedRetries: number };
  close(): Promise<void>;
}

/** Rounds over every backend this many times before giving up on a connection. */
const MAX_ROUNDS = 20;
/** Pause between rounds when every backend refused. */
const ROUND_PAUSE_MS = 100;

/** Starts a proxy on 127.0.0.1 (port 0 = any) in front of `backends` (ports on 127.0.0.1). */
export async function startTcpBalancer(backends: readonly number[], listenPort = 0): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  const stats = { forwarded: 0, refusedRetries: 0 };
  let next = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => undefined);
    const tryConnect = (attempt: number) => {
      if (client.destroyed) return;
      const port = backends[next++ % backends.length]!;
      const upstream = connect(port, '127.0.0.1');
      track(upstream);
      const onConnectError = (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && attempt + 1 < MAX_ROUNDS * backends.length) {
          stats.refusedRetries++;
          const pause = (attempt + 1) % backends.length === 0 ? ROUND_PAUSE_MS : 0;
          setTimeout(() => tryConnect(attempt + 1), pause);
        } else client.destroy();
      };
      upstream.once('error', onConnectError);
      upstream.once('connect', () => {
        stats.forwarded++;
        upstream.off('error', onConnectError);
        // After the connect, a failure on one side is passed on as is: the other side is reset.
        // A clean end travels through pipe() (end after the last byte is written).
        upstream.on('error', () => resetSocket(client));
        client.on('error', () => resetSocket(upstream));
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryConnect(0);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    stats,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
