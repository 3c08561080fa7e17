/**
 * @module test/helpers/keep-alive-load
 * Bounded keep-alive HTTP load for fault tests: a fixed number of workers, each sending one
 * request after another over a keep-alive agent, until stopped or a count or time cap is hit.
 * Every outcome is recorded; nothing is retried.
 */
import { Agent, request } from 'node:http';

/** One request a worker sends. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Non-2xx statuses and transport errors, by status or error code. */
  failures: Map<string, number>;
  /** Responses that carried `Connection: close`. */
  closeResponses: number;
}

export interface LoadRun {
  result: LoadResult;
  /** Resolves once `sent` reaches at least n (or the run ends). */
  reached(n: number): Promise<void>;
  /** Stops sending and resolves when every worker's last request has finished. */
  stop(): Promise<LoadResult>;
}

/** Starts `workers` keep-alive workers against 127.0.0.1:port; at most `maxRequests`, at most `maxMs`. */
export function startKeepAliveLoad(options: {
  port: number;
  workers: number;
  next: (i: number) => LoadRequest;
  maxRequests: number;
  maxMs: number;
}): LoadRun {
  const agent = new Agent({ keepAlive: true, maxSockets: options.workers });
  const result: LoadResult = { sent: 0, ok: 0, failures: new Map(), closeResponses: 0 };
  const endAt = Date.now() + options.maxMs;
  let stopped = false;
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const notify = () => {
    waiters = waiters.filter((w) => {
      if (result.sent >= w.n || stopped) w.resolve();
      return !(result.sent >= w.n || stopped);
    });
  };
  const fail = (key: string) => result.failures.set(key, (result.failures.get(key) ?? 0) + 1);
  const once = (r: LoadRequest) =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: options.port, agent, method: r.method, path: r.path, headers: { 'content-type': 'application/json', ...r.headers } },
        (res) => {
          if (res.headers.connection === 'close') result.closeResponses++;
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== undefined && res.statusCode < 300) result.ok++;
            else fail(String(res.statusCode));
            resolve();
          });
          res.on('error', (err: NodeJS.ErrnoException) => {
            fail(err.code ?? err.message);
            resolve();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
      req.end(r.body);
    });
  const worker = async () => {
    while (!stopped && result.sent < options.maxRequests && Date.now() < endAt) {
      const n = result.sent++;
      await once(options.next(n));
      notify();
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, worker)).then(() => {
    stopped = true;
    notify();
    agent.destroy();
  });
  return {
    result,
    reached: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        notify();
      }),
    stop: async () => {
      stopped = true;
      await done;
      return result;
    },
  };
}
