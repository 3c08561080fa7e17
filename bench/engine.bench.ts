/**
 * @module bench/engine.bench
 * `npm run bench:engine`: µs per 50-flag evaluation for Vexil's engine and the evaluators people
 * use in Node (posthog-node local evaluation, GrowthBook, unleash-client), same project, same users.
 *
 * Method: every evaluation gets a user never seen before by that evaluator (a pregenerated pool,
 * walked once), so no per-user cache can help. Each evaluator is warmed up, then each single
 * 50-flag evaluation is timed with `process.hrtime.bigint()` (the timer's own cost is printed),
 * in two interleaved rounds. The last line of output is one JSON object.
 */
import os from 'node:os';
import { buildFiftyFlagProject, generateUsers, ROLLOUT_PERCENTAGES, type BenchUser } from './fixtures/fifty-flag-project.ts';
import type { ProjectDefs } from '../src/engine/index.ts';
import type { FlagValue, Peer } from './peers/peer.ts';
import { createPosthogNodePeer } from './peers/posthog-node.ts';
import { createGrowthBookPeer } from './peers/growthbook.ts';
import { createUnleashPeer } from './peers/unleash.ts';

// GrowthBook builds debug-log arguments unless NODE_ENV is "production"; a server runs with it set.
process.env.NODE_ENV = 'production';

const WARMUP_EVALS = 20_000;
const WARMUP_MAX_MS = 3_000;
const MEASURE_EVALS = 200_000;
const MEASURE_MAX_MS = 8_000;
const ROUNDS = 10;
const SANITY_USERS = 3_000;
const POOL = WARMUP_EVALS + MEASURE_EVALS;

interface Run {
  peer: Peer;
  cursor: number;
  samples: Float64Array;
  count: number;
}

let sink: unknown;

function now(): bigint {
  return process.hrtime.bigint();
}

/** Runs up to `maxEvals` timed evaluations within `maxMs`; records them unless warming up. */
async function drive(run: Run, users: BenchUser[], maxEvals: number, maxMs: number, record: boolean): Promise<void> {
  const deadline = now() + BigInt(maxMs) * 1_000_000n;
  const { peer, samples } = run;
  const end = Math.min(run.cursor + maxEvals, users.length);
  if (peer.async) {
    while (run.cursor < end) {
      const user = users[run.cursor++];
      const t0 = now();
      sink = await peer.evaluate(user);
      const t1 = now();
      if (record) samples[run.count++] = Number(t1 - t0);
      if (t1 > deadline) break;
    }
    return;
  }
  while (run.cursor < end) {
    const user = users[run.cursor++];
    const t0 = now();
    sink = peer.evaluate(user);
    const t1 = now();
    if (record) samples[run.count++] = Number(t1 - t0);
    if ((run.cursor & 63) === 0 && t1 > deadline) break;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summarise(run: Run) {
  const sorted = run.samples.slice(0, run.count).sort();
  let total = 0;
  for (const s of sorted) total += s;
  const mean = total / sorted.length / 1000;
  return { samples: sorted.length, p50: percentile(sorted, 0.5) / 1000, p99: percentile(sorted, 0.99) / 1000, mean, opsPerSec: 1e6 / mean };
}

/** Median cost of one back-to-back pair of `process.hrtime.bigint()` calls, in ns. */
function timerOverheadNs(): number {
  const d = new Float64Array(100_000);
  for (let i = 0; i < d.length; i++) {
    const t0 = now();
    d[i] = Number(now() - t0);
  }
  return percentile(d.sort(), 0.5);
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const round2 = (x: number) => Math.round(x * 100) / 100;
const pad = (s: string | number, n: number) => String(s).padStart(n);

/** Untimed: value fractions per flag, rollout accuracy, and agreement with posthog-node. */
async function sanity(peers: Peer[], users: BenchUser[], defs: ProjectDefs, reference: Peer, vexil: Peer | undefined) {
  const keys = defs.flags.map((f) => f.key);
  // Flags whose value depends on properties only (no rollout below 100, no variants): every
  // evaluator must give exactly posthog-node's value for every user.
  const hashFree = defs.flags
    .filter((f) => !f.filters.multivariate && (f.filters.groups ?? []).every((c) => (c.rollout_percentage ?? 100) === 100))
    .map((f) => f.key);
  const values = new Map<Peer, Record<string, FlagValue>[]>();
  for (const p of peers) {
    const all: Record<string, FlagValue>[] = [];
    for (const u of users) all.push(await p.values(u));
    values.set(p, all);
  }
  const fraction = (p: Peer, key: string, want?: string) =>
    values.get(p)!.filter((v) => (want === undefined ? v[key] !== false && v[key] !== undefined : v[key] === want)).length / users.length;
  console.log(`\nsanity (${users.length} users, untimed): max |observed − configured| over the 20 rollout flags; ` +
    `max |fraction − posthog-node's| over all 50 flags and variants; per-user equality on the ${hashFree.length} hash-free flags`);
  for (const p of peers) {
    let rolloutErr = 0;
    ROLLOUT_PERCENTAGES.forEach((pct, i) => (rolloutErr = Math.max(rolloutErr, Math.abs(fraction(p, `rollout-${i}`) - pct / 100))));
    let worst = 0;
    let worstKey = '';
    for (const key of keys) {
      for (const want of [undefined, 'control', 'test', 'test2']) {
        const d = Math.abs(fraction(p, key, want) - fraction(reference, key, want));
        if (d > worst) [worst, worstKey] = [d, `${key}${want ? `=${want}` : ''}`];
      }
    }
    let same = 0;
    values.get(p)!.forEach((v, i) => hashFree.forEach((k) => (same += v[k] === values.get(reference)![i][k] ? 1 : 0)));
    const flag = rolloutErr > 0.03 || worst > 0.06 || same !== users.length * hashFree.length ? '  <-- CHECK' : '';
    console.log(`  ${p.name.padEnd(32)} rollout err ${rolloutErr.toFixed(3)}   vs posthog-node ${worst.toFixed(3)} (${worstKey || '-'})   ` +
      `hash-free flags identical ${same}/${users.length * hashFree.length}${flag}`);
  }
  if (!vexil) return undefined;
  const ref = values.get(reference)!;
  const mine = values.get(vexil)!;
  let agree = 0;
  const mismatches: string[] = [];
  users.forEach((u, i) => {
    for (const key of keys) {
      if (ref[i][key] === mine[i][key]) agree++;
      else if (mismatches.length < 5) mismatches.push(`${u.distinctId} ${key}: posthog-node ${String(ref[i][key])} vexil ${String(mine[i][key])}`);
    }
  });
  const total = users.length * keys.length;
  console.log(`  vexil vs posthog-node agreement: ${agree}/${total} flag values (${users.length} users × ${keys.length} flags)`);
  for (const m of mismatches) console.log(`    mismatch ${m}`);
  return { agree, total };
}

async function loadVexil(defs: ProjectDefs, at: number): Promise<Peer | undefined> {
  try {
    const { createVexilPeer } = await import('./peers/vexil.ts');
    return createVexilPeer(defs, at);
  } catch (err) {
    console.log(`vexil engine unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

async function main() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  console.log(`engine benchmark — ${new Date().toISOString()} — node ${process.version}, ${os.availableParallelism()} CPUs (${cpu}), load average ${loadAverage()}`);
  const defs = buildFiftyFlagProject();
  const keys = defs.flags.map((f) => f.key);
  const all = generateUsers(POOL + SANITY_USERS);
  const users = all.slice(0, POOL);
  const sanityUsers = all.slice(POOL);

  const vexil = await loadVexil(defs, Date.now());
  const posthog = await createPosthogNodePeer(defs);
  const peers: Peer[] = [posthog, createGrowthBookPeer(defs), await createUnleashPeer(defs)];
  const everyone = vexil ? [vexil, ...peers] : peers;
  const runs = everyone.map((peer): Run => ({ peer, cursor: 0, samples: new Float64Array(MEASURE_EVALS), count: 0 }));

  const timer = timerOverheadNs();
  console.log(`${keys.length} flags, ${users.length} pregenerated users; warm-up ≤ ${WARMUP_EVALS} evals or ${WARMUP_MAX_MS} ms; ` +
    `then ≤ ${MEASURE_EVALS} timed evals or ${MEASURE_MAX_MS} ms in ${ROUNDS} interleaved rounds; ` +
    `each sample = one 50-flag evaluation (timer pair costs ${timer} ns, included)`);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? runs : [...runs].reverse();
    for (const run of order) {
      if (round === 0) await drive(run, users, WARMUP_EVALS, WARMUP_MAX_MS, false);
      await drive(run, users, MEASURE_EVALS / ROUNDS, MEASURE_MAX_MS / ROUNDS, true);
    }
  }

  const stats = new Map(runs.map((r) => [r.peer, summarise(r)]));
  console.log(`\n${'evaluator'.padEnd(32)} ${pad('samples', 8)} ${pad('p50 µs', 9)} ${pad('p99 µs', 9)} ${pad('mean µs', 9)} ${pad('evals/s', 9)}  timed path`);
  for (const r of runs) {
    const s = stats.get(r.peer)!;
    console.log(`${r.peer.name.padEnd(32)} ${pad(s.samples, 8)} ${pad(s.p50.toFixed(2), 9)} ${pad(s.p99.toFixed(2), 9)} ${pad(s.mean.toFixed(2), 9)} ${pad(Math.round(s.opsPerSec), 9)}  ${r.peer.path}`);
  }

  console.log(`load average after timing: ${loadAverage()} (another busy process on this machine inflates every figure)`);
  await sanity(everyone, sanityUsers, defs, posthog, vexil);
  for (const p of everyone) await p.close();
  void sink;

  const [ph, gb, un] = peers.map((p) => stats.get(p)!);
  const v = vexil ? stats.get(vexil)! : undefined;
  const fastestPeer = Math.min(ph.p50, gb.p50, un.p50);
  const result = {
    vexil_us_p50: v ? round2(v.p50) : null,
    vexil_us_p99: v ? round2(v.p99) : null,
    posthog_node_us_p50: round2(ph.p50),
    growthbook_us_p50: round2(gb.p50),
    unleash_us_p50: round2(un.p50),
    speedup_vs_posthog_node: v ? round2(ph.p50 / v.p50) : null,
    speedup_vs_fastest_peer: v ? round2(fastestPeer / v.p50) : null,
  };
  console.log(JSON.stringify(result));
  process.exit(v ? 0 : 1);
}

await main();
