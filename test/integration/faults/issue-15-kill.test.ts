/**
 * Issue 15, "Faults across nodes": two Vexil processes on one PostgreSQL schema, no Redis (change
 * notices travel over PostgreSQL LISTEN/NOTIFY alone), under bounded /flags and admin load on
 * both, while `pg_terminate_backend` kills every connection of both nodes (found by their own
 * `application_name`: nobody else's) once a second. /flags keeps answering 200: flags that need
 * no stored person data keep their value, the stored-person flag comes back `failed` with
 * `errorsWhileComputingFlags: true`; everything recovers by itself, each node's LISTEN connection
 * comes back, and a change after the kills still reaches the other node (the revision poll is an
 * hour, so only a notice can deliver it). Figures printed with `# FAULT-FIGURES`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { call, EVERYONE, FAULT_KEY, listeningConnections, PRO_PLAN, printFigures, startFaultNode, stopNode, terminateBackends, until, type Answer } from '../../helpers/fault-nodes.ts';
import type { VexilProcess } from '../../helpers/vexil-process.ts';
import { createProject } from '../http/http-helpers.ts';

/** Bounds of the load: its length, and the most requests one loop sends. */
const LOAD_MS = 6000;
const MAX_REQUESTS_PER_LOOP = 4000;
const TERMINATE_EVERY_MS = 1000;
const PERSONS = 100;

interface Tally {
  sent: number;
  non200: number;
  status5xx: number;
  transportErrors: number;
  statuses: Record<string, number>;
}

type Flags = { errorsWhileComputingFlags: boolean; flags: Record<string, { enabled: boolean; failed?: boolean; metadata?: { version?: number } }> };

describe('issue 15: pg_terminate_backend of both nodes under load (PostgreSQL NOTIFY, no Redis)', () => {
  let ts: TestStore;
  let project = { id: 0, token: '' };
  let proPlanId = 0;
  let toggleId = 0;
  const apps = { a: '', b: '' };
  const nodes: { a?: VexilProcess; b?: VexilProcess } = {};
  const ports = { a: 0, b: 0 };
  const figures: Record<string, unknown> = {};

  before(async () => {
    ts = await openTestStore('postgres');
    const schema = ts.options.schema!;
    apps.a = `f15k_${schema}_a`;
    apps.b = `f15k_${schema}_b`;
    project = await createProject(ts.store, 'kill');
    await ts.store.createFlag(project.id, { key: 'everyone', name: 'everyone', active: true, filters: EVERYONE }, 'test');
    proPlanId = (await ts.store.createFlag(project.id, { key: 'pro-plan', name: 'pro', active: true, filters: PRO_PLAN }, 'test')).id;
    toggleId = (await ts.store.createFlag(project.id, { key: 'toggle', name: 'toggle', active: false, filters: EVERYONE }, 'test')).id;
    await ts.store.applyPersonUpdates(project.id, Array.from({ length: PERSONS }, (_, i) => ({ distinctId: `p${i}`, set: { plan: 'pro' } })));
    const prefix = `f15k_${randomBytes(4).toString('hex')}`;
    for (const name of ['a', 'b'] as const) {
      // Every /flags reads the person from the store; no Redis: notices go over NOTIFY alone.
      const started = await startFaultNode({ schema, appName: apps[name], prefix, env: { VEXIL_PERSON_CACHE_SIZE: '0', VEXIL_DB_POOL_SIZE: '4' } });
      nodes[name] = started.node;
      ports[name] = started.port;
    }
  });

  after(async () => {
    for (const node of Object.values(nodes)) if (node) await stopNode(node);
    await ts?.cleanup();
    printFigures('issue-15-kill', figures);
  });

  const flags = async (port: number, distinctId: string, agent?: Agent): Promise<Answer & { json: Flags }> =>
    call(port, 'POST', '/flags?v=2', { body: { token: project.token, distinct_id: distinctId }, agent });
  const patch = (port: number, flagId: number, body: unknown, agent?: Agent) =>
    call(port, 'PATCH', `/api/projects/${project.id}/feature_flags/${flagId}/`, { body, bearer: FAULT_KEY, agent });

  test('/flags keeps answering, stored-person flags fail openly, everything recovers, LISTEN comes back', async () => {
    // Both nodes serve the project before the faults start.
    for (const port of [ports.a, ports.b]) assert.equal((await flags(port, 'p1')).json.flags['pro-plan']?.enabled, true);
    const tallies: Record<string, Tally> = {};
    const tally = (name: string) => (tallies[name] ??= { sent: 0, non200: 0, status5xx: 0, transportErrors: 0, statuses: {} });
    const record = (name: string, res: Answer | null) => {
      const t = tally(name);
      t.sent++;
      if (res === null) {
        t.transportErrors++;
        return;
      }
      t.statuses[res.status] = (t.statuses[res.status] ?? 0) + 1;
      if (res.status !== 200) t.non200++;
      if (res.status >= 500) t.status5xx++;
    };
    const shapes = { everyoneWrong: 0, personFailed: 0, failedWithoutErrorFlag: 0 };
    const started = performance.now();
    const running = () => performance.now() - started < LOAD_MS;
    const agents: Agent[] = [];
    const loop = async (fn: (i: number, agent: Agent) => Promise<void>) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      for (let i = 0; i < MAX_REQUESTS_PER_LOOP && running(); i++) await fn(i, agent);
    };
    const flagsLoop = (port: number, stride: number) =>
      loop(async (i, agent) => {
        const res = await flags(port, `p${(i * stride) % PERSONS}`, agent).catch(() => null);
        record('flags', res);
        if (res?.status !== 200) return;
        if (res.json.flags.everyone?.enabled !== true) shapes.everyoneWrong++;
        if (res.json.flags['pro-plan']?.failed === true) {
          shapes.personFailed++;
          if (res.json.errorsWhileComputingFlags !== true) shapes.failedWithoutErrorFlag++;
        }
      });
    let terminated = 0;
    let rounds = 0;
    try {
      await Promise.all([
        flagsLoop(ports.a, 1),
        flagsLoop(ports.b, 7),
        loop(async (i, agent) => record('admin', await patch(i % 2 === 0 ? ports.a : ports.b, proPlanId, { name: `pro ${i}` }, agent).catch(() => null))),
        (async () => {
          for (let i = 0; i < Math.ceil(LOAD_MS / TERMINATE_EVERY_MS) - 1 && running(); i++) {
            await new Promise((r) => setTimeout(r, TERMINATE_EVERY_MS));
            terminated += (await terminateBackends(apps.a)) + (await terminateBackends(apps.b));
            rounds++;
          }
        })(),
      ]);
    } finally {
      for (const agent of agents) agent.destroy();
    }
    const faultsEnded = performance.now();
    assert.ok(terminated > 0, 'backends were terminated');

    // Recovery, by itself: stored-person flags computed again and admin writes accepted on both.
    const recovered = async (port: number) => {
      const f = await flags(port, 'p1');
      const p = await patch(port, proPlanId, { name: 'recovered' });
      return f.status === 200 && f.json.errorsWhileComputingFlags === false && f.json.flags['pro-plan']?.enabled === true && p.status === 200;
    };
    await until(async () => (await recovered(ports.a)) && (await recovered(ports.b)), 'both nodes to compute stored-person flags and accept writes again');
    const recoverMs = performance.now() - faultsEnded;
    // Each node's NOTIFY connection is back on LISTEN.
    const listenBackMs = await until(async () => (await listeningConnections(apps.a)) >= 1 && (await listeningConnections(apps.b)) >= 1, 'both LISTEN connections to come back');
    // A change after the kills reaches the other node, both ways (poll is an hour: a notice did it).
    const flip = async (from: number, to: number, active: boolean) => {
      assert.equal((await patch(from, toggleId, { active })).status, 200);
      return until(async () => ((await flags(to, 'p1')).json.flags.toggle?.enabled ?? false) === active, `the other node to answer toggle=${active}`);
    };
    const notifyAtoBMs = await flip(ports.a, ports.b, true);
    const notifyBtoAMs = await flip(ports.b, ports.a, false);
    // Nothing stale: both nodes serve the flag version the database holds (the last load PATCH's
    // notice may have been lost while a LISTEN connection was down).
    const stored = (await ts.store.loadProjectDefinitions(project.id))!.flags.find((f) => f.id === proPlanId)!.version;
    const sameVersionMs = await until(
      async () => (await flags(ports.a, 'p1')).json.flags['pro-plan']?.metadata?.version === stored && (await flags(ports.b, 'p1')).json.flags['pro-plan']?.metadata?.version === stored,
      `both nodes to serve pro-plan version ${stored}`,
    );

    Object.assign(figures, {
      terminateRounds: rounds,
      backendsTerminated: terminated,
      flagsSent: tallies.flags?.sent,
      flagsNon200: tallies.flags?.non200,
      flags5xx: tallies.flags?.status5xx,
      flagsTransportErrors: tallies.flags?.transportErrors,
      flagsPersonFailed: shapes.personFailed,
      adminSent: tallies.admin?.sent,
      adminNon200: tallies.admin?.non200,
      admin5xx: tallies.admin?.status5xx,
      adminStatuses: tallies.admin?.statuses,
      recoverMs,
      listenBackMs,
      notifyAtoBMs,
      notifyBtoAMs,
      sameVersionMs,
    });
    const f = tallies.flags!;
    assert.equal(f.transportErrors, 0, 'every /flags request got an HTTP answer');
    assert.equal(f.status5xx, 0, `no 5xx on /flags: ${JSON.stringify(f.statuses)}`);
    assert.equal(f.non200, 0, `every /flags answer is 200: ${JSON.stringify(f.statuses)}`);
    assert.equal(shapes.everyoneWrong, 0, 'a flag that needs no stored person data always has its value');
    assert.equal(shapes.failedWithoutErrorFlag, 0, 'a failed flag always comes with errorsWhileComputingFlags: true');
    const admin = tallies.admin!;
    assert.equal(admin.transportErrors, 0, 'every admin request got an HTTP answer');
    assert.deepEqual(Object.keys(admin.statuses).filter((s) => s !== '200' && s !== '503'), [], `admin writes answer 200 or 503: ${JSON.stringify(admin.statuses)}`);
    for (const node of Object.values(nodes)) assert.equal(node!.child.exitCode, null, 'both nodes still run');
    const output = Object.values(nodes).map((n) => n!.stderr()).join('');
    assert.doesNotMatch(output, /uncaught|unhandled/i, 'nothing escaped to the process');
  });
});
