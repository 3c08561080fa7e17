/**
 * @module bench/http/stall-summary
 * `node dist/bench/http/stall-summary.js PROFILE_DIR TAIL_DIR [SLICE_PREFIX] [MIN_MS]`: what a
 * Vexil worker was doing while its slow requests waited. Reads the V8 CPU profiles a benchmark run
 * wrote (BENCH_CPU_PROF=PROFILE_DIR) and the run's timeline.json (in TAIL_DIR, or the run
 * directory), keeps the samples inside the slices whose name starts with SLICE_PREFIX (default
 * `vexil-70pct`), and finds the stalls: stretches of at least MIN_MS (default 5) ms in which the
 * worker's event loop never went idle, so every request that arrived or was answered in them
 * waited for their end. Each stall's time is split into garbage collection, gaps in the sampling
 * (the thread was not running: descheduled by the OS, or the machine stalled), native code
 * outside JavaScript ("(program)": syscalls, the HTTP parser), and JavaScript, by function and by
 * the project's own files on the stack. The same split over all busy time is printed beside it,
 * so what stalls have more of than ordinary work stands out.
 *
 * Profile time is V8's monotonic clock; it is placed on the wall clock by the profile file's
 * modification time (written at exit, at the profile's end), which is good to a few ms.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { place, readProfile } from './cpu-profile.ts';

/** A sample interval longer than this (µs) counts as a gap: the thread was not running. */
const GAP_US = 4000;
/** The sampling interval the rest of a gap's sample is worth (`--cpu-prof` default: 1 ms). */
const INTERVAL_US = 1000;

type Split = Map<string, number>;
const add = (m: Split, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);

function main(): void {
  const [profileDir, tailDir, prefix = 'vexil-70pct', minArg] = process.argv.slice(2);
  if (!profileDir || !tailDir) throw new Error('usage: stall-summary PROFILE_DIR TAIL_DIR [SLICE_PREFIX] [MIN_MS]');
  const minUs = Number(minArg ?? 5) * 1000;
  const slices = (JSON.parse(readFileSync(join(tailDir, 'timeline.json'), 'utf8')) as { name: string; startMs: number; endMs: number }[]).filter((s) => s.name.startsWith(prefix));
  const inSlice = (epochMs: number) => slices.some((s) => epochMs >= s.startMs && epochMs < s.endMs);

  const busy: Split = new Map(); // every non-idle sample in the slices
  const stalled: Split = new Map(); // the samples of stalls only
  const stalledFns: Split = new Map();
  const stalledSrc: Split = new Map();
  const lengths: number[] = [];
  let sliceUs = 0;
  for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
    const path = join(profileDir, file);
    const p = readProfile(path);
    const toEpochMs = statSync(path).mtimeMs - p.endTime / 1000;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const category = (id: number) => {
      const name = byId.get(id)!.callFrame.functionName;
      return name === '(garbage collector)' || name === '(program)' || name === '(idle)' ? name : 'JavaScript';
    };
    let run: { id: number; us: number }[] = [];
    const closeRun = () => {
      const total = run.reduce((a, s) => a + s.us, 0);
      if (total >= minUs) {
        lengths.push(total / 1000);
        for (const s of run) {
          const gap = Math.max(0, s.us - INTERVAL_US);
          if (s.us > GAP_US) add(stalled, 'gap (thread not running)', gap);
          const rest = s.us > GAP_US ? s.us - gap : s.us;
          const cat = category(s.id);
          add(stalled, cat, rest);
          if (cat !== 'JavaScript') continue;
          const f = byId.get(s.id)!.callFrame;
          add(stalledFns, `${f.functionName || '(anonymous)'} ${place(f.url)}:${f.lineNumber + 1}`, rest);
          const seen = new Set<string>();
          for (let at: number | undefined = s.id; at !== undefined; at = parent.get(at)) {
            const cf = byId.get(at)!.callFrame;
            const i = cf.url.indexOf('/dist/src/');
            if (i === -1) continue;
            const key = `${cf.functionName || '(anonymous)'} ${cf.url.slice(i + 6)}`;
            if (!seen.has(key)) add(stalledSrc, key, rest), seen.add(key);
          }
        }
      }
      run = [];
    };
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      const us = p.timeDeltas[i] ?? 0;
      t += us;
      if (!inSlice(toEpochMs + t / 1000)) {
        closeRun();
        continue;
      }
      sliceUs += us;
      const id = p.samples[i]!;
      if (category(id) === '(idle)') {
        closeRun();
        continue;
      }
      if (us > GAP_US) add(busy, 'gap (thread not running)', us - INTERVAL_US);
      add(busy, category(id), us > GAP_US ? INTERVAL_US : us);
      run.push({ id, us });
    }
    closeRun();
  }
  lengths.sort((a, b) => a - b);
  const total = (m: Split) => [...m.values()].reduce((a, b) => a + b, 0);
  const pct = (m: Split, k: string) => `${((100 * (m.get(k) ?? 0)) / Math.max(1, total(m))).toFixed(0)} %`;
  const cats = ['gap (thread not running)', '(garbage collector)', '(program)', 'JavaScript'];
  console.log(`slices ${prefix}*: ${(sliceUs / 1e6).toFixed(1)} s of worker time sampled; busy ${(total(busy) / 1e6).toFixed(2)} s`);
  console.log(`stalls ≥ ${minUs / 1000} ms without an idle sample: ${lengths.length}, ${(total(stalled) / 1e6).toFixed(2)} s; length p50 ${lengths[lengths.length >> 1]?.toFixed(1)} ms, max ${lengths.at(-1)?.toFixed(1)} ms`);
  console.log('| share of time | in stalls | all busy time |\n| --- | ---: | ---: |');
  for (const c of cats) console.log(`| ${c} | ${pct(stalled, c)} | ${pct(busy, c)} |`);
  const top = (title: string, m: Split, n: number) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((100 * us) / Math.max(1, total(stalled))).toFixed(1).padStart(5)} %  ${k}`);
  };
  top('JavaScript in stalls by function (self time, share of stall time)', stalledFns, 15);
  top("the project's functions on the stack in stalls (inclusive, share of stall time)", stalledSrc, 15);
}

main();
