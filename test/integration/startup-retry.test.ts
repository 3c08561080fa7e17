// Issue 13 part 6: a node started while PostgreSQL is unreachable retries with back-off, saying in
// one plain line per attempt what it cannot reach and why; it starts once the database comes up,
// and gives up after VEXIL_STARTUP_RETRY_SECONDS with one plain line and a non-zero exit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../helpers/db.ts';
import { startTcpBalancer, type TcpBalancer } from '../helpers/tcp-balancer.ts';
import { freePort, spawnVexil, type VexilProcess } from '../helpers/vexil-process.ts';

const PASSWORD = 'startup-secret-pw';
const retryLines = (p: VexilProcess) => p.logs.filter((l) => /^cannot reach /.test(String(l.msg)));

describe('start-up while PostgreSQL is unreachable', () => {
  let ts: TestStore;
  let proxy: TcpBalancer | null = null;
  const running = new Set<VexilProcess>();
  before(async () => {
    ts = await openTestStore('postgres');
  });
  after(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await proxy?.close();
    await ts.cleanup();
  });
  const spawnTracked = (env: Record<string, string>) => {
    const p = spawnVexil(env);
    running.add(p);
    void p.exited.then(() => running.delete(p));
    return p;
  };

  test('a closed port: one plain line per attempt, then one plain line and exit 1, no stack, no password', async () => {
    const dbPort = await freePort();
    const node = spawnTracked({
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${dbPort}/test`,
      VEXIL_STARTUP_RETRY_SECONDS: '2',
    });
    const { code } = await node.exited;
    assert.equal(code, 1);
    const lines = retryLines(node);
    assert.ok(lines.length >= 2, `retried with back-off: ${JSON.stringify(node.logs)}`);
    for (const l of lines) {
      assert.match(String(l.msg), new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${dbPort}/test \\(ECONNREFUSED\\); retrying in \\d+\\.\\d s$`));
      assert.equal(l.code, 'ECONNREFUSED');
      assert.equal(l.err, undefined, 'no error object (and stack) per attempt');
    }
    const stderr = node.stderr();
    assert.match(stderr, new RegExp(`^Vexil failed to start: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${dbPort}/test \\(ECONNREFUSED\\) after \\d+ attempts in 2 s; giving up\\n$`));
    assert.ok(!JSON.stringify(node.logs).includes(PASSWORD) && !stderr.includes(PASSWORD), 'the password is never shown');
  });

  test('a database that comes up later: the node keeps retrying, then starts and serves', async () => {
    const dbPort = await freePort();
    const port = await freePort();
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${dbPort}`;
    url.searchParams.set('options', `-c search_path=${ts.options.schema}`);
    const node = spawnTracked({ PORT: String(port), DATABASE_URL: url.toString(), VEXIL_STARTUP_RETRY_SECONDS: '120' });
    // Two failed attempts, then the database "comes up": a proxy to the real server on that port.
    await node.waitForLog(/^cannot reach PostgreSQL/, 2);
    proxy = await startTcpBalancer([Number(new URL(TEST_DATABASE_URL).port || 5432)], dbPort);
    await node.waitForLog('listening');
    const ready = await fetch(`http://127.0.0.1:${port}/_readiness`);
    assert.equal(ready.status, 200);
    node.child.kill('SIGTERM');
    assert.equal((await node.exited).code, 0);
    assert.equal(node.stderr(), '', 'nothing on stderr');
  });
});
