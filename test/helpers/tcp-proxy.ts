/**
 * @module test/helpers/tcp-proxy
 * A TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL, Redis) that a test switches
 * between the faults an operator meets: forwarding, refusing (nothing listens), and a black hole
 * (connections are accepted, or stay open, but no byte goes through either way: what a silent
 * packet drop looks like to the client). Loopback only.
 */
import net from 'node:net';
import { resetSocket } from './reset-socket.ts';

/** What the proxy does with connections. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

/** A running proxy; `port` stays the same across stop/start. */
export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections accepted so far (forwarded or black-holed). */
  readonly accepted: number;
  /** Listens again and forwards new connections. Open black-holed connections stay silent. */
  forward(): Promise<void>;
  /** Closes the listener and resets every open connection: new connects are refused at once. */
  refuse(): Promise<void>;
  /** Keeps listening, but no byte goes through, on new connections and on the open ones. */
  blackhole(): void;
  /** Local ports of the proxy's open connections to the target (how the target sees its clients, e.g. in Redis CLIENT LIST). */
  upstreamPorts(): number[];
  /** Resets every open connection (the server side sees the client vanish), mode unchanged. */
  resetConnections(): void;
  /** Stops everything for good. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

/** Starts a proxy to `target` on a free loopback port, forwarding. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let accepted = 0;
  const pairs = new Set<Pair>();

  const silence = (p: Pair): void => {
    p.client.unpipe();
    p.upstream?.unpipe();
    p.client.removeAllListeners('data');
    p.client.on('data', () => {}); // read and drop: the sender sees no error, just no answer
    p.upstream?.removeAllListeners('data');
    p.upstream?.on('data', () => {});
  };
  // Called again by the 'error'/'close' each reset causes: resetSocket skips destroyed sockets.
  const drop = (p: Pair): void => {
    pairs.delete(p);
    resetSocket(p.client);
    resetSocket(p.upstream);
  };

  const onConnection = (client: net.Socket): void => {
    accepted++;
    const pair: Pair = { client, upstream: null };
    pairs.add(pair);
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'blackhole') {
      silence(pair);
      return;
    }
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  };

  let server: net.Server | null = null;
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as net.AddressInfo).port);
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
    });

  const port = await listen(0);
  return {
    port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    async forward() {
      mode = 'forward';
      if (!server) await listen(port);
    },
    async refuse() {
      mode = 'refuse';
      const closed = stopListening();
      for (const p of [...pairs]) drop(p);
      await closed;
    },
    blackhole() {
      mode = 'blackhole';
      for (const p of pairs) silence(p);
    },
    upstreamPorts() {
      return [...pairs].flatMap((p) => (p.upstream?.localPort === undefined ? [] : [p.upstream.localPort]));
    },
    resetConnections() {
      for (const p of [...pairs]) drop(p);
    },
    async close() {
      mode = 'refuse';
      const closed = stopListening();
      for (const p of [...pairs]) drop(p);
      await closed;
    },
  };
}
