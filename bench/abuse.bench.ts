/**
 * @module bench/abuse.bench
 * `npm run bench:abuse`: a neighbour's /flags latency on loopback, alone and while one abusive
 * client sends 1 MB person properties against four regex flags (issue 13 §5), plus the server's
 * CPU per abusive request. The last line of output is one JSON object.
 *
 * Method: one Vexil process (`dist/src/main.js`, PostgreSQL, no cluster) with ten flags: four
 * regex filters on `email`, six ordinary ones. The neighbour sends one request at a time, each
 * with its own small properties, and times each answer; the abuser is a child process with
 * ABUSE_CONNECTIONS connections sending the same 1 MB body, first back to back (as fast as the
 * server answers it), then paced to PACED_RATE a second (the same abusive load for any build).
 * Every loop is bounded in count and time.
 *
 * BENCH_VEXIL_DIR=<a built Vexil checkout> serves that build instead of this one: how the
 * before/after figures in BENCHMARKS.md compare a build without the matching budget.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import type { ProjectDefs, FlagDef } from '../src/engine/index.ts';
import { databaseUrl, recreateDatabase } from './http/pg.ts';
import { cpuSeconds, freePort, spawnNode, stop, waitForHttp, type Spawned } from './http/proc.ts';
import { createProject } from './http/vexil-admin.ts';

const DB = 'vexil_bench_abuse';
const BOOTSTRAP_KEY = 'phx_vexil_bench_abuse_bootstrap_key_00';
const WARMUP = 300;
const NEIGHBOUR_REQUESTS = 600;
const NEIGHBOUR_MAX_MS = 10_000;
const ROUNDS = 3;
const ABUSE_CONNECTIONS = 2;
/** The paced phase's abusive requests per second: about what the server without a budget could answer. */
const PACED_RATE = 2;
/** How long the abuser runs alone, to measure the server's CPU per abusive request. */
const ABUSE_ONLY_MS = 5_000;
/** The abuser's own bounds: it stops at whichever comes first. */
const ABUSE_MAX_REQUESTS = 2000;
const EMAIL_CHARS = 1_000_000;

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** dist/ of this build (the benchmark runs compiled, from dist/bench/). */
const OWN_DIST = resolve(HERE, '..');

let nextId = 1;
function regexFlag(key: string, operator: string, value: string): FlagDef {
  return { id: nextId++, key, active: true, filters: { groups: [{ properties: [{ key: 'email', type: 'person', operator, value }], rollout_percentage: 100 }] } };
}
function flag(key: string, filters: FlagDef['filters']): FlagDef {
  return { id: nextId++, key, active: true, filters };
}

/** Four regex flags of the kinds people write (re2js, look-around, negated, case-insensitive), six others. */
export function abuseProject(): ProjectDefs {
  return {
    flags: [
      regexFlag('rx-email', 'regex', '^[^@]+@(gmail|example)\\.com$'),
      regexFlag('rx-lookahead', 'regex', '^(?!.*test).*@example\\.com$'),
      regexFlag('rx-not', 'not_regex', '@spam\\.[a-z]+$'),
      regexFlag('rx-case', 'regex', '(?i)^ann'),
      flag('half', { groups: [{ properties: [], rollout_percentage: 50 }] }),
      flag('everyone', { groups: [{ properties: [], rollout_percentage: 100 }] }),
      flag('plan-pro', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] }),
      flag('de-only', { groups: [{ properties: [{ key: 'country', type: 'person', operator: 'exact', value: ['DE'] }], rollout_percentage: 30 }] }),
      flag('chrome', { groups: [{ properties: [{ key: 'ua', type: 'person', operator: 'icontains', value: 'chrome' }] }] }),
      flag('variant', { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] } }),
    ],
    cohorts: [],
    groupTypeMapping: {},
  };
}

function neighbourBody(token: string, i: number): string {
  return JSON.stringify({
    token,
    distinct_id: `neighbour-${i}`,
    person_properties: { email: `user${i}@example.com`, plan: i % 3 === 0 ? 'pro' : 'free', country: i % 2 ? 'DE' : 'FR', ua: 'Mozilla/5.0 Chrome/120' },
  });
}

function abusiveBody(token: string): string {
  return JSON.stringify({ token, distinct_id: 'abuser', person_properties: { email: 'a'.repeat(EMAIL_CHARS - 12) + '@example.com', plan: 'pro' } });
}

/** One phase of a round: the neighbour's latencies, the server's CPU, and the abuser's own count. */
interface Phase {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuS: number;
  windowS: number;
  abuser?: { answered: number; perSecond: number; withErrors: number; non200: number; cpuS: number };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Up to `count` sequential neighbour requests within `maxMs`; latencies in ms. */
async function neighbour(url: string, token: string, count: number, maxMs: number, record: boolean) {
  const samples = new Float64Array(count);
  let n = 0;
  let errors = 0;
  const deadline = performance.now() + maxMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const body = neighbourBody(token, i);
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const answer = (await res.json()) as { errorsWhileComputingFlags?: boolean };
    const ms = performance.now() - t0;
    if (res.status !== 200 || answer.errorsWhileComputingFlags) errors++;
    if (record) samples[n++] = ms;
  }
  const sorted = samples.slice(0, n).sort();
  return { requests: n, errors, p50Ms: round(percentile(sorted, 0.5)), p99Ms: round(percentile(sorted, 0.99)), maxMs: round(percentile(sorted, 1)) };
}

/**
 * The abuser (a child process): 1 MB requests on `connections` loops, bounded in count and time;
 * back to back, or with `ratePerSecond` > 0 paced to that many a second in all.
 */
async function runAbuser(url: string, token: string, connections: number, maxMs: number, ratePerSecond: number): Promise<void> {
  const body = abusiveBody(token);
  let sent = 0;
  let answered = 0;
  let withErrors = 0;
  let non200 = 0;
  const start = performance.now();
  const deadline = start + maxMs;
  // The benchmark ends the abuse with SIGTERM once the neighbour is done.
  let stopped = false;
  process.once('SIGTERM', () => (stopped = true));
  const gapMs = ratePerSecond > 0 ? (1000 * connections) / ratePerSecond : 0;
  const loop = async () => {
    while (!stopped && sent < ABUSE_MAX_REQUESTS && performance.now() < deadline) {
      sent++;
      const due = performance.now() + gapMs;
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await res.text();
        answered++;
        if (res.status !== 200) non200++;
        else if (text.includes('"errorsWhileComputingFlags":true')) withErrors++;
      } catch {
        non200++;
      }
      const wait = due - performance.now();
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(`${JSON.stringify({ sent, answered, withErrors, non200, seconds: round(seconds), perSecond: round(answered / seconds) })}\n`);
}

async function main(): Promise<void> {
  const vexilDir = process.env.BENCH_VEXIL_DIR ? resolve(process.env.BENCH_VEXIL_DIR, 'dist') : OWN_DIST;
  const work = mkdtempSync(join(tmpdir(), 'vexil-abuse-'));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`server: ${vexilDir}/src/main.js, logs in ${work}`);
  await recreateDatabase(DB);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let server: Spawned | null = null;
  let abuser: Spawned | null = null;
  try {
    server = spawnNode([join(vexilDir, 'src', 'main.js')], {
      env: { ...process.env, VEXIL_WORKERS: '1', DATABASE_URL: databaseUrl(DB), VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY, LOG_LEVEL: 'warn', REDIS_URL: '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' },
      logFile: join(work, 'vexil.log'),
    });
    await waitForHttp(`${base}/_readiness`, { timeoutMs: 60_000, proc: server });
    const project = await createProject(base, BOOTSTRAP_KEY, 'bench: abuse', abuseProject());
    const url = `${base}/flags?v=2`;
    // The new flags reach the snapshot through the change notice or the poll: wait for them.
    for (let i = 0; i < 200; i++) {
      const answer = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: neighbourBody(project.token, 0) })).json()) as { flags?: Record<string, unknown> };
      if (Object.keys(answer.flags ?? {}).length === 10) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = server.child.pid!;
    await neighbour(url, project.token, WARMUP, 10_000, false);

    /** One phase: the neighbour's latencies and the server's CPU, with an abuser at `rate` (null: none; 0: back to back). */
    const phase = async (rate: number | null): Promise<Phase> => {
      const logFile = join(work, `abuser-${rate}.log`);
      if (rate !== null) {
        abuser = spawnNode([fileURLToPath(import.meta.url), '--abuser', url, project.token, String(ABUSE_CONNECTIONS), String(NEIGHBOUR_MAX_MS + 5_000), String(rate)], { env: process.env, logFile });
        // Give the abuser a second to have its requests in flight.
        await new Promise((r) => setTimeout(r, 1000));
      }
      const c0 = cpuSeconds([pid]);
      const t0 = performance.now();
      const latency = await neighbour(url, project.token, NEIGHBOUR_REQUESTS, NEIGHBOUR_MAX_MS, true);
      const serverCpuS = cpuSeconds([pid]) - c0;
      const windowS = (performance.now() - t0) / 1000;
      if (rate === null) return { ...latency, serverCpuS: round(serverCpuS), windowS: round(windowS) };
      // The abuser's own CPU (it shares the host's cores with the server and the neighbour).
      const abuserCpuS = cpuSeconds([abuser!.child.pid!]);
      await stop(abuser, 10_000);
      abuser = null;
      const lines = readFileSync(logFile, 'utf8').trim().split('\n');
      const abuse = JSON.parse(lines[lines.length - 1]!) as { answered: number; perSecond: number; withErrors: number; non200: number };
      return { ...latency, serverCpuS: round(serverCpuS), windowS: round(windowS), abuser: { ...abuse, cpuS: round(abuserCpuS) } };
    };
    // Alternating rounds: the host is shared, and its load drifts within a run.
    const rounds: { alone: Phase; backToBack: Phase; paced: Phase }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const alone = await phase(null);
      const backToBack = await phase(0);
      const paced = await phase(PACED_RATE);
      rounds.push({ alone, backToBack, paced });
      say(`round ${r + 1}: ${JSON.stringify(rounds[r])}`);
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return round(s[Math.floor(s.length / 2)]!);
    };
    /** Server CPU per abusive request, ms: the phase's CPU less what the neighbour alone used in as long. */
    const cpuPerAbusiveMs = (p: Phase, alone: Phase) =>
      p.abuser && p.abuser.answered > 0 ? (1000 * (p.serverCpuS - (alone.serverCpuS / alone.windowS) * p.windowS)) / p.abuser.answered : NaN;
    const summary = (name: 'alone' | 'backToBack' | 'paced') => ({
      p50Ms: median(rounds.map((x) => x[name].p50Ms)),
      p99Ms: median(rounds.map((x) => x[name].p99Ms)),
      neighbourErrors: rounds.reduce((n, x) => n + x[name].errors, 0),
      ...(name === 'alone'
        ? {}
        : {
            abusivePerSecond: median(rounds.map((x) => x[name].abuser?.perSecond ?? 0)),
            abusiveAnsweredWithErrors: rounds.reduce((n, x) => n + (x[name].abuser?.withErrors ?? 0), 0),
            abusiveAnswered: rounds.reduce((n, x) => n + (x[name].abuser?.answered ?? 0), 0),
            serverCpuMsPerAbusiveRequest: median(rounds.map((x) => cpuPerAbusiveMs(x[name], x.alone))),
            serverCpuShare: median(rounds.map((x) => x[name].serverCpuS / x[name].windowS)),
            abuserCpuShare: median(rounds.map((x) => (x[name].abuser?.cpuS ?? 0) / x[name].windowS)),
          }),
    });
    const alone = summary('alone');
    const backToBack = summary('backToBack');
    const paced = summary('paced');
    // Server CPU per abusive request, alone: the abuser back to back for ABUSE_ONLY_MS, no neighbour.
    const abuseOnlyLog = join(work, 'abuser-only.log');
    const c0 = cpuSeconds([pid]);
    abuser = spawnNode([fileURLToPath(import.meta.url), '--abuser', url, project.token, String(ABUSE_CONNECTIONS), String(ABUSE_ONLY_MS), '0'], { env: process.env, logFile: abuseOnlyLog });
    await abuser.exited;
    abuser = null;
    const onlyLines = readFileSync(abuseOnlyLog, 'utf8').trim().split('\n');
    const only = JSON.parse(onlyLines[onlyLines.length - 1]!) as { answered: number; seconds: number };
    const abuseOnly = { answered: only.answered, seconds: only.seconds, serverCpuMsPerRequest: round((1000 * (cpuSeconds([pid]) - c0)) / Math.max(1, only.answered)) };

    const result = {
      bench: 'abuse',
      server: vexilDir,
      machine: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      emailChars: EMAIL_CHARS,
      abuseConnections: ABUSE_CONNECTIONS,
      rounds: ROUNDS,
      abuseOnly,
      alone,
      backToBack,
      paced: { ratePerSecond: PACED_RATE, ...paced },
      p50Ratio: { backToBack: round(backToBack.p50Ms / alone.p50Ms), paced: round(paced.p50Ms / alone.p50Ms) },
      p99Ratio: { backToBack: round(backToBack.p99Ms / alone.p99Ms), paced: round(paced.p99Ms / alone.p99Ms) },
    };
    say(JSON.stringify(result));
  } finally {
    await stop(abuser);
    await stop(server);
  }
}

if (process.argv[2] === '--abuser') {
  const [, , , url, token, connections, maxMs, rate] = process.argv;
  await runAbuser(url!, token!, Number(connections), Number(maxMs), Number(rate));
} else {
  await main();
}
