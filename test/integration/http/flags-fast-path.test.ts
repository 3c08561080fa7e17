// POST /flags and /decide on a real socket take the node:http fast path; app.inject() goes
// through the fastify route. Both must answer every request byte for byte alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { addFlag, createProject, rollout, startTestApp, STORE_KINDS, type TestApp } from './http-helpers.ts';
import { mulberry32 } from '../../helpers/rng.ts';
import { bodyPool } from '../../../src/http/body-pool.ts';

const REQUEST_ID = '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000';

interface Case {
  name: string;
  url: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/** Complete HTTP answers at the start of `text` (each framed by its content-length). */
function countAnswers(text: string): number {
  let n = 0;
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return n;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, headEnd))?.[1] ?? 0);
    if (headEnd + 4 + length > text.length) return n;
    at = headEnd + 4 + length;
    n++;
  }
}

for (const kind of STORE_KINDS) {
  describe(`flags fast path equals the fastify route (${kind} store)`, () => {
    let t: TestApp;
    let base = '';
    before(async () => {
      t = await startTestApp(kind, { VEXIL_BODY_LIMIT_BYTES: '4096' });
      await addFlag(t, t.project.id, 'half', rollout(50));
      await addFlag(t, t.project.id, 'pro', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }], payloads: { true: '{"a":1}' } });
      await addFlag(t, t.project.id, 'stored', { groups: [{ properties: [{ key: 'country', type: 'person', operator: 'exact', value: ['DE'] }] }] });
      await t.store.applyPersonUpdates(t.project.id, [{ distinctId: 'known', set: { country: 'DE' } }]);
      await t.app.server.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.server.address();
      base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    after(async () => t.close());

    const token = () => t.project.token;
    const cases = (): Case[] => [
      { name: 'v2 with properties', url: '/flags?v=2', body: JSON.stringify({ token: token(), distinct_id: 'u1', person_properties: { plan: 'pro' } }) },
      { name: 'default shape (v2 + config)', url: '/flags', body: JSON.stringify({ token: token(), distinct_id: 'u2' }) },
      { name: 'stored person lookup', url: '/flags/?v=2', body: JSON.stringify({ token: token(), distinct_id: 'known' }) },
      { name: 'decide v3', url: '/decide?v=3', body: JSON.stringify({ token: token(), distinct_id: 'u3', person_properties: { plan: 'pro' } }) },
      { name: 'decide v2', url: '/decide/?v=2', body: JSON.stringify({ token: token(), distinct_id: 'u3' }) },
      { name: 'gzip-js body', url: '/flags?v=2&compression=gzip-js', body: gzipSync(JSON.stringify({ token: token(), distinct_id: 'u4' })) },
      { name: 'form data= base64', url: '/flags?v=1', body: `data=${Buffer.from(JSON.stringify({ token: token(), distinct_id: 'u5' })).toString('base64')}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { name: 'token in the query', url: `/flags?v=2&token=${token()}`, body: JSON.stringify({ distinct_id: 'u6' }) },
      { name: 'missing token', url: '/flags?v=2', body: JSON.stringify({ distinct_id: 'u7' }) },
      { name: 'unknown token', url: '/flags?v=2', body: JSON.stringify({ token: 'phc_nope', distinct_id: 'u7' }) },
      { name: 'malformed JSON', url: '/flags?v=2', body: '{"token": ' },
      { name: 'missing distinct_id', url: '/flags?v=2', body: JSON.stringify({ token: token() }) },
      { name: 'unsupported compression', url: '/flags?compression=zip', body: JSON.stringify({ token: token(), distinct_id: 'u' }) },
      { name: 'unsupported content type', url: '/flags', body: 'x', headers: { 'content-type': 'image/png' } },
      { name: 'body over the limit', url: '/flags?v=2', body: JSON.stringify({ token: token(), distinct_id: 'u', person_properties: { pad: 'x'.repeat(5000) } }) },
      { name: 'empty body', url: '/flags?v=2', body: '' },
      { name: 'CORS from a browser origin', url: '/flags?v=2', body: JSON.stringify({ token: token(), distinct_id: 'u8' }), headers: { origin: 'https://app.example.com' } },
    ];

    test('every case answers the same over the socket and through inject', async () => {
      for (const c of cases()) {
        const headers = { 'content-type': 'application/json', 'x-request-id': REQUEST_ID, ...c.headers };
        const viaSocket = await fetch(base + c.url, { method: 'POST', headers, body: c.body });
        const socketBody = await viaSocket.text();
        const viaInject = await t.app.server.inject({ method: 'POST', url: c.url, headers, payload: c.body });
        assert.equal(viaSocket.status, viaInject.statusCode, `${c.name}: status (${socketBody})`);
        assert.equal(viaSocket.headers.get('content-type'), viaInject.headers['content-type'], `${c.name}: content-type`);
        assert.equal(socketBody, viaInject.body, `${c.name}: body`);
        assert.equal(viaSocket.headers.get('x-request-id'), REQUEST_ID, `${c.name}: request id`);
        for (const h of ['access-control-allow-origin', 'access-control-allow-credentials', 'vary']) {
          assert.equal(viaSocket.headers.get(h) ?? undefined, viaInject.headers[h], `${c.name}: ${h}`);
        }
      }
    });

    test('random and mutated bodies over the socket never get a 5xx, and the server keeps serving', async () => {
      const rand = mulberry32(kind === 'postgres' ? 7 : 8);
      const valid = JSON.stringify({ token: token(), distinct_id: 'fuzz', person_properties: { plan: 'pro' } });
      const contentTypes = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png', ''];
      const queries = ['', '?v=2', '?compression=gzip-js', '?compression=base64', '?v=3&config=true', '?compression=nope'];
      for (let i = 0; i < 300; i++) {
        let body: Buffer;
        const r = rand();
        if (r < 0.3) body = Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
        else if (r < 0.6) {
          const b = Buffer.from(valid);
          for (let k = 0; k < 1 + Math.floor(rand() * 5); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
          body = b;
        } else if (r < 0.8) body = gzipSync(Buffer.from(valid).subarray(0, Math.floor(rand() * valid.length)));
        else body = Buffer.from(valid.slice(0, Math.floor(rand() * valid.length)));
        const ct = contentTypes[Math.floor(rand() * contentTypes.length)]!;
        const res = await fetch(`${base}/flags${queries[Math.floor(rand() * queries.length)]}`, {
          method: 'POST',
          headers: ct ? { 'content-type': ct } : {},
          body,
        });
        const text = await res.text();
        assert.ok(res.status < 500, `case ${i}: ${res.status} ${text.slice(0, 200)}`);
      }
      const ok = await fetch(`${base}/flags?v=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid });
      assert.equal(ok.status, 200);
    });

    test('responses written together after a batch keep to their requests: concurrent and pipelined', async () => {
      const id = (i: number) => `0190aaaa-bbbb-7ccc-8ddd-${i.toString(16).padStart(12, '0')}`;
      const body = (i: number) => JSON.stringify({ token: token(), distinct_id: `c${i}`, person_properties: { plan: i % 2 ? 'pro' : 'free' } });
      // Concurrent requests over several connections, then the same one at a time: equal answers.
      const concurrent = await Promise.all(Array.from({ length: 40 }, (_, i) =>
        fetch(`${base}/flags?v=2`, { method: 'POST', headers: { 'x-request-id': id(i) }, body: body(i) }).then(async (r) => [r.headers.get('x-request-id'), await r.text()])));
      for (let i = 0; i < 40; i += 7) {
        const r = await fetch(`${base}/flags?v=2`, { method: 'POST', headers: { 'x-request-id': id(i) }, body: body(i) });
        assert.deepEqual(concurrent[i], [id(i), await r.text()]);
      }
      // Pipelined on one socket, with a fastify-routed request in the middle: answers in request order.
      const raw = [0, 1, 2].map((i) => `POST /flags?v=2 HTTP/1.1\r\nhost: x\r\nx-request-id: ${id(i)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body(i))}\r\n\r\n${body(i)}`);
      raw.splice(2, 0, 'GET /_liveness HTTP/1.1\r\nhost: x\r\n\r\n');
      const port = Number(new URL(base).port);
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(raw.join('')));
        let got = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (got += d));
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
      });
      const heads = text.split('HTTP/1.1 ').slice(1);
      assert.equal(heads.length, 4, text.slice(0, 500));
      const ids = heads.map((h) => /x-request-id: ([^\r]+)/i.exec(h)?.[1]);
      assert.equal(ids[0], id(0));
      assert.equal(ids[1], id(1));
      assert.match(heads[2]!, /^200/);
      assert.equal(ids[3], id(2));
    });

    test('a client that stops reading gets every answer intact while other traffic reuses body memory', async () => {
      // A project of 40 flags: ~10 KB answers, so a few hundred fill the kernel's socket buffers.
      const wide = await createProject(t.store, 'wide');
      for (let f = 0; f < 40; f++) {
        await addFlag(t, wide.id, `wide-${f}`, f % 2 ? rollout(50) : { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] } });
      }
      const id = (i: number) => `0190bbbb-bbbb-7ccc-8ddd-${i.toString(16).padStart(12, '0')}`;
      const body = (i: number) => JSON.stringify({ token: wide.token, distinct_id: `slow${i}` });
      const request = (i: number) => `POST /flags?v=2 HTTP/1.1\r\nhost: x\r\nx-request-id: ${id(i)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body(i))}\r\n\r\n${body(i)}`;
      const N = 800;
      const deferredBefore = bodyPool.deferred;
      // Pipelined requests on a socket that is not read: answers queue behind each other and
      // behind full kernel buffers, so their bodies wait for their writes.
      const port = Number(new URL(base).port);
      // Answers arrive as latin1 text; complete once N bodies of their content-length are in.
      let text = '';
      const socket = connect(port, '127.0.0.1');
      socket.pause();
      socket.setEncoding('latin1');
      const complete = new Promise<void>((resolve, reject) => {
        socket.on('data', (d: string) => {
          text += d;
          if (countAnswers(text) >= N) resolve();
        });
        socket.on('error', reject);
      });
      // Not half-closed: a server that sees the end of a pipelined stream drops what it has not answered yet.
      socket.write(Array.from({ length: N }, (_, i) => request(i)).join(''));
      for (let wait = 0; bodyPool.deferred === deferredBefore && wait < 100; wait++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(bodyPool.deferred > deferredBefore, 'some answers waited for their writes');
      // Meanwhile other clients cycle through body memory many times over.
      for (let round = 0; round < 30; round++) {
        await Promise.all(Array.from({ length: 25 }, (_, k) =>
          fetch(`${base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token: wide.token, distinct_id: `busy${round}-${k}` }) }).then((r) => r.text())));
      }
      socket.resume();
      await complete;
      socket.destroy();
      // Split the stream by content-length and compare each answer with the fastify route's.
      let at = 0;
      for (let i = 0; i < N; i++) {
        const headEnd = text.indexOf('\r\n\r\n', at);
        assert.ok(headEnd > 0, `answer ${i} is there`);
        const head = text.slice(at, headEnd);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
        const answer = Buffer.from(text.slice(headEnd + 4, headEnd + 4 + length), 'latin1').toString('utf8');
        at = headEnd + 4 + length;
        assert.equal(/x-request-id: ([^\r]+)/i.exec(head)?.[1], id(i), `answer ${i} in order`);
        if (i % 50 === 0 || i === N - 1) {
          const expected = await t.app.server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json', 'x-request-id': id(i) }, payload: body(i) });
          assert.equal(answer, expected.body, `answer ${i} intact`);
        } else {
          assert.equal(JSON.parse(answer).requestId, id(i), `answer ${i} intact`);
        }
      }
    });

    test('fast-path requests are counted in the HTTP metrics', async () => {
      await fetch(`${base}/flags?v=2`, { method: 'POST', body: JSON.stringify({ token: token(), distinct_id: 'm' }) });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /vexil_http_requests_total\{[^}]*route="\/flags"[^}]*\} [1-9]/);
    });
  });
}
