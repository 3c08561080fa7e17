/**
 * Issue 13, part 1: a Vexil process on PostgreSQL under mixed load (/flags for stored persons,
 * /batch/ capture, admin PATCHes) while `pg_terminate_backend` kills its backends once a second.
 * The server runs as a child process, so a crash of any kind (an uncaught error thrown from the
 * driver, as porsager `postgres` 3.4.9 did) shows as an exit; it must stay up, answer
 * /_liveness, and serve everything again afterwards. VEXIL_FAULT_RUNS repeats the whole run (the
 * 10-run record in BENCHMARKS.md, "Faults"); the suite runs it once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openTestStore, sqlOnce, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';

const RUNS = Number(process.env.VEXIL_FAULT_RUNS ?? 1);
/** Length of the load in one run, and the most requests one loop sends in it (both bound every loop). */
const LOAD_MS = 8000;
const MAX_REQUESTS_PER_LOOP = 20_000;
const TERMINATE_EVERY_MS = 1000;
const BOOTSTRAP_KEY = 'phx_issue13_fault_test_key_0123456789';
/** A compiled entry to run instead of `src/main.ts` (e.g. an older build, to compare drivers). */
const ENTRY = process.env.VEXIL_FAULT_ENTRY;

interface Tally {
  sent: number;
  non200: number;
  status5xx: number;
  errors: number;
}

interface Child {
  proc: ChildProcess;
  base: string;
  output: string[];
}

/** Starts `src/main.ts` on a free port and resolves once it logged its address. */
async function startServer(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ENTRY ? [ENTRY] : ['--import', 'tsx', 'src/main.ts'], {
    // info: the address comes from the 'listening' line.
    // One process: a crash must end the process the test watches, not be healed by a cluster primary.
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', VEXIL_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 60_000);
    let buffered = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      output.push(d.toString());
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output.join('')}`));
    });
  });
  return { proc, base, output };
}

describe('issue 13: backends terminated once a second under mixed load', () => {
  let direct: TestStore;
  let projectId: number;
  let token: string;
  let flagId: number;
  let appName: string;
  let url: string;

  before(async () => {
    direct = await openTestStore('postgres');
    const schema = direct.options.schema!;
    appName = `vexil_fault_${schema}`;
    const u = new URL(TEST_DATABASE_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    u.searchParams.set('application_name', appName);
    url = u.toString();
    const project = await direct.store.createProject({ name: 'faults', apiToken: 'phc_issue13_faults', secretTokenHash: 'x' });
    projectId = project.id;
    token = project.apiToken;
    const byPlan = { groups: [{ properties: [{ key: 'plan', value: ['pro'], operator: 'exact', type: 'person' }], rollout_percentage: 100 }] };
    flagId = (await direct.store.createFlag(projectId, { key: 'pro-plan', name: 'pro', active: true, filters: byPlan }, 'test')).id;
    await direct.store.applyPersonUpdates(
      projectId,
      Array.from({ length: 200 }, (_, i) => ({ distinctId: `p${i}`, set: { plan: 'pro' } })),
    );
  });
  after(async () => direct?.cleanup());

  for (let run = 1; run <= RUNS; run++) {
    test(`run ${run}: zero crashes, everything recovers`, async () => {
      const child = await startServer({
        DATABASE_URL: url,
        VEXIL_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
        VEXIL_PERSON_CACHE_SIZE: '0',
        VEXIL_DB_POOL_SIZE: '4',
        VEXIL_SNAPSHOT_POLL_SECONDS: '1',
      });
      const exited = once(child.proc, 'exit');
      let exit: { code: number | null; signal: string | null } | null = null;
      child.proc.once('exit', (code, signal) => {
        exit = { code, signal };
      });
      try {
        const tallies: Record<string, Tally> = {};
        const request = async (name: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
          const t = (tallies[name] ??= { sent: 0, non200: 0, status5xx: 0, errors: 0 });
          t.sent++;
          try {
            const res = await fetch(child.base + path, {
              method,
              headers: { 'content-type': 'application/json', ...headers },
              body: body === undefined ? undefined : JSON.stringify(body),
              signal: AbortSignal.timeout(15_000),
            });
            const text = await res.text();
            if (res.status !== 200) t.non200++;
            if (res.status >= 500) t.status5xx++;
            return { status: res.status, text };
          } catch {
            t.errors++; // a refused or reset connection: only a dead server does that here
            return { status: 0, text: '' };
          }
        };
        const admin = { authorization: `Bearer ${BOOTSTRAP_KEY}` };
        const started = performance.now();
        const running = () => performance.now() - started < LOAD_MS && exit === null;
        let terminated = 0;
        const loop = async (name: string, fn: (i: number) => Promise<unknown>) => {
          for (let i = 0; i < MAX_REQUESTS_PER_LOOP && running(); i++) await fn(i);
        };
        await Promise.all([
          loop('flags', (i) => request('flags', 'POST', '/flags?v=2', { token, distinct_id: `p${i % 200}` })),
          loop('flags', (i) => request('flags', 'POST', '/flags?v=2', { token, distinct_id: `p${(i * 7) % 200}` })),
          loop('capture', (i) =>
            request('capture', 'POST', '/batch/', { api_key: token, batch: [{ event: 'e', distinct_id: `c${i % 50}`, properties: { $set: { n: i } } }] }),
          ),
          loop('admin', (i) => request('admin', 'PATCH', `/api/projects/${projectId}/feature_flags/${flagId}/`, { name: `pro ${i}` }, admin)),
          (async () => {
            for (let i = 0; i < Math.ceil(LOAD_MS / TERMINATE_EVERY_MS) && running(); i++) {
              await new Promise((r) => setTimeout(r, TERMINATE_EVERY_MS));
              const rows = await sqlOnce<{ n: number }>(
                TEST_DATABASE_URL,
                'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
                [appName],
              );
              terminated += rows[0]?.n ?? 0;
            }
          })(),
        ]);
        assert.equal(exit, null, `the server crashed under terminations:\n${child.output.join('').slice(-4000)}`);
        assert.ok(terminated > 0, 'backends were terminated');

        // Recovery: bounded tries, until a stored-person answer has no error and a PATCH applies.
        const recoverStart = performance.now();
        let recovered = false;
        for (let i = 0; i < 50 && !recovered; i++) {
          const f = await request('recovery', 'POST', '/flags?v=2', { token, distinct_id: 'p1' });
          const p = await request('recovery', 'PATCH', `/api/projects/${projectId}/feature_flags/${flagId}/`, { name: 'recovered' }, admin);
          recovered = f.status === 200 && JSON.parse(f.text).errorsWhileComputingFlags === false && JSON.parse(f.text).flags['pro-plan'].enabled === true && p.status === 200;
          if (!recovered) await new Promise((r) => setTimeout(r, 100));
        }
        const recoverMs = performance.now() - recoverStart;
        assert.ok(recovered, 'stored-person flags and admin writes work again after the terminations');
        const live = await request('liveness', 'GET', '/_liveness', undefined);
        assert.equal(live.status, 200);
        const ready = await request('readiness', 'GET', '/_readiness', undefined);
        assert.equal(JSON.parse(ready.text).status, 'ok');
        assert.equal(exit, null);
        assert.doesNotMatch(child.output.join(''), /uncaught|unhandled/i, 'nothing escaped to the process');
        for (const [name, t] of Object.entries(tallies)) {
          assert.equal(t.errors, 0, `${name}: every request got an HTTP answer`);
        }
        console.log(`# issue-13 terminate run ${run}: terminated ${terminated} backends; recovered in ${Math.round(recoverMs)} ms; ${JSON.stringify(tallies)}`);
      } finally {
        if (exit === null) {
          child.proc.kill('SIGTERM');
          await exited;
        }
      }
    });
  }
});
