/**
 * @module bench/geoip.bench
 * `npm run bench:geoip`: what GeoIP adds to the server time of `POST /flags?v=2` (the shared
 * 50-flag project, every property in the body, embedded store, `inject()`), in four variants
 * measured in alternating rounds so the machine's drift hits them alike:
 *  - off: no GeoIP database (the server as before GeoIP existed);
 *  - unused: the bundled database open, the project mentions no `$geoip_` property (no lookup);
 *  - disabled: the project plus one `$geoip_country_code` flag, the body sets `geoip_disable`;
 *  - lookup: the same project, a lookup per request from a trusted X-Forwarded-For, drawn from
 *    20,000 public IPv4 addresses (more than the 10,000-entry caches: misses included).
 * In the last two the body also carries `$geoip_country_code` (which wins over the lookup), so
 * every flag is decided from the request and the difference is the lookup and merge alone, not
 * store reads for addresses the database does not know.
 * Server time is fastify's `reply.elapsedTime`. The last line is one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { hashSecret } from '../src/auth/keys.ts';
import { defaultGeoipDbPath, openGeoipDb } from '../src/geoip/geoip-db.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { buildFiftyFlagProject, generateUsers, storeFiftyFlagProject, withGeoipFlag } from './fixtures/fifty-flag-project.ts';
import { publicIpv4 } from './fixtures/public-ips.ts';
import { buildBenchServer } from './fixtures/bench-server.ts';

const WARMUP = 3_000;
const ROUNDS = 6;
const PER_ROUND = 4_000;
const IPS = 20_000;

async function addFixture(store: Store, token: string, geoFlag: boolean): Promise<void> {
  const project = await store.createProject({ name: token, apiToken: token, secretTokenHash: hashSecret(`phs_${token}`) });
  const defs = buildFiftyFlagProject();
  await storeFiftyFlagProject(store, project.id, geoFlag ? withGeoipFlag(defs) : defs);
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface Variant {
  name: string;
  server: FastifyInstance;
  body: (i: number) => string;
  headers: (i: number) => Record<string, string>;
  samples: number[];
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'vexil-bench-geoip-'));
  const store = await openStore({ dataDir });
  await store.migrate();
  try {
    await addFixture(store, 'phc_plain', false);
    await addFixture(store, 'phc_geo', true);
    const db = await openGeoipDb(defaultGeoipDbPath());
    const off = (await buildBenchServer(store)).server;
    const on = (await buildBenchServer(store, { geoip: { db, trustProxy: true } })).server;
    const users = generateUsers(WARMUP + ROUNDS * PER_ROUND, 7);
    const bodyOf = (token: string, extra: Record<string, unknown>, props: Record<string, unknown> = {}) => (i: number) => {
      const u = users[i % users.length]!;
      return JSON.stringify({ token, distinct_id: u.distinctId, person_properties: { ...u.properties, ...props }, ...extra });
    };
    const country = { $geoip_country_code: 'FR' };
    const base = { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' };
    const variants: Variant[] = [
      { name: 'off', server: off, body: bodyOf('phc_plain', {}), headers: (i) => ({ ...base, 'x-forwarded-for': publicIpv4(i % IPS) }), samples: [] },
      { name: 'unused', server: on, body: bodyOf('phc_plain', {}), headers: (i) => ({ ...base, 'x-forwarded-for': publicIpv4(i % IPS) }), samples: [] },
      { name: 'disabled', server: on, body: bodyOf('phc_geo', { geoip_disable: true }, country), headers: (i) => ({ ...base, 'x-forwarded-for': publicIpv4(i % IPS) }), samples: [] },
      { name: 'lookup', server: on, body: bodyOf('phc_geo', {}, country), headers: (i) => ({ ...base, 'x-forwarded-for': publicIpv4(i % IPS) }), samples: [] },
    ];
    let current: Variant | null = null;
    for (const s of [off, on]) {
      s.addHook('onResponse', async (_request, reply) => {
        current?.samples.push(reply.elapsedTime * 1000);
      });
      await s.ready();
    }
    const run = async (v: Variant, from: number, count: number, record: boolean) => {
      current = record ? v : null;
      for (let i = from; i < from + count; i++) {
        const res = await v.server.inject({ method: 'POST', url: '/flags?v=2', headers: v.headers(i), payload: v.body(i) });
        if (res.statusCode !== 200) throw new Error(`${v.name}: unexpected ${res.statusCode}: ${res.body}`);
      }
      current = null;
    };
    for (const v of variants) await run(v, 0, WARMUP, false);
    const medians: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of variants) {
        const before = v.samples.length;
        await run(v, WARMUP + r * PER_ROUND, PER_ROUND, true);
        const round = Float64Array.from(v.samples.slice(before)).sort();
        medians[v.name]!.push(percentile(round, 0.5));
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
    const result: Record<string, unknown> = { scenario: 'POST /flags?v=2, 50-flag project, all properties in the body; GeoIP variants', requests_per_variant: ROUNDS * PER_ROUND };
    for (const v of variants) {
      const all = Float64Array.from(v.samples).sort();
      result[v.name] = { server_us_p50: +percentile(all, 0.5).toFixed(1), server_us_p90: +percentile(all, 0.9).toFixed(1), server_us_p99: +percentile(all, 0.99).toFixed(1) };
      console.log(`${v.name.padEnd(9)} p50 ${percentile(all, 0.5).toFixed(1)} µs  p90 ${percentile(all, 0.9).toFixed(1)} µs  p99 ${percentile(all, 0.99).toFixed(1)} µs`);
    }
    // Per-round ratio of medians, then the median over rounds (the machine drifts between rounds).
    const ratio = (a: string, b: string) => {
      const rs = medians[a]!.map((m, i) => m / medians[b]![i]!).sort((x, y) => x - y);
      return +rs[Math.floor(rs.length / 2)]!.toFixed(3);
    };
    result.p50_ratio_unused_vs_off = ratio('unused', 'off');
    result.p50_ratio_lookup_vs_disabled = ratio('lookup', 'disabled');
    result.node = process.version;
    result.cpu = os.cpus()[0]?.model;
    console.log(`p50 ratio unused/off ${result.p50_ratio_unused_vs_off}, lookup/disabled ${result.p50_ratio_lookup_vs_disabled} (median of ${ROUNDS} rounds)`);
    console.log(JSON.stringify(result));
    await off.close();
    await on.close();
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
