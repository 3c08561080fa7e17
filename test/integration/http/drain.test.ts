// The HTTP drain in one process: during app.close(), a request on a connection already open is
// answered (readiness says 503, status "shutting_down") with Connection: close, and an idle keep-alive
// connection is closed by the sweep, so close() completes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startTestApp, type TestApp } from './http-helpers.ts';

function get(port: number, agent: Agent, path: string): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP drain during app.close() (postgres store)', () => {
  let t: TestApp;
  let port = 0;
  before(async () => {
    t = await startTestApp('postgres');
    await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => t.testStore.cleanup());

  test('open connections are answered with Connection: close, idle ones are closed, close() completes', async () => {
    const busy = new Agent({ keepAlive: true, maxSockets: 1 });
    const idle = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await get(port, busy, '/_readiness')).status, 200);
    const first = await get(port, idle, '/_liveness');
    assert.equal(first.connection, 'keep-alive');
    const idleSocket = Object.values(idle.freeSockets)[0]![0]!;
    const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()));

    const closing = t.app.close();
    // The listener is closed; the open keep-alive connection is still served.
    const during = await get(port, busy, '/_readiness');
    assert.deepEqual({ ...during, body: JSON.parse(during.body).status }, { status: 503, connection: 'close', body: 'shutting_down' });
    await idleClosed;
    await closing;
    busy.destroy();
    idle.destroy();
  });
});
