/**
 * @module bench/http.bench
 * `npm run bench:http`: Vexil over HTTP against this machine's ceiling (a minimal node:http
 * server) and against Unleash, in one bounded run on loopback so the ratios hold on a noisy
 * machine. Load comes from wrk (installed when missing). Progress goes to stderr; stdout gets
 * the table and, as its last line, one JSON object with every figure and ratio.
 *
 * Cases (every server runs as BENCH_WORKERS node:cluster workers on one port, default one per
 * core: Vexil through its own VEXIL_WORKERS, the baseline and Unleash through bench/http/cluster.ts):
 *  1. baseline: node:http answering a fixed 1 KB JSON to each POST (same bodies as case 2);
 *  2. Vexil `POST /flags?v=2`, 50-flag fixture project, every property in the body;
 *  3. the same with only distinct_id: properties of 100,000 stored persons read from PostgreSQL.
 *     Cases 1–3 are measured in ROUNDS alternating slices (baseline, 2, 3, baseline, 2, 3, …),
 *     both servers running throughout: this machine's speed moves by a fifth or more within a
 *     minute, so each ratio is taken per round, between runs seconds apart, and the reported
 *     ratio is the median of the rounds' ratios (req/s and latencies pool all slices);
 *  4. `GET /api/feature_flag/local_evaluation` with and without `If-None-Match`;
 *  5. unleash-server 7.5 `GET /api/frontend` with the equivalent 50 toggles, same users;
 *  6. Vexil case 2 at a fixed 70% of its maximum (open-loop pacing, see bench/http/wrk.ts) and the
 *     baseline at the same fixed rate, in PACED_ROUNDS rounds that each first measure Vexil's
 *     maximum (PACED_PROBE_S flat out) and pace at 70% of it; the target is
 *     `p99_ratio_to_baseline_at_same_rate` (Vexil's p99 ÷ the baseline's, median of the rounds)
 *     ≤ 1.5, absolute figures kept beside it; controls: the baseline at 70% of its own maximum,
 *     and a CPU-matched baseline (burning Vexil's extra CPU per request) at the same rate
 *     (`p99_ratio_to_cpu_matched_baseline`: the part of the tail that is Vexil's own);
 *  7. GeoIP (bench/http/geoip-case.ts): case 2's request with client addresses in X-Forwarded-For,
 *     on twin Vexil nodes without a GeoIP database (off) and with it (unused: the project needs no
 *     lookup), and a project with a `$geoip_country_code` flag with `geoip_disable` (disabled)
 *     and without (lookup), in rounds alternating with the baseline.
 * Also: resident memory of one Vexil process serving 100 projects × 200 flags, snapshot rebuild
 * time of a 1,000-flag project, and start-to-ready time (spawn → /_readiness 200).
 *
 * Every measured run also reports the CPU time the server's processes (and the PostgreSQL
 * backends of its database) spent per request, from /proc: on a machine shared with other work,
 * CPU per request moves far less than req/s, so the CPU ratios are the steadier comparison.
 *
 * Knobs (environment): BENCH_WORKERS (default: available cores), BENCH_DURATION_S (measured
 * seconds per case, default 8; cases 1–3 run ROUNDS slices of a quarter of that each),
 * BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_CPU_PROF=dir (Vexil workers write V8 CPU profiles there on exit; read them with
 * `node dist/bench/http/profile-summary.js FILE`),
 * BENCH_TAIL_DIR=dir with BENCH_VEXIL_NODE_FLAGS=--import=./dist/bench/http/tail-probe.js (latency
 * over time in 100 ms windows, with GC pauses, event-loop delay and outbox waits; read them with
 * `node dist/bench/http/tail-summary.js dir`).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqlOnce } from '../test/helpers/db.ts';
import { buildFiftyFlagProject, generateUsers, type BenchUser } from './fixtures/fifty-flag-project.ts';
import { createUnleashPeer } from './peers/unleash.ts';
import { databaseUrl, recreateDatabase } from './http/pg.ts';
import { cpuSeconds, freePort, postgresBackends, rssMb, spawnNode, stop, tail, waitForHttp, withChildren, type Spawned } from './http/proc.ts';
import { createScaleProjects, measureRebuild } from './http/scale.ts';
import { createUnleashProject, ensureUnleash, frontendAnswer, frontendTarget, UNLEASH_FRONTEND_TOKEN } from './http/unleash.ts';
import { createProject, flagsBodyIdOnly, flagsBodyWithProperties, flagValues, importPersons, pool, requestJson, retry } from './http/vexil-admin.ts';
import { measureGeoip, geoipJson } from './http/geoip-case.ts';
import { combine, median, type Measured } from './http/measured.ts';
import { ensureWrk, runWrk, writeScript, type ScriptOptions } from './http/wrk.ts';

const WORKERS = Number(process.env.BENCH_WORKERS ?? os.availableParallelism());
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const WARMUP_S = 2;
/**
 * Rounds of alternating slices for cases 1–3, each slice a quarter of a case's duration: this
 * machine's speed was seen to move by 44 % within 14 s, so the slices of a round must be close.
 */
const ROUNDS = 6;
const SLICE_S = Math.max(2, Math.round(DURATION_S / 4));
const WRK_THREADS = 2;
const CONNECTIONS = 64;
/** More connections for the fixed-rate run: the schedule can book this many slots ahead. */
const PACED_CONNECTIONS = 128;
const PACED_FRACTION = 0.7;
/** Rounds of case 6 (Vexil, then the baseline, at the same fixed rate); odd, for the median. */
const PACED_ROUNDS = 3;
/** Seconds per case-6 slice: at 70% of Vexil's maximum, enough requests for a steady p99. */
const PACED_SLICE_S = Math.max(3, Math.round(DURATION_S / 2));
/** Seconds of Vexil flat out before each case-6 round, to set that round's rate. */
const PACED_PROBE_S = 2;
/** Largest accepted p99(Vexil) ÷ p99(baseline) at the same fixed rate. */
const P99_RATIO_TARGET = 1.5;
const PROPS_USERS = 20_000;
const STORED_PERSONS = 100_000;
const SCALE_PROJECTS = 100;
const SCALE_COPIES = 4; // × 50 = 200 flags
const REBUILD_COPIES = 20; // × 50 = 1,000 flags
/** Rebuilds timed (median reported): a single one swings with JIT tiering and GC. */
const REBUILD_ROUNDS = 9;
const VEXIL_DB = 'vexil_bench_http';
const UNLEASH_DB = 'vexil_bench_unleash';
const POLL_SECONDS = 1;
const BOOTSTRAP_KEY = 'phx_vexil_bench_http_bootstrap_key_0000';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');
const TMP = join(ROOT, '.bench-tmp');
const RUN = join(TMP, 'http-run');
const UNLEASH_DIR = join(TMP, 'unleash');

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
const say = (line: string) => process.stderr.write(`[${elapsed()}] ${line}\n`);

const running = new Set<Spawned>();
async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => stop(p)));
  running.clear();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

/** 1-minute load average, sampled every 2 s through the run. */
const loadSamples: number[] = [];
const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]!), 2000);
loadTimer.unref();

let clusterStarts = 0;
/**
 * Starts `target` with WORKERS processes on one port (copied dist/, so a concurrent rebuild
 * cannot pull it away): Vexil by itself (`VEXIL_WORKERS`, its own node:cluster primary), the
 * baseline and Unleash through the bench's cluster launcher.
 */
async function startCluster(target: 'baseline' | 'vexil' | 'unleash', env: NodeJS.ProcessEnv, readyPath: string): Promise<{ proc: Spawned; port: number; base: string }> {
  const port = await freePort();
  const args =
    target === 'vexil'
      ? [...vexilNodeFlags(), join(RUN, 'dist', 'src', 'main.js')]
      : [join(RUN, 'dist', 'bench', 'http', 'cluster.js'), target, String(WORKERS)];
  const proc = spawnNode(args, {
    env: { ...process.env, ...env, ...(target === 'vexil' ? { VEXIL_WORKERS: String(WORKERS), LOG_LEVEL: 'info' } : {}), PORT: String(port), HOST: '127.0.0.1' },
    logFile: join(RUN, `${target}-${++clusterStarts}.log`),
  });
  running.add(proc);
  const base = `http://127.0.0.1:${port}`;
  // Workers start one by one; readiness answers once the first listens, so wait until all do
  // (Vexil: one 'listening' log line per worker; requests are not logged, so info is quiet).
  await waitForHttp(`${base}${readyPath}`, { timeoutMs: 90_000, proc });
  const deadline = Date.now() + 90_000;
  const up = () => {
    const log = readFileSync(proc.logFile, 'utf8');
    return target === 'vexil' ? log.split('"msg":"listening"').length - 1 >= WORKERS : log.includes('worker(s) listening');
  };
  while (!up()) {
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`${target} cluster did not come up:\n${tail(proc.logFile)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, base };
}

/**
 * The node flags `npm start` runs Vexil with (package.json's start script, e.g.
 * `--max-semi-space-size=2`), so the benchmark measures the process users run: a young generation
 * of another size changes how often and how long scavenges pause the workers.
 */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const command = start.split('&&').map((c) => c.trim()).find((c) => c.endsWith('dist/src/main.js'));
  if (!command) throw new Error(`package.json's start script does not run dist/src/main.js: ${start}`);
  return command.split(/\s+/).slice(1, -1);
}

/**
 * `npm start`'s node flags, then: BENCH_CPU_PROF=dir (every Vexil process writes a V8 CPU profile
 * there when it exits; node:cluster workers inherit the primary's flags) and
 * BENCH_VEXIL_NODE_FLAGS="--trace-gc …" (extra node flags).
 */
function vexilNodeFlags(): string[] {
  const profileDir = process.env.BENCH_CPU_PROF;
  const extra = (process.env.BENCH_VEXIL_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  return [...startFlags(), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...extra];
}

async function stopCluster(c: { proc: Spawned } | null): Promise<void> {
  if (!c) return;
  await stop(c.proc, 10_000);
  running.delete(c.proc);
}

function vexilEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl(VEXIL_DB),
    VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
    // Without Redis, workers hear each other's admin writes through the primary (IPC); the poll is the safety net.
    VEXIL_SNAPSHOT_POLL_SECONDS: String(POLL_SECONDS),
    // Case 3 measures lookups in PostgreSQL, so no person cache in front of them. (Its default
    // LRU of 50,000 would not hit anyway: every one of the 100,000 ids recurs only after all others.)
    VEXIL_PERSON_CACHE_SIZE: '0',
    NODE_ENV: 'production',
    // Case 7 sends each request's client address in X-Forwarded-For (GeoIP); without a GeoIP
    // property in a project (cases 1–6), no lookup happens whatever the address.
    VEXIL_TRUST_PROXY: 'true',
    ...extra,
  };
}

/** Wall-clock span of every measured run, written to RUN/timeline.json (bench/http/tail-summary.ts reads it). */
const timeline: { name: string; startMs: number; endMs: number }[] = [];

let scriptCounter = 0;
/**
 * Writes a wrk script for `o`, runs a warm-up, then the measured run, reading the CPU time of
 * `server`'s processes and of `database`'s PostgreSQL backends around the measured run: CPU per
 * request hardly depends on how busy the rest of the machine is, unlike req/s.
 */
async function load(
  name: string,
  target: { url: string; server: Spawned; database?: string },
  o: Omit<ScriptOptions, 'threads'>,
  connections = CONNECTIONS,
  timing: { warmupS: number; durationS: number } = { warmupS: WARMUP_S, durationS: DURATION_S },
): Promise<Measured> {
  const script = join(RUN, `${++scriptCounter}-${name}.lua`);
  writeScript(script, { ...o, threads: WRK_THREADS });
  if (timing.warmupS > 0) await runWrk({ url: target.url, script, threads: WRK_THREADS, connections, durationS: timing.warmupS });
  const serverPids = withChildren(target.server.child.pid!);
  const dbPids = target.database ? postgresBackends(target.database) : [];
  const cpu0 = [cpuSeconds(serverPids), cpuSeconds(dbPids)];
  const startMs = Date.now();
  const r = await runWrk({ url: target.url, script, threads: WRK_THREADS, connections, durationS: timing.durationS });
  timeline.push({ name, startMs, endMs: Date.now() });
  const perRequest = (i: number, pids: number[]) => ((cpuSeconds(pids) - cpu0[i]!) / Math.max(1, r.requests)) * 1e6;
  const m: Measured = { ...r, serverCpuUs: perRequest(0, serverPids), dbCpuUs: perRequest(1, dbPids) };
  say(`  ${name}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, p99.9 ${r.p999Ms.toFixed(2)} ms, ` +
    `server CPU ${m.serverCpuUs.toFixed(0)} µs/req${target.database ? `, PostgreSQL ${m.dbCpuUs.toFixed(0)} µs/req` : ''}` +
    `${r.non2xx || r.socketErrors ? `, ${r.non2xx} non-2xx/3xx, ${r.socketErrors} socket errors` : ''}${o.rate ? `, ${r.late} late sends` : ''}`);
  return m;
}

function writeLines(name: string, lines: string[]): string {
  const file = join(RUN, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

async function main(): Promise<void> {
  const problems: string[] = [];
  rmSync(RUN, { recursive: true, force: true });
  mkdirSync(RUN, { recursive: true });
  cpSync(resolve(HERE, '..'), join(RUN, 'dist'), { recursive: true });

  const cpu = os.cpus()[0]?.model ?? 'unknown';
  say(`machine: ${os.availableParallelism()} cores (${cpu}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const wrkVersion = ensureWrk(say);
  const unleashVersion = ensureUnleash(UNLEASH_DIR, say);
  say(`Vexil runs as npm start does: node ${startFlags().join(' ')} dist/src/main.js`);
  say(`${wrkVersion}; unleash-server ${unleashVersion}; ${WORKERS} worker(s) per server; ${DURATION_S}s measured per case after ${WARMUP_S}s warm-up (cases 1–3: ${ROUNDS} rounds of ${SLICE_S}s slices); wrk -t${WRK_THREADS} -c${CONNECTIONS}`);

  const defs = buildFiftyFlagProject();
  const users = generateUsers(STORED_PERSONS);
  const propsUsers = users.slice(0, PROPS_USERS);

  // ── Vexil: fresh database, project, persons ───────────────────────────────────────────────
  await recreateDatabase(VEXIL_DB);
  say(`starting Vexil (${WORKERS} workers, fresh database ${VEXIL_DB})…`);
  let vexil: Awaited<ReturnType<typeof startCluster>> | null = await startCluster('vexil', vexilEnv(), '/_readiness');
  const project = await createProject(vexil.base, BOOTSTRAP_KEY, 'bench: 50 flags', defs);
  say(`created project ${project.id} with ${defs.cohorts.length} cohorts and ${defs.flags.length} flags; importing ${STORED_PERSONS} persons…`);
  const tImport = performance.now();
  const imported = await importPersons(vexil.base, BOOTSTRAP_KEY, project.id, users);
  const importS = (performance.now() - tImport) / 1000;
  say(`imported ${imported} persons in ${importS.toFixed(1)} s`);
  {
    // Settle the fresh tables now rather than let autovacuum do it during a measurement.
    await sqlOnce(databaseUrl(VEXIL_DB), 'VACUUM ANALYZE');
  }

  const flagsUrl = `${vexil.base}/flags?v=2`;
  const propsFile = writeLines('props-bodies.jsonl', propsUsers.map((u) => flagsBodyWithProperties(project.token, u)));
  const storedFile = writeLines('stored-bodies.jsonl', users.map((u) => flagsBodyIdOnly(project.token, u)));

  // Correctness before speed: all 50 flags, no errors, and stored lookups give the same answers
  // as full bodies. Workers learn of each other's writes by the revision poll (no Redis here),
  // so this waits for one poll period and then retries for a while.
  const sample = Array.from({ length: 100 }, (_, i) => propsUsers[(i * 197) % propsUsers.length]!);
  const check = () =>
    pool(sample, 4, async (u) => {
      const post = (body: string) => requestJson(flagsUrl, { method: 'POST', rawBody: body });
      const withProps = flagValues(await post(flagsBodyWithProperties(project.token, u)));
      const stored = flagValues(await post(flagsBodyIdOnly(project.token, u)));
      const count = Object.keys(withProps.values).length;
      if (count !== defs.flags.length || withProps.errors) throw new Error(`/flags answered ${count} flags (errors: ${withProps.errors}) for ${u.distinctId}`);
      if (stored.errors || !sameValues(withProps.values, stored.values)) throw new Error(`stored-person answer differs from the full-body answer for ${u.distinctId}`);
    });
  await new Promise((r) => setTimeout(r, (POLL_SECONDS + 0.2) * 1000));
  await retry(check, 10);
  say('checked 100 users: 50 flags each, stored-person answers equal full-body answers');

  // ── 1–3. baseline, case 2 and case 3 in alternating slices, both servers up throughout ───
  const postJson = { method: 'POST', path: '/flags?v=2', headers: { 'Content-Type': 'application/json' } } as const;
  say('starting the node:http baseline next to Vexil…');
  const baseline = await startCluster('baseline', {}, '/');
  const baselineTarget = { url: `${baseline.base}/flags?v=2`, server: baseline.proc };
  const vexilTarget = (url: string) => ({ url, server: vexil!.proc, database: VEXIL_DB });
  const baseSlices: Measured[] = [];
  const propsSlices: Measured[] = [];
  const storedSlices: Measured[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    // Warm-up in the first round only: later slices find warm servers.
    const timing = { warmupS: r === 1 ? WARMUP_S : 0, durationS: SLICE_S };
    say(`round ${r}/${ROUNDS}: case 1 (baseline), case 2 (properties in the request), case 3 (stored persons), ${SLICE_S}s each`);
    baseSlices.push(await load(`baseline-${r}`, baselineTarget, { ...postJson, linesFile: propsFile }, CONNECTIONS, timing));
    propsSlices.push(await load(`vexil-props-${r}`, vexilTarget(flagsUrl), { ...postJson, linesFile: propsFile }, CONNECTIONS, timing));
    storedSlices.push(await load(`vexil-stored-${r}`, vexilTarget(flagsUrl), { ...postJson, linesFile: storedFile }, CONNECTIONS, timing));
  }
  const baselineRun = combine(baseSlices);
  const propsRun = combine(propsSlices);
  const storedRun = combine(storedSlices);
  const propsRatios = propsSlices.map((m, i) => m.rps / baseSlices[i]!.rps);
  const storedRatios = storedSlices.map((m, i) => m.rps / baseSlices[i]!.rps);
  const baseRps = baseSlices.map((m) => m.rps);
  const drift = (Math.max(...baseRps) - Math.min(...baseRps)) / baselineRun.rps;
  if (drift > 0.15) problems.push(`the baseline moved ${(drift * 100).toFixed(0)}% between its slices: the machine's speed changed during the run`);

  // ── 6. fixed load at 70% of case 2's maximum, right after the rounds ─────────────────────
  // PACED_ROUNDS rounds of: Vexil flat out (its maximum now), Vexil at 70% of that, the node:http
  // baseline at the same rate. The target is the ratio of the two p99s per round (median): this
  // machine's speed and tail move from minute to minute (p99 5.4 to 56 ms for the same run), so a
  // rate fixed from earlier slices can find Vexil saturated, and an absolute p99 says little.
  say(`case 6: per round, Vexil's maximum (${PACED_PROBE_S}s), then Vexil and the baseline at ${PACED_FRACTION * 100}% of it (${PACED_SLICE_S}s each), ${PACED_CONNECTIONS} connections, ${PACED_ROUNDS} rounds`);
  const pacedSlices: Measured[] = [];
  const basePacedSlices: Measured[] = [];
  const matchedPacedSlices: Measured[] = [];
  const pacedRates: number[] = [];
  // The CPU-matched control: the baseline burning Vexil's extra CPU per request (case 2 minus
  // case 1, this run), paced at the same rate. At 70 % of Vexil's maximum any server with Vexil's
  // CPU cost queues more than the bare baseline; this control separates that queueing from
  // Vexil's own tail (GC, stalls, batching).
  const spinUs = Math.max(0, Math.round(propsRun.serverCpuUs - baselineRun.serverCpuUs));
  say(`case 6 control: a node:http baseline that burns ${spinUs} µs of CPU per request (Vexil's case 2 minus the baseline's)`);
  const cpuMatched = await startCluster('baseline', { BENCH_BASELINE_SPIN_US: String(spinUs) }, '/');
  const cpuMatchedTarget = { url: `${cpuMatched.base}/flags?v=2`, server: cpuMatched.proc };
  for (let r = 1; r <= PACED_ROUNDS; r++) {
    const probe = await load(`vexil-max-${r}`, vexilTarget(flagsUrl), { ...postJson, linesFile: propsFile }, CONNECTIONS, { warmupS: 0, durationS: PACED_PROBE_S });
    const roundRate = Math.round(probe.rps * PACED_FRACTION);
    pacedRates.push(roundRate);
    const timing = { warmupS: r === 1 ? WARMUP_S : 0, durationS: PACED_SLICE_S };
    const paced = { ...postJson, linesFile: propsFile, rate: roundRate };
    pacedSlices.push({ ...(await load(`vexil-70pct-${r}`, vexilTarget(flagsUrl), paced, PACED_CONNECTIONS, timing)), rate: roundRate });
    basePacedSlices.push({ ...(await load(`baseline-paced-${r}`, baselineTarget, paced, PACED_CONNECTIONS, timing)), rate: roundRate });
    matchedPacedSlices.push({ ...(await load(`baseline-cpu-matched-${r}`, cpuMatchedTarget, paced, PACED_CONNECTIONS, timing)), rate: roundRate });
  }
  await stopCluster(cpuMatched);
  const matchedPaced = combine(matchedPacedSlices);
  const p99RatiosToMatched = pacedSlices.map((m, i) => m.p99Ms / matchedPacedSlices[i]!.p99Ms);
  const p99RatioToMatched = median(p99RatiosToMatched);
  const rate = Math.round(pacedRates.reduce((a, b) => a + b, 0) / pacedRates.length);
  const pacedRun = combine(pacedSlices);
  const baselinePaced = combine(basePacedSlices);
  const p99Ratios = pacedSlices.map((m, i) => m.p99Ms / basePacedSlices[i]!.p99Ms);
  const p99Ratio = median(p99Ratios);
  // A slice that fell short of its rate was saturated (the machine slowed under it): its p99 is
  // queueing, not the tail at 70 %, and the run says so.
  const saturated = pacedSlices.filter((m) => m.rps / m.rate! < 0.97).length;
  if (saturated > 0) problems.push(`case 6: ${saturated} of ${PACED_ROUNDS} Vexil slices fell short of their fixed rate (the machine slowed under them): the p99 ratio is inconclusive`);

  // ── 4. local evaluation definitions ──────────────────────────────────────────────────────
  say('case 4: GET /api/feature_flag/local_evaluation');
  const defsPath = `/api/feature_flag/local_evaluation?token=${project.token}&send_cohorts`;
  const defsRes = await fetch(`${vexil.base}${defsPath}`, { headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` } });
  const defsBody = (await defsRes.json()) as { flags: unknown[] };
  const etag = defsRes.headers.get('etag');
  if (defsRes.status !== 200 || defsBody.flags.length !== defs.flags.length || !etag) throw new Error(`local_evaluation answered ${defsRes.status} with ${defsBody.flags?.length} flags, etag ${etag}`);
  const notModified = await fetch(`${vexil.base}${defsPath}`, { headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'if-none-match': etag } });
  if (notModified.status !== 304) throw new Error(`If-None-Match answered ${notModified.status}, not 304`);
  const defsBytes = JSON.stringify(defsBody).length;
  const localRun = await load('local-eval', vexilTarget(`${vexil.base}${defsPath}`), { method: 'GET', path: defsPath, headers: { Authorization: `Bearer ${BOOTSTRAP_KEY}` } });
  const local304Run = await load('local-eval-304', vexilTarget(`${vexil.base}${defsPath}`), { method: 'GET', path: defsPath, headers: { Authorization: `Bearer ${BOOTSTRAP_KEY}`, 'If-None-Match': etag } });

  // ── 7. GeoIP off, unused, disabled, lookup (bench/http/geoip-case.ts) ─────────────────────
  const geoip = await measureGeoip({
    vexil,
    baseline,
    startVexil: (env) => startCluster('vexil', vexilEnv(env), '/_readiness'),
    stopServer: stopCluster,
    load,
    connections: CONNECTIONS,
    database: VEXIL_DB,
    adminKey: BOOTSTRAP_KEY,
    defs,
    plainToken: project.token,
    users: propsUsers,
    runDir: RUN,
    say,
  });

  // ── 6''. control: the baseline at 70% of its own maximum ──────────────────────────────────
  say(`case 6 control: node:http baseline at ${PACED_FRACTION * 100}% of its own maximum`);
  const ownRate = Math.round(baselineRun.rps * PACED_FRACTION);
  const baselineOwnPaced: Measured = {
    ...(await load('baseline-70pct', baselineTarget, { ...postJson, linesFile: propsFile, rate: ownRate }, PACED_CONNECTIONS)),
    rate: ownRate,
  };
  await stopCluster(baseline);
  await stopCluster(vexil);
  vexil = null;

  // ── 5. Unleash ───────────────────────────────────────────────────────────────────────────
  await recreateDatabase(UNLEASH_DB);
  say(`case 5: unleash-server ${unleashVersion} (${WORKERS} workers, fresh database ${UNLEASH_DB})…`);
  let unleash: Awaited<ReturnType<typeof startCluster>> | null = await startCluster(
    'unleash',
    { BENCH_UNLEASH_DIR: UNLEASH_DIR, BENCH_UNLEASH_DB_URL: databaseUrl(UNLEASH_DB), NODE_ENV: 'production', LOG_LEVEL: 'warn' },
    '/health',
  );
  const toggles = await createUnleashProject(unleash.base, defs);
  // Every worker must serve the new toggles: the answers for sample users must equal what
  // unleash-client computes offline from the same definitions, on fresh connections.
  const peer = await createUnleashPeer(defs);
  const expected = async (u: BenchUser) => {
    const values = await peer.values(u);
    return Object.entries(values).filter(([, v]) => v !== false).map(([k, v]) => (typeof v === 'string' ? `${k}=${v}` : k)).sort();
  };
  const checkUsers = propsUsers.slice(0, 12);
  const want = await Promise.all(checkUsers.map(expected));
  await peer.close();
  let mismatches = -1;
  for (const until = Date.now() + 20_000; Date.now() < until; ) {
    const got = await Promise.all(checkUsers.map((u) => frontendAnswer(unleash!.port, u)));
    mismatches = got.filter((g, i) => g.join() !== want[i]!.join()).length;
    if (mismatches === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (mismatches !== 0) problems.push(`Unleash frontend answers differ from unleash-client's for ${mismatches}/${checkUsers.length} check users`);
  say(`created ${toggles} toggles; frontend answers ${mismatches === 0 ? 'equal' : 'DIFFER from'} unleash-client's offline evaluation for ${checkUsers.length} users`);
  const unleashFile = writeLines('unleash-targets.txt', propsUsers.map(frontendTarget));
  const unleashRun = await load('unleash-frontend', { url: `${unleash.base}/api/frontend`, server: unleash.proc, database: UNLEASH_DB }, { method: 'GET', path: '/api/frontend', linesFile: unleashFile, headers: { Authorization: UNLEASH_FRONTEND_TOKEN } });
  await stopCluster(unleash);
  unleash = null;

  // ── scale: memory, rebuild, startup ──────────────────────────────────────────────────────
  say(`scale: creating ${SCALE_PROJECTS} projects × ${SCALE_COPIES * defs.flags.length} flags and one of ${REBUILD_COPIES * defs.flags.length} flags…`);
  const scaleProjects = await createScaleProjects(databaseUrl(VEXIL_DB), defs, SCALE_PROJECTS, SCALE_COPIES, 'bench: scale');
  const [big] = await createScaleProjects(databaseUrl(VEXIL_DB), defs, 1, REBUILD_COPIES, 'bench: rebuild');
  const rebuild = await measureRebuild(databaseUrl(VEXIL_DB), big!.id, REBUILD_ROUNDS);
  say(`  rebuild of ${rebuild.flags} flags: ${rebuild.rebuildMs.toFixed(1)} ms (compile alone ${rebuild.compileMs.toFixed(1)} ms)`);

  const startups: number[] = [];
  let idleRss = 0;
  let loadedRss = 0;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const proc = spawnNode([...startFlags(), join(RUN, 'dist', 'src', 'main.js')], { env: { ...process.env, ...vexilEnv(), VEXIL_WORKERS: '1', PORT: String(port), HOST: '127.0.0.1' }, logFile: join(RUN, 'vexil-single.log') });
    running.add(proc);
    const tSpawn = performance.now();
    await waitForHttp(`http://127.0.0.1:${port}/_readiness`, { timeoutMs: 30_000, everyMs: 5, proc });
    startups.push(performance.now() - tSpawn);
    if (i === 2) {
      await new Promise((r) => setTimeout(r, 500));
      idleRss = rssMb(proc.child.pid!) ?? 0;
      const u = propsUsers[0]!;
      await pool(scaleProjects, 4, async (p) => {
        const answer = flagValues(await requestJson(`http://127.0.0.1:${port}/flags?v=2`, { method: 'POST', rawBody: flagsBodyWithProperties(p.token, u) }));
        if (Object.keys(answer.values).length !== p.flags) throw new Error(`scale project ${p.id}: ${Object.keys(answer.values).length} flags, expected ${p.flags}`);
      });
      await new Promise((r) => setTimeout(r, 1000));
      loadedRss = rssMb(proc.child.pid!) ?? 0;
    }
    await stop(proc);
    running.delete(proc);
  }
  startups.sort((a, b) => a - b);
  const startupMs = startups[1]!;
  say(`  start to ready: ${startups.map((s) => s.toFixed(0)).join(', ')} ms; RSS idle ${idleRss.toFixed(0)} MiB, with ${SCALE_PROJECTS}×${SCALE_COPIES * defs.flags.length} loaded ${loadedRss.toFixed(0)} MiB`);

  // ── report ───────────────────────────────────────────────────────────────────────────────
  const geoipRuns = Object.entries(geoip.variants).map(([v, r]) => [`GeoIP ${v}`, r] as const);
  for (const [name, r] of [['baseline', baselineRun], ['baseline at the fixed rate', baselinePaced], ['baseline at 70% of its own maximum', baselineOwnPaced], ['vexil', propsRun], ['vexil stored', storedRun], ['local_evaluation', localRun], ['local_evaluation 304', local304Run], ['vexil 70%', pacedRun], ['unleash', unleashRun], ...geoipRuns] as const) {
    if (r.non2xx || r.socketErrors) problems.push(`${name}: ${r.non2xx} non-2xx/3xx responses, ${r.socketErrors} socket errors`);
  }
  for (const [name, r, want] of [['baseline', baselinePaced, rate], ['baseline at 70% of its own maximum', baselineOwnPaced, baselineOwnPaced.rate!]] as const) {
    if (r.rps / want < 0.97) problems.push(`${name} at the fixed rate reached ${((r.rps / want) * 100).toFixed(1)}% of ${want} req/s (${r.late} late sends)`);
  }
  const loads = loadSamples.length ? loadSamples : [os.loadavg()[0]!];
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const cpuRatio = (r: Measured) => baselineRun.serverCpuUs / (r.serverCpuUs + r.dbCpuUs);
  const targets = {
    ratio_to_baseline_ge_0_5: median(propsRatios) >= 0.5,
    ratio_to_unleash_ge_10: propsRun.rps / unleashRun.rps >= 10,
    p99_ratio_to_baseline_at_same_rate_le_1_5: p99Ratio <= P99_RATIO_TARGET,
    stored_ratio_to_baseline_ge_0_3: median(storedRatios) >= 0.3,
    geoip_lookup_ratio_to_baseline_ge_0_5: geoip.lookupRatioToBaseline >= 0.5,
  };
  const result = {
    bench: 'http',
    workers: WORKERS,
    duration_s: DURATION_S,
    rounds: ROUNDS,
    slice_s: SLICE_S,
    baseline_rps: round(baselineRun.rps, 0),
    baseline_rps_rounds: baseRps.map((x) => round(x, 0)),
    baseline_p50_ms: round(baselineRun.p50Ms),
    baseline_p99_ms: round(baselineRun.p99Ms),
    baseline_cpu_us_per_req: round(baselineRun.serverCpuUs, 1),
    vexil_rps: round(propsRun.rps, 0),
    vexil_p50_ms: round(propsRun.p50Ms),
    vexil_p99_ms: round(propsRun.p99Ms),
    vexil_cpu_us_per_req: round(propsRun.serverCpuUs, 1),
    ratio_to_baseline: round(median(propsRatios), 3),
    ratio_to_baseline_rounds: propsRatios.map((x) => round(x, 3)),
    cpu_ratio_to_baseline: round(cpuRatio(propsRun), 3),
    vexil_stored_rps: round(storedRun.rps, 0),
    vexil_stored_p50_ms: round(storedRun.p50Ms),
    vexil_stored_p99_ms: round(storedRun.p99Ms),
    vexil_stored_cpu_us_per_req: round(storedRun.serverCpuUs, 1),
    vexil_stored_pg_cpu_us_per_req: round(storedRun.dbCpuUs, 1),
    stored_ratio_to_baseline: round(median(storedRatios), 3),
    stored_ratio_to_baseline_rounds: storedRatios.map((x) => round(x, 3)),
    stored_cpu_ratio_to_baseline: round(cpuRatio(storedRun), 3),
    local_eval_rps: round(localRun.rps, 0),
    local_eval_p99_ms: round(localRun.p99Ms),
    local_eval_cpu_us_per_req: round(localRun.serverCpuUs, 1),
    local_eval_pg_cpu_us_per_req: round(localRun.dbCpuUs, 1),
    local_eval_body_bytes: defsBytes,
    local_eval_304_rps: round(local304Run.rps, 0),
    local_eval_304_p99_ms: round(local304Run.p99Ms),
    local_eval_304_cpu_us_per_req: round(local304Run.serverCpuUs, 1),
    unleash_rps: round(unleashRun.rps, 0),
    unleash_p50_ms: round(unleashRun.p50Ms),
    unleash_p99_ms: round(unleashRun.p99Ms),
    unleash_cpu_us_per_req: round(unleashRun.serverCpuUs, 1),
    unleash_pg_cpu_us_per_req: round(unleashRun.dbCpuUs, 1),
    ratio_to_unleash: round(propsRun.rps / unleashRun.rps, 2),
    cpu_ratio_to_unleash: round((unleashRun.serverCpuUs + unleashRun.dbCpuUs) / propsRun.serverCpuUs, 2),
    rate_at_70pct: rate,
    achieved_rps_at_70pct: round(pacedRun.rps, 0),
    p50_ms_at_70pct: round(pacedRun.p50Ms),
    p99_ms_at_70pct: round(pacedRun.p99Ms),
    p999_ms_at_70pct: round(pacedRun.p999Ms),
    late_sends_at_70pct: pacedRun.late,
    p99_ratio_to_baseline_at_same_rate: round(p99Ratio, 3),
    p99_ratio_to_baseline_at_same_rate_rounds: p99Ratios.map((x) => round(x, 3)),
    cpu_matched_spin_us: spinUs,
    cpu_matched_p99_ms_at_same_rate: round(matchedPaced.p99Ms),
    cpu_matched_cpu_us_per_req: round(matchedPaced.serverCpuUs, 1),
    p99_ratio_to_cpu_matched_baseline: round(p99RatioToMatched, 3),
    p99_ratio_to_cpu_matched_baseline_rounds: p99RatiosToMatched.map((x) => round(x, 3)),
    p99_ms_at_70pct_rounds: pacedSlices.map((m) => round(m.p99Ms)),
    rate_at_70pct_rounds: pacedRates,
    achieved_rps_at_70pct_rounds: pacedSlices.map((m) => round(m.rps, 0)),
    saturated_rounds_at_70pct: saturated,
    baseline_p99_ms_at_same_rate_rounds: basePacedSlices.map((m) => round(m.p99Ms)),
    paced_rounds: PACED_ROUNDS,
    paced_slice_s: PACED_SLICE_S,
    baseline_p50_ms_at_same_rate: round(baselinePaced.p50Ms),
    baseline_p99_ms_at_same_rate: round(baselinePaced.p99Ms),
    baseline_p999_ms_at_same_rate: round(baselinePaced.p999Ms),
    baseline_rate_at_70pct_of_own_max: baselineOwnPaced.rate,
    baseline_p50_ms_at_70pct_of_own_max: round(baselineOwnPaced.p50Ms),
    baseline_p99_ms_at_70pct_of_own_max: round(baselineOwnPaced.p99Ms),
    baseline_p999_ms_at_70pct_of_own_max: round(baselineOwnPaced.p999Ms),
    baseline_late_sends_at_70pct_of_own_max: baselineOwnPaced.late,
    ...geoipJson(geoip),
    rss_mb_idle: round(idleRss, 1),
    rss_mb_100x200: round(loadedRss, 1),
    rebuild_ms_1000_flags: round(rebuild.rebuildMs),
    compile_ms_1000_flags: round(rebuild.compileMs),
    startup_ms: round(startupMs, 0),
    persons_import_s: round(importS, 1),
    load_avg_min: round(Math.min(...loads)),
    load_avg_max: round(Math.max(...loads)),
    load_avg_mean: round(loads.reduce((a, b) => a + b, 0) / loads.length),
    targets,
    problems,
    total_s: round((performance.now() - t0) / 1000, 1),
    vexil_node_flags: startFlags(),
    node: process.version,
    cpu,
    cores: os.availableParallelism(),
    wrk: wrkVersion,
    unleash_version: unleashVersion,
  };

  const row = (c: string[]) => `| ${c.join(' | ')} |`;
  const f = (x: number, d = 2) => x.toFixed(d);
  const ok = (b: boolean) => (b ? 'met' : 'MISSED');
  const cpuCell = (r: Measured) => (r.dbCpuUs > 0.5 ? `${f(r.serverCpuUs, 0)} + PG ${f(r.dbCpuUs, 0)}` : f(r.serverCpuUs, 0));
  const line = (name: string, r: Measured, ratio: string, target: string) =>
    row([name, f(r.rps, 0), f(r.p50Ms), f(r.p99Ms), f(r.p999Ms), cpuCell(r), ratio, target]);
  const lines = [
    row(['case', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/req', 'ratio', 'target']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---', '---']),
    line(`1. node:http baseline, POST → 1 KB JSON (${ROUNDS} slices of ${SLICE_S} s: ${baseRps.map((x) => f(x, 0)).join(', ')} req/s)`, baselineRun, '1', ''),
    line('2. Vexil POST /flags?v=2, properties in body', propsRun, `${f(result.ratio_to_baseline)} × baseline (rounds ${propsRatios.map((x) => f(x)).join(', ')}; CPU: ${f(result.cpu_ratio_to_baseline)})`, `≥ 0.5: ${ok(targets.ratio_to_baseline_ge_0_5)}`),
    line(`3. Vexil POST /flags?v=2, distinct_id only, ${STORED_PERSONS / 1000}k stored persons`, storedRun, `${f(result.stored_ratio_to_baseline)} × baseline (rounds ${storedRatios.map((x) => f(x)).join(', ')}; CPU: ${f(result.stored_cpu_ratio_to_baseline)})`, `≥ 0.3: ${ok(targets.stored_ratio_to_baseline_ge_0_3)}`),
    line(`4a. GET local_evaluation (200, ${defsBytes} B)`, localRun, `${f(localRun.rps / baselineRun.rps)} × baseline`, ''),
    line('4b. GET local_evaluation, If-None-Match (304)', local304Run, `${f(local304Run.rps / baselineRun.rps)} × baseline`, ''),
    line(`5. Unleash ${unleashVersion} GET /api/frontend`, unleashRun, `Vexil = ${f(result.ratio_to_unleash, 1)} × Unleash (CPU: ${f(result.cpu_ratio_to_unleash, 1)})`, `≥ 10: ${ok(targets.ratio_to_unleash_ge_10)}`),
    line(`6. Vexil case 2 at 70% of its maximum of the round (${pacedRates.join(', ')} req/s), ${PACED_ROUNDS} slices of ${PACED_SLICE_S} s`, pacedRun, `p99 ${f(p99Ratio)} × baseline's at the same rate (rounds ${p99Ratios.map((x) => f(x)).join(', ')}); ${pacedRun.late} late sends`, `≤ ${P99_RATIO_TARGET}: ${ok(targets.p99_ratio_to_baseline_at_same_rate_le_1_5)}`),
    line(`6'. baseline at the same rates`, baselinePaced, `${baselinePaced.late} late sends`, ''),
    line(`6'''. CPU-matched control: the baseline burning ${spinUs} µs more CPU per request, at the same rates`, matchedPaced, `Vexil's p99 = ${f(p99RatioToMatched)} × this control's (rounds ${p99RatiosToMatched.map((x) => f(x)).join(', ')}); ${matchedPaced.late} late sends`, ''),
    line(`6''. baseline at 70% of its own maximum, ${baselineOwnPaced.rate} req/s (control: this machine's own tail)`, baselineOwnPaced, `${baselineOwnPaced.late} late sends`, ''),
    line(`7a. GeoIP off: a fresh Vexil node with no GeoIP database, case 2's project, X-Forwarded-For (${geoip.addresses} addresses)`, geoip.variants.off, `${f(geoip.variants.off.rps / geoip.baseline.rps)} × baseline`, ''),
    line('7b. GeoIP unused: its twin node with the database open, project without $geoip_ properties', geoip.variants.unused, `${f(geoip.unusedRatio, 3)} × off (rounds ${geoip.unusedRatioRounds.map((x) => f(x, 3)).join(', ')}; CPU: ${f(geoip.unusedCpuRatio, 3)})`, ''),
    line('7c. GeoIP disabled: + a $geoip_country_code flag, geoip_disable, country in the body', geoip.variants.disabled, `${f(geoip.variants.disabled.rps / geoip.baseline.rps)} × baseline`, ''),
    line('7d. GeoIP lookup: the same project, a lookup per request (every one a cache miss)', geoip.variants.lookup, `${f(geoip.lookupRatio, 3)} × disabled (rounds ${geoip.lookupRatioRounds.map((x) => f(x, 3)).join(', ')}; CPU: ${f(geoip.lookupCpuRatio, 3)}); ${f(geoip.lookupRatioToBaseline)} × baseline`, `≥ 0.5 × baseline: ${ok(targets.geoip_lookup_ratio_to_baseline_ge_0_5)}`),
    '',
    row(['also measured', 'value']),
    row(['---', '---:']),
    row([`RSS, one Vexil process, ${SCALE_PROJECTS} projects × ${SCALE_COPIES * defs.flags.length} flags loaded (idle: ${f(idleRss, 0)} MiB)`, `${f(loadedRss, 0)} MiB`]),
    row([`snapshot rebuild, ${rebuild.flags} flags (read + compile; compile alone ${f(rebuild.compileMs, 1)} ms)`, `${f(rebuild.rebuildMs, 1)} ms`]),
    row(['start to ready (spawn → /_readiness 200), median of 3', `${f(startupMs, 0)} ms`]),
    row([`bulk import of ${STORED_PERSONS} persons (POST …/persons/bulk/)`, `${f(importS, 1)} s`]),
    row(['1-min load average during the run (min / mean / max)', `${f(result.load_avg_min)} / ${f(result.load_avg_mean)} / ${f(result.load_avg_max)}`]),
  ];
  writeFileSync(join(process.env.BENCH_TAIL_DIR ?? RUN, 'timeline.json'), JSON.stringify(timeline));
  say(`done in ${elapsed()}${problems.length ? `; problems: ${problems.join('; ')}` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(result)}\n`);
}

main()
  .catch(async (err: unknown) => {
    process.stderr.write(`bench:http failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    clearInterval(loadTimer);
  });
