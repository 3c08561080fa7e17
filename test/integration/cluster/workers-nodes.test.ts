/**
 * Issue 15, "Every core": two nodes × VEXIL_WORKERS=2 on one PostgreSQL schema, with Redis and
 * without it (then NOTIFY alone). A flag change, a cohort change, a person write and a personal
 * API key revocation made through node 1 are answered by every worker of node 2. Each worker of
 * node 2 is reached through a keep-alive socket of its own (its pid, from readiness, checked
 * after each wait), has answered the old state before the change, and is polled (bounded) until it
 * answers the new one. The revision poll and the person cache's age cap are an hour, so only
 * notices can deliver. Figures printed with `FAULT-FIGURES`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { call, dropRedisKeys, FAULT_KEY, printFigures, seedToggleProject, startFaultNode, stopNode, until } from '../../helpers/fault-nodes.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import type { VexilProcess } from '../../helpers/vexil-process.ts';

const WORKERS = 2;
const cohortFilters = (plan: string) => ({ properties: { type: 'AND', values: [{ key: 'plan', type: 'person', value: [plan], operator: 'exact' }] } });

for (const withRedis of [true, false]) {
  describe(`two nodes × ${WORKERS} workers, ${withRedis ? 'with Redis' : 'without Redis (NOTIFY)'}`, () => {
    let ts: TestStore;
    let project = { id: 0, token: '' };
    let toggleId = 0;
    let cohortId = 0;
    const prefix = `f15w_${randomBytes(4).toString('hex')}`;
    const nodes: VexilProcess[] = [];
    let writer = 0;
    let reader = 0;
    /** One keep-alive socket per worker of node 2, by pid. */
    const workers = new Map<number, Agent>();
    const spare: Agent[] = [];
    const figures: Record<string, unknown> = {};

    before(async () => {
      if (withRedis) await requireRedis();
      ts = await openTestStore('postgres');
      ({ project, toggleId } = await seedToggleProject(ts.store, 'workers-nodes'));
      const appName = `f15w_${ts.options.schema}`;
      for (const i of [1, 2]) {
        const started = await startFaultNode({ schema: ts.options.schema!, appName, prefix, workers: WORKERS, redisUrl: withRedis ? REDIS_URL : undefined });
        nodes.push(started.node);
        if (i === 1) writer = started.port;
        else reader = started.port;
      }
      const cohort = await call(writer, 'POST', `/api/projects/${project.id}/cohorts/`, { body: { name: 'enterprise', filters: cohortFilters('enterprise') }, bearer: FAULT_KEY });
      assert.equal(cohort.status, 201, cohort.text);
      cohortId = cohort.json.id;
      const flag = await call(writer, 'POST', `/api/projects/${project.id}/feature_flags/`, {
        body: { key: 'in-cohort', active: true, filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohortId }], rollout_percentage: 100 }] } },
        bearer: FAULT_KEY,
      });
      assert.equal(flag.status, 201, flag.text);
      // Fresh keep-alive sockets until each worker of node 2 is behind one (bounded).
      for (let i = 0; i < 60 && workers.size < WORKERS; i++) {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const pid = (await call(reader, 'GET', '/_readiness', { agent })).json.pid as number;
        if (workers.has(pid)) spare.push(agent);
        else workers.set(pid, agent);
      }
      assert.equal(workers.size, WORKERS, 'every worker of node 2 answered');
    });

    after(async () => {
      for (const agent of [...workers.values(), ...spare]) agent.destroy();
      for (const node of nodes) await stopNode(node);
      await ts?.cleanup();
      if (withRedis) await dropRedisKeys(prefix).catch(() => undefined);
      printFigures(`workers-nodes ${withRedis ? 'redis' : 'notify'}`, figures);
    });

    const flagsVia = async (agent: Agent) =>
      (await call(reader, 'POST', '/flags?v=2', { body: { token: project.token, distinct_id: 'u1' }, agent })).json as { flags: Record<string, { enabled: boolean }> };
    /**
     * Every worker of node 2 answers `before` first; `change` runs through node 1; then each
     * worker is polled until it answers `after`. Resolves with the slowest worker's ms.
     */
    const everyWorker = async (what: string, answers: (agent: Agent) => Promise<boolean>, change: () => Promise<void>) => {
      for (const [pid, agent] of workers) assert.equal(await answers(agent), false, `${what}: worker ${pid} answers the old state first`);
      const changedAt = performance.now();
      await change();
      let slowest = 0;
      await Promise.all(
        [...workers].map(async ([pid, agent]) => {
          await until(() => answers(agent), `${what}: worker ${pid} of node 2 to answer the change`);
          slowest = Math.max(slowest, performance.now() - changedAt);
          assert.equal((await call(reader, 'GET', '/_readiness', { agent })).json.pid, pid, 'the answers came from that worker');
        }),
      );
      return slowest;
    };
    const ok = (res: { status: number; text: string }, status = 200) => assert.equal(res.status, status, res.text);

    test('a flag change through node 1 is answered by every worker of node 2', async () => {
      figures.flagMs = await everyWorker(
        'flag',
        async (agent) => (await flagsVia(agent)).flags.toggle?.enabled === true,
        async () => ok(await call(writer, 'PATCH', `/api/projects/${project.id}/feature_flags/${toggleId}/`, { body: { active: true }, bearer: FAULT_KEY })),
      );
    });

    test('a cohort change through node 1 is answered by every worker of node 2', async () => {
      figures.cohortMs = await everyWorker(
        'cohort',
        async (agent) => (await flagsVia(agent)).flags['in-cohort']?.enabled === true,
        async () => ok(await call(writer, 'PATCH', `/api/projects/${project.id}/cohorts/${cohortId}/`, { body: { filters: cohortFilters('free') }, bearer: FAULT_KEY })),
      );
    });

    test('a person write through node 1 is answered by every worker of node 2 (cached lookups dropped)', async () => {
      figures.personMs = await everyWorker(
        'person',
        async (agent) => (await flagsVia(agent)).flags['pro-plan']?.enabled === true,
        async () => ok(await call(writer, 'POST', '/capture/', { body: { api_key: project.token, event: '$set', distinct_id: 'u1', properties: { $set: { plan: 'pro' } } } })),
      );
    });

    test('a personal API key revoked through node 1 is refused by every worker of node 2', async () => {
      const created = await call(writer, 'POST', '/api/personal_api_keys/', { body: { label: 'revoked', scopes: ['*'] }, bearer: FAULT_KEY });
      ok(created, 201);
      const key = created.json.value as string;
      const refused = async (agent: Agent) => {
        const admin = await call(reader, 'GET', '/api/projects/', { bearer: key, agent });
        const definitions = await call(reader, 'GET', `/api/feature_flag/local_evaluation?token=${project.token}`, { bearer: key, agent });
        return admin.status === 401 && definitions.status === 401;
      };
      figures.keyRevocationMs = await everyWorker('key revocation', refused, async () => ok(await call(writer, 'DELETE', `/api/personal_api_keys/${created.json.id}/`, { bearer: FAULT_KEY }), 204));
    });
  });
}
