/**
 * @module bench/persons.bench
 * `npm run bench:persons`: /flags for stored persons at scale (issue 4). Imports N persons
 * (default 1,000,000; VEXIL_BENCH_PERSONS) into PostgreSQL through `Store.importPersons` (timed:
 * target < 60 s), then sends `POST /flags?v=2` with only a distinct id, so every request needs
 * the store lookup, for random stored persons, 4 in flight (VEXIL_BENCH_CONCURRENCY). Server time is fastify's
 * `reply.elapsedTime` (decode → lookup → evaluate → serialize), target p99 ≤ 5 ms. Runs in its
 * own schema of DATABASE_URL (default the test database), dropped at the end. The last line of
 * output is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { hashSecret } from '../src/auth/keys.ts';
import type { FlagFiltersDef } from '../src/engine/index.ts';
import { openStore } from '../src/store/open-store.ts';
import { mulberry32 } from '../test/helpers/rng.ts';
import { sqlOnce } from '../test/helpers/db.ts';
import { buildBenchServer } from './fixtures/bench-server.ts';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PERSONS = Number(process.env.VEXIL_BENCH_PERSONS ?? 1_000_000);
const CONCURRENCY = Number(process.env.VEXIL_BENCH_CONCURRENCY ?? 4);
const WARMUP = 5_000;
const MEASURE = 50_000;
const MEASURE_MAX_MS = 30_000;
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'BR', 'IN', 'JP', 'NL'];


async function* persons(n: number): AsyncGenerator<{ distinctId: string; properties: Record<string, unknown> }> {
  for (let i = 0; i < n; i++) {
    yield {
      distinctId: `user-${i}`,
      properties: { email: `user-${i}@example.com`, plan: PLANS[i % PLANS.length], country: COUNTRIES[i % COUNTRIES.length], seats: i % 500, beta: i % 7 === 0 },
    };
  }
}

/** Twenty flags: half need stored person properties, the rest are rollouts and variants. */
function flags(): Array<{ key: string; filters: FlagFiltersDef }> {
  const person = (key: string, operator: string, value: unknown) => ({ key, operator, value, type: 'person' });
  const out: Array<{ key: string; filters: FlagFiltersDef }> = [];
  for (let i = 0; i < 10; i++) {
    const cond = [person('plan', 'exact', [PLANS[i % 4]]), person('country', 'exact', COUNTRIES.slice(0, 1 + (i % 8))), person('seats', 'gt', String(i * 40)), person('email', 'icontains', '@example.com')][i % 4]!;
    out.push({ key: `person-flag-${i}`, filters: { groups: [{ properties: [cond], rollout_percentage: 50 + i * 5 }] } });
  }
  for (let i = 0; i < 5; i++) out.push({ key: `rollout-${i}`, filters: { groups: [{ properties: [], rollout_percentage: 20 * i }] } });
  for (let i = 0; i < 5; i++) {
    out.push({
      key: `variant-${i}`,
      filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] } },
    });
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const schema = `vexil_bench_${randomBytes(5).toString('hex')}`;
  const store = await openStore({ databaseUrl: URL, dataDir: '', schema, poolSize: 16 });
  try {
    await store.migrate();
    const project = await store.createProject({ name: 'bench', apiToken: 'phc_bench_persons', secretTokenHash: hashSecret('phs_bench') });
    for (const f of flags()) await store.createFlag(project.id, { key: f.key, name: f.key, active: true, filters: f.filters }, 'bench');

    const importStart = performance.now();
    const imported = await store.importPersons(project.id, persons(PERSONS));
    const importS = (performance.now() - importStart) / 1000;
    console.log(`imported ${imported} persons in ${importS.toFixed(1)} s (${Math.round(imported / importS)} persons/s)`);
    // A long-running database has statistics; a freshly bulk-loaded schema gets them now.
    await sqlOnce(URL, `ANALYZE "${schema}".persons; ANALYZE "${schema}".person_distinct_ids;`);

    const { server, metrics } = await buildBenchServer(store);
    const samples = new Float64Array(MEASURE);
    let n = 0;
    let measuring = false;
    server.addHook('onResponse', async (_request, reply) => {
      if (measuring && n < MEASURE) samples[n++] = reply.elapsedTime;
    });
    await server.ready();

    const next = mulberry32(42);
    let failures = 0;
    const post = async () => {
      const payload = JSON.stringify({ token: 'phc_bench_persons', distinct_id: `user-${Math.floor(next() * PERSONS)}` });
      const res = await server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json' }, payload });
      if (res.statusCode !== 200 || res.body.includes('"errorsWhileComputingFlags":true')) failures++;
    };
    const run = async (count: number, maxMs: number) => {
      const deadline = performance.now() + maxMs;
      let sent = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (sent < count && performance.now() < deadline) {
            sent++;
            await post();
          }
        }),
      );
      return sent;
    };
    await run(WARMUP, 20_000);
    failures = 0;
    const storeBefore = (await metrics.storeLookups.get()).values.reduce((s, v) => s + v.value, 0);
    measuring = true;
    const wallStart = performance.now();
    const sent = await run(MEASURE, MEASURE_MAX_MS);
    const wallS = (performance.now() - wallStart) / 1000;
    measuring = false;
    const lookups = (await metrics.storeLookups.get()).values.reduce((s, v) => s + v.value, 0) - storeBefore;
    const sorted = samples.subarray(0, n).sort();
    const result = {
      scenario: `POST /flags?v=2, 20 flags (10 on person properties), only distinct_id in the request, ${PERSONS} persons in PostgreSQL, ${CONCURRENCY} in flight`,
      persons: imported,
      import_s: +importS.toFixed(1),
      import_persons_per_s: Math.round(imported / importS),
      requests: sent,
      failed: failures,
      store_lookups: lookups,
      server_ms_p50: +percentile(sorted, 0.5).toFixed(3),
      server_ms_p90: +percentile(sorted, 0.9).toFixed(3),
      server_ms_p99: +percentile(sorted, 0.99).toFixed(3),
      req_per_s: Math.round(sent / wallS),
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cpus: os.cpus().length,
    };
    console.log(`server time p50 ${result.server_ms_p50} ms, p90 ${result.server_ms_p90} ms, p99 ${result.server_ms_p99} ms; ${result.req_per_s} req/s over ${sent} requests (${failures} failed)`);
    console.log(JSON.stringify(result));
    await server.close();
  } finally {
    await store.close();
    await sqlOnce(URL, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

await main();
