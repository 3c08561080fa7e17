/**
 * @module bench/flags-endpoint.bench
 * `npm run bench:flags`: server time of `POST /flags?v=2` for the shared 50-flag project, every
 * property in the request (the I/O-free hot path), embedded store. Server time is fastify's
 * `reply.elapsedTime` (onRequest → response sent), so it includes decoding, token lookup,
 * evaluation and serialization but not the in-process transport. The last line is one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../src/auth/keys.ts';
import { openStore } from '../src/store/open-store.ts';
import { generateUsers, storeFiftyFlagProject } from './fixtures/fifty-flag-project.ts';
import { buildBenchServer } from './fixtures/bench-server.ts';

const WARMUP = 5_000;
const MEASURE = 30_000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'vexil-bench-'));
  const store = await openStore({ dataDir });
  await store.migrate();
  try {
    const project = await store.createProject({ name: 'bench', apiToken: 'phc_bench', secretTokenHash: hashSecret('phs_bench') });
    await storeFiftyFlagProject(store, project.id);

    const { server, metrics } = await buildBenchServer(store);
    let samples = new Float64Array(MEASURE);
    let n = 0;
    let measuring = false;
    let storeRequests = 0;
    server.addHook('onResponse', async (_request, reply) => {
      if (measuring && n < MEASURE) samples[n++] = reply.elapsedTime * 1000;
    });
    await server.ready();

    const users = generateUsers(WARMUP + MEASURE, 7);
    const bodies = users.map((u) => JSON.stringify({ token: 'phc_bench', distinct_id: u.distinctId, person_properties: u.properties }));
    const post = async (payload: string) => {
      const res = await server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' }, payload });
      if (res.statusCode !== 200) throw new Error(`unexpected ${res.statusCode}: ${res.body}`);
      return res;
    };
    for (let i = 0; i < WARMUP; i++) await post(bodies[i]!);
    const before = (await metrics.flagRequests.get()).values.find((v) => v.labels.source === 'store')?.value ?? 0;
    measuring = true;
    const wallStart = process.hrtime.bigint();
    for (let i = WARMUP; i < WARMUP + MEASURE; i++) await post(bodies[i]!);
    const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000 / MEASURE;
    measuring = false;
    storeRequests = ((await metrics.flagRequests.get()).values.find((v) => v.labels.source === 'store')?.value ?? 0) - before;
    samples = samples.subarray(0, n).sort();
    const result = {
      scenario: 'POST /flags?v=2, 50 flags, all properties in the request',
      requests: n,
      server_us_p50: +percentile(samples, 0.5).toFixed(1),
      server_us_p90: +percentile(samples, 0.9).toFixed(1),
      server_us_p99: +percentile(samples, 0.99).toFixed(1),
      inject_roundtrip_us_mean: +wallUs.toFixed(1),
      requests_needing_store: storeRequests,
      node: process.version,
      cpu: os.cpus()[0]?.model,
    };
    console.log(`server time p50 ${result.server_us_p50} µs, p90 ${result.server_us_p90} µs, p99 ${result.server_us_p99} µs over ${n} requests`);
    console.log(JSON.stringify(result));
    await server.close();
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
