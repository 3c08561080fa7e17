/**
 * @module bench/http/geoip-case
 * Case 7 of `npm run bench:http` (issue 14: "the lookup adds no measurable cost to requests that
 * do not need it, and stays within the HTTP benchmark's targets when it is on"): `POST /flags?v=2`
 * flat out over HTTP in four variants, measured in GEOIP_ROUNDS alternating rounds together with
 * the node:http baseline, so the machine's drift hits them alike:
 *  - off: a Vexil started for this case with no GeoIP database (VEXIL_GEOIP_DB names no file),
 *    case 2's 50-flag project;
 *  - unused: its twin, started at the same time with the bundled database, the same project: it
 *    mentions no `$geoip_` property, so no lookup. Twins, so that the two differ in GeoIP only and
 *    not in what the process has served before (JIT and heap state: the benchmark's own node
 *    has seen four body shapes by now, and first runs measured that instead);
 *  - disabled (the benchmark's Vexil): a project of the 50 flags plus one on `$geoip_country_code`, bodies with
 *    `geoip_disable` and the country in the person properties (no lookup);
 *  - lookup: that project, no `geoip_disable`, no country in the body: a lookup per request from
 *    the client IP in `X-Forwarded-For` (VEXIL_TRUST_PROXY), which decides the GeoIP flag.
 * Every variant sends the same users and the same `X-Forwarded-For` addresses: GEOIP_ADDRESSES
 * public IPv4 addresses the database knows, rotated with the users. That is more than Vexil's
 * 10,000-entry address cache holds, so in rotation every lookup misses it: the worst case.
 * Before measuring, sample answers are checked: `lookup` and `disabled` must agree, and the GeoIP
 * flag must follow the country. Bench:geoip (bench/geoip.bench.ts) times the same variants in
 * process, without HTTP.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { defaultGeoipDbPath, openGeoipDb } from '../../src/geoip/geoip-db.ts';
import type { ProjectDefs } from '../../src/engine/index.ts';
import { GEOIP_FLAG_COUNTRIES, GEOIP_FLAG_KEY, withGeoipFlag, type BenchUser } from '../fixtures/fifty-flag-project.ts';
import { ipsWithCountry } from '../fixtures/public-ips.ts';
import { combine, median, type Measured } from './measured.ts';
import type { Spawned } from './proc.ts';
import { createProject, flagsBodyWithProperties, flagValues, pool, requestJson, retry } from './vexil-admin.ts';
import type { ScriptOptions } from './wrk.ts';

/** Rounds of the five slices (baseline, off, unused, disabled, lookup). */
const GEOIP_ROUNDS = 3;
const GEOIP_SLICE_S = 2;
const GEOIP_WARMUP_S = 1;
/** Client addresses in rotation: twice Vexil's GeoIP address cache (geoip/geoip-db.ts, CACHE_MAX). */
const GEOIP_ADDRESSES = 20_000;
const VARIANTS = ['off', 'unused', 'disabled', 'lookup'] as const;
type Variant = (typeof VARIANTS)[number];

interface Server {
  base: string;
  proc: Spawned;
}

export interface GeoipCaseDeps {
  /** The benchmark's Vexil: bundled GeoIP database, VEXIL_TRUST_PROXY=true. */
  vexil: Server;
  baseline: Server;
  /** Starts a Vexil like the benchmark's, on the same database, with `env` added. */
  startVexil(env: NodeJS.ProcessEnv): Promise<Server>;
  stopServer(server: Server): Promise<void>;
  /** The benchmark's measured run (warm-up, wrk, CPU per request). */
  load(name: string, target: { url: string; server: Spawned; database?: string }, o: Omit<ScriptOptions, 'threads'>, connections: number, timing: { warmupS: number; durationS: number }): Promise<Measured>;
  connections: number;
  database: string;
  adminKey: string;
  defs: ProjectDefs;
  /** Token of the benchmark's 50-flag project (no `$geoip_` property). */
  plainToken: string;
  users: readonly BenchUser[];
  runDir: string;
  say(line: string): void;
}

export interface GeoipCaseResult {
  baseline: Measured;
  variants: Record<Variant, Measured>;
  /** Median over rounds of the per-round req/s ratio. */
  unusedRatio: number;
  lookupRatio: number;
  lookupRatioToBaseline: number;
  unusedRatioRounds: number[];
  lookupRatioRounds: number[];
  /** Server CPU per request, unused ÷ off and lookup ÷ disabled (steadier than req/s on a shared machine). */
  unusedCpuRatio: number;
  lookupCpuRatio: number;
  /** Addresses known to the database, in rotation. */
  addresses: number;
}

/** Runs case 7; see the module comment. */
export async function measureGeoip(deps: GeoipCaseDeps): Promise<GeoipCaseResult> {
  const db = await openGeoipDb(defaultGeoipDbPath());
  const ips = ipsWithCountry(db, GEOIP_ADDRESSES);
  const geo = await createProject(deps.vexil.base, deps.adminKey, 'bench: 50 flags + GeoIP', withGeoipFlag(deps.defs));
  const ipOf = (i: number) => ips[i % ips.length]!;
  const bodies: Record<Variant, (u: BenchUser, i: number) => string> = {
    off: (u) => flagsBodyWithProperties(deps.plainToken, u, { geoipDisable: false }),
    unused: (u) => flagsBodyWithProperties(deps.plainToken, u, { geoipDisable: false }),
    disabled: (u, i) => flagsBodyWithProperties(geo.token, u, { extraProperties: { $geoip_country_code: ipOf(i).country } }),
    lookup: (u) => flagsBodyWithProperties(geo.token, u, { geoipDisable: false }),
  };
  const files = Object.fromEntries(
    VARIANTS.map((v) => {
      const file = join(deps.runDir, `geoip-${v}.tsv`);
      writeFileSync(file, `${deps.users.map((u, i) => `${ipOf(i).ip}\t${bodies[v](u, i)}`).join('\n')}\n`);
      return [v, file];
    }),
  ) as Record<Variant, string>;

  deps.say(`case 7: GeoIP — starting two more Vexil nodes, without and with a GeoIP database…`);
  const off = await deps.startVexil({ VEXIL_GEOIP_DB: join(deps.runDir, 'no-such-geoip.mmdb') });
  const unused = await deps.startVexil({});
  try {
    const servers: Record<Variant, Server> = { off, unused, disabled: deps.vexil, lookup: deps.vexil };
    await checkAnswers(deps, servers, geo.token, bodies, ipOf);
    const post = { method: 'POST', path: '/flags?v=2', headers: { 'Content-Type': 'application/json' }, lineHeader: 'X-Forwarded-For' } as const;
    const slices: Record<Variant | 'baseline', Measured[]> = { baseline: [], off: [], unused: [], disabled: [], lookup: [] };
    deps.say(`case 7: ${GEOIP_ROUNDS} rounds of baseline, GeoIP off, unused, disabled, lookup (${GEOIP_SLICE_S}s each; ${ips.length} client addresses)`);
    for (let r = 1; r <= GEOIP_ROUNDS; r++) {
      // Warm-up in the first round for every Vexil variant (two nodes are new, the project of the others is).
      const timing = (warm: boolean) => ({ warmupS: r === 1 && warm ? GEOIP_WARMUP_S : 0, durationS: GEOIP_SLICE_S });
      const baseTarget = { url: `${deps.baseline.base}/flags?v=2`, server: deps.baseline.proc };
      slices.baseline.push(await deps.load(`baseline-geoip-${r}`, baseTarget, { ...post, linesFile: files.lookup }, deps.connections, timing(false)));
      for (const v of VARIANTS) {
        const target = { url: `${servers[v].base}/flags?v=2`, server: servers[v].proc, database: deps.database };
        slices[v].push(await deps.load(`geoip-${v}-${r}`, target, { ...post, linesFile: files[v] }, deps.connections, timing(true)));
      }
    }
    const perRound = (a: Variant, b: Variant | 'baseline') => slices[a].map((m, i) => m.rps / slices[b][i]!.rps);
    const unusedRatioRounds = perRound('unused', 'off');
    const lookupRatioRounds = perRound('lookup', 'disabled');
    const variants = Object.fromEntries(VARIANTS.map((v) => [v, combine(slices[v])])) as Record<Variant, Measured>;
    return {
      baseline: combine(slices.baseline),
      variants,
      unusedCpuRatio: variants.unused.serverCpuUs / variants.off.serverCpuUs,
      lookupCpuRatio: variants.lookup.serverCpuUs / variants.disabled.serverCpuUs,
      unusedRatio: median(unusedRatioRounds),
      lookupRatio: median(lookupRatioRounds),
      lookupRatioToBaseline: median(perRound('lookup', 'baseline')),
      unusedRatioRounds,
      lookupRatioRounds,
      addresses: ips.length,
    };
  } finally {
    await deps.stopServer(off);
    await deps.stopServer(unused);
  }
}

/**
 * Sample users through every variant: 51 flags (50 without GeoIP), no errors, `lookup` equal to
 * `disabled` and the GeoIP flag on exactly for its countries, `off` equal to `unused`. Workers
 * hear of the new project by the revision poll, so this retries for a while.
 */
async function checkAnswers(deps: GeoipCaseDeps, servers: Record<Variant, Server>, geoToken: string, bodies: Record<Variant, (u: BenchUser, i: number) => string>, ipOf: (i: number) => { ip: string; country: string }): Promise<void> {
  const sample = Array.from({ length: 60 }, (_, k) => (k * 331) % deps.users.length);
  const ask = async (server: Server, v: Variant, i: number) =>
    flagValues(await requestJson(`${server.base}/flags?v=2`, { method: 'POST', headers: { 'x-forwarded-for': ipOf(i).ip }, rawBody: bodies[v](deps.users[i]!, i) }));
  const check = () =>
    pool(sample, 4, async (i) => {
      const [o, u, d, l] = await Promise.all(VARIANTS.map((v) => ask(servers[v], v, i)));
      const n = deps.defs.flags.length;
      if ([o, u, d, l].some((a) => a.errors) || Object.keys(o.values).length !== n || Object.keys(l.values).length !== n + 1) throw new Error(`GeoIP case: unexpected answer for user ${i}`);
      const want = GEOIP_FLAG_COUNTRIES.includes(ipOf(i).country);
      if (l.values[GEOIP_FLAG_KEY] !== want) throw new Error(`GeoIP case: ${GEOIP_FLAG_KEY} is ${l.values[GEOIP_FLAG_KEY]} for ${ipOf(i).ip} (${ipOf(i).country}), expected ${want} (token ${geoToken})`);
      if (JSON.stringify(l.values) !== JSON.stringify(d.values) || JSON.stringify(o.values) !== JSON.stringify(u.values)) throw new Error(`GeoIP case: variants disagree for user ${i}`);
    });
  await retry(check, 12);
  const on = sample.filter((i) => GEOIP_FLAG_COUNTRIES.includes(ipOf(i).country)).length;
  deps.say(`checked ${sample.length} users: lookup answers equal geoip_disable + country answers; ${GEOIP_FLAG_KEY} on for ${on} (GB/DE addresses)`);
}

/** The case's JSON fields (`geoip_*`). */
export function geoipJson(g: GeoipCaseResult): Record<string, unknown> {
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const out: Record<string, unknown> = { geoip_addresses: g.addresses, geoip_rounds: GEOIP_ROUNDS, geoip_slice_s: GEOIP_SLICE_S, geoip_baseline_rps: round(g.baseline.rps, 0) };
  for (const v of VARIANTS) {
    const m = g.variants[v];
    out[`geoip_${v}_rps`] = round(m.rps, 0);
    out[`geoip_${v}_p50_ms`] = round(m.p50Ms);
    out[`geoip_${v}_p99_ms`] = round(m.p99Ms);
    out[`geoip_${v}_cpu_us_per_req`] = round(m.serverCpuUs, 1);
  }
  return {
    ...out,
    geoip_unused_ratio: round(g.unusedRatio, 3),
    geoip_unused_ratio_rounds: g.unusedRatioRounds.map((x) => round(x, 3)),
    geoip_unused_cpu_ratio: round(g.unusedCpuRatio, 3),
    geoip_lookup_ratio: round(g.lookupRatio, 3),
    geoip_lookup_ratio_rounds: g.lookupRatioRounds.map((x) => round(x, 3)),
    geoip_lookup_cpu_ratio: round(g.lookupCpuRatio, 3),
    geoip_lookup_ratio_to_baseline: round(g.lookupRatioToBaseline, 3),
  };
}
