// Issue 13 part 6: a body over the limit is answered with a readable 413 even while the client is
// still sending, on the POST /flags fast path and on fastify's routes (Node's fetch used to see
// EPIPE from about 2 MB up). A real process, so that client and server do not share an event loop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/db.ts';
import { freePort, spawnVexil, type VexilProcess } from '../../helpers/vexil-process.ts';
import { createProject } from './http-helpers.ts';

const LIMIT = 1024 * 1024;
const ATTEMPTS = 3;

describe('bodies over the limit (postgres store, real process)', () => {
  let ts: TestStore;
  let node: VexilProcess;
  let base = '';
  let token = '';
  before(async () => {
    ts = await openTestStore('postgres');
    token = (await createProject(ts.store, 'limits')).token;
    const port = await freePort();
    node = spawnVexil({
      PORT: String(port),
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${ts.options.schema}`)}`,
      VEXIL_BODY_LIMIT_BYTES: String(LIMIT),
    });
    await node.waitForLog('listening');
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    node.child.kill('SIGTERM');
    await node.exited;
    await ts.cleanup();
  });

  // Ten times the limit: the server decides long before the client has finished sending.
  const bigBody = () => JSON.stringify({ token, distinct_id: 'u', person_properties: { pad: 'x'.repeat(10 * LIMIT) } });
  const chunked = (text: string) => {
    const bytes = Buffer.from(text);
    return new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.length; at += 64 * 1024) c.enqueue(bytes.subarray(at, at + 64 * 1024));
        c.close();
      },
    });
  };

  const post = (path: string, text: string, mode: 'content-length' | 'chunked') =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: mode === 'chunked' ? chunked(text) : text,
      duplex: 'half',
    } as RequestInit);

  for (const mode of ['content-length', 'chunked'] as const) {
    test(`POST /flags answers 413 with PostHog's plain-text sentence (${mode} body)`, async () => {
      for (let i = 0; i < ATTEMPTS; i++) {
        const res = await post('/flags?v=2', bigBody(), mode);
        assert.equal(res.status, 413);
        assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
        assert.equal(res.headers.get('connection'), 'close');
        assert.equal(await res.text(), `Request body exceeds the limit of ${LIMIT} bytes.`);
      }
      // The connection was closed cleanly: the node still answers.
      const ok = await fetch(`${base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token, distinct_id: 'u' }) });
      assert.equal(ok.status, 200);
    });

    test(`a fastify route (admin API) answers its 413 too (${mode} body)`, async () => {
      for (let i = 0; i < ATTEMPTS; i++) {
        const res = await post('/api/projects/', bigBody(), mode);
        assert.equal(res.status, 413);
        const body = (await res.json()) as { type: string; code: string };
        assert.deepEqual([body.type, body.code], ['invalid_request', 'payload_too_large']);
      }
    });
  }
});
