/**
 * @module bench/http/measured
 * One measured run of the HTTP benchmark (wrk's figures plus the server's CPU per request), and
 * how slices of one case add up.
 */
import type { WrkResult } from './wrk.ts';

/** A wrk result plus the CPU the server (and its PostgreSQL backends) spent per request. */
export interface Measured extends WrkResult {
  /** CPU µs per request of the server's processes (cluster primary and workers). */
  serverCpuUs: number;
  /** CPU µs per request of the PostgreSQL backends serving the server's database. */
  dbCpuUs: number;
  /** Fixed-rate runs: the rate asked for, req/s. */
  rate?: number;
}

/**
 * Slices of one case as one measurement: counts and durations add up (req/s over the whole
 * time), CPU per request is weighted by requests, latency percentiles are the slices' mean.
 */
export function combine(slices: Measured[]): Measured {
  const sum = (f: (m: Measured) => number) => slices.reduce((a, m) => a + f(m), 0);
  const mean = (f: (m: Measured) => number) => sum(f) / slices.length;
  const requests = sum((m) => m.requests);
  const durationS = sum((m) => m.durationS);
  const perRequest = (f: (m: Measured) => number) => sum((m) => f(m) * m.requests) / Math.max(1, requests);
  return {
    requests,
    durationS,
    rps: requests / durationS,
    p50Ms: mean((m) => m.p50Ms),
    p90Ms: mean((m) => m.p90Ms),
    p99Ms: mean((m) => m.p99Ms),
    p999Ms: mean((m) => m.p999Ms),
    maxMs: Math.max(...slices.map((m) => m.maxMs)),
    meanMs: perRequest((m) => m.meanMs),
    non2xx: sum((m) => m.non2xx),
    socketErrors: sum((m) => m.socketErrors),
    late: sum((m) => m.late),
    serverCpuUs: perRequest((m) => m.serverCpuUs),
    dbCpuUs: perRequest((m) => m.dbCpuUs),
  };
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
