/**
 * @module bench/http/tail-probe
 * Where a server's latency tail comes from, over time. Loaded into each Vexil worker with
 * `BENCH_VEXIL_NODE_FLAGS=--import=…/dist/bench/http/tail-probe.js` and `BENCH_TAIL_DIR=dir`, it
 * keeps, per 100 ms window of wall time: requests finished and their server-side latency (the
 * `request` event → the response's `finish`), the part of it spent between `writeHead` and
 * `end` (the response outbox of http/flags-fast-path.ts), event-loop delay, and GC pauses. At
 * exit it writes `dir/tail-PID.json`; bench/http/tail-summary.ts lines the windows up with the
 * benchmark's slices. Diagnostics only: it adds a few timer reads per request.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';

/** One window of the timeline. */
export interface TailWindow {
  /** Window start, epoch ms. */
  t: number;
  requests: number;
  /** Server-side latency of the window's requests, µs, sorted ascending (kept whole: a few hundred per window). */
  latUs: number[];
  /** Per request, unsorted: [latency µs, of which after writeHead µs, of which after end µs (the write)]. */
  split: [number, number, number][];
  /** Longest writeHead → end wait (outbox), µs. */
  outboxMaxUs: number;
  /** Sum of writeHead → end waits, µs. */
  outboxSumUs: number;
  /** Longest event-loop delay seen in the window, ms (1 ms resolution). */
  eldMaxMs: number;
  /** GC pauses in the window: count, total ms, longest ms, and the longest one's kind. */
  gcCount: number;
  gcMs: number;
  gcMaxMs: number;
  gcMaxKind: string;
}

const WINDOW_MS = 100;
const dir = process.env.BENCH_TAIL_DIR;
if (dir) {
  const windows = new Map<number, TailWindow>();
  const windowAt = (epochMs: number): TailWindow => {
    const t = epochMs - (epochMs % WINDOW_MS);
    let w = windows.get(t);
    if (w === undefined) {
      w = { t, requests: 0, latUs: [], split: [], outboxMaxUs: 0, outboxSumUs: 0, eldMaxMs: 0, gcCount: 0, gcMs: 0, gcMaxMs: 0, gcMaxKind: '' };
      windows.set(t, w);
    }
    return w;
  };
  const origin = performance.timeOrigin;
  const START = Symbol('tailStart');
  const HEAD = Symbol('tailHead');
  const END = Symbol('tailEnd');
  type Tagged = http.ServerResponse & { [START]?: number; [HEAD]?: number; [END]?: number };

  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request') {
      const res = args[1] as Tagged;
      res[START] = performance.now();
      res.once('finish', () => {
        const now = performance.now();
        const w = windowAt(origin + now);
        w.requests++;
        const lat = Math.round((now - res[START]!) * 1000);
        w.latUs.push(lat);
        const since = (t: number | undefined) => (t === undefined ? 0 : Math.round((now - t) * 1000));
        w.split.push([lat, since(res[HEAD]), since(res[END])]);
      });
    }
    return (emit as (...a: unknown[]) => boolean).apply(this, [event, ...args]);
  } as typeof emit;
  const writeHead = http.ServerResponse.prototype.writeHead;
  http.ServerResponse.prototype.writeHead = function (this: Tagged, ...args: unknown[]) {
    this[HEAD] = performance.now();
    return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
  } as typeof writeHead;
  const end = http.ServerResponse.prototype.end;
  http.ServerResponse.prototype.end = function (this: Tagged, ...args: unknown[]) {
    const head = this[HEAD];
    this[END] = performance.now();
    if (head !== undefined) {
      const waitUs = (performance.now() - head) * 1000;
      const w = windowAt(origin + performance.now());
      w.outboxSumUs += waitUs;
      if (waitUs > w.outboxMaxUs) w.outboxMaxUs = Math.round(waitUs);
    }
    return (end as (...a: unknown[]) => http.ServerResponse).apply(this, args);
  } as typeof end;

  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weak-callbacks', 16: 'minor-mark' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const w = windowAt(origin + e.startTime);
      w.gcCount++;
      w.gcMs += e.duration;
      if (e.duration > w.gcMaxMs) {
        w.gcMaxMs = e.duration;
        w.gcMaxKind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      }
    }
  }).observe({ entryTypes: ['gc'] });

  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  setInterval(() => {
    windowAt(Date.now() - WINDOW_MS).eldMaxMs = Math.round(eld.max / 1e5) / 10;
    eld.reset();
  }, WINDOW_MS).unref();

  process.once('exit', () => {
    const out = [...windows.values()].sort((a, b) => a.t - b.t);
    for (const w of out) w.latUs.sort((a, b) => a - b);
    writeFileSync(join(dir, `tail-${process.pid}.json`), JSON.stringify({ pid: process.pid, windowMs: WINDOW_MS, windows: out }));
  });
}
