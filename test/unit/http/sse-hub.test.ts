// The SSE hub on real loopback sockets with a passed-in clock: the response head it writes,
// heartbeats spread by per-stream skews, and a reader that stops reading cut at the buffer cap
// while the others get every frame.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import { SseHub, sseFrame, type SseClient } from '../../../src/http/streams/sse-hub.ts';

let server: Server;
let port = 0;
const accepted: Socket[] = [];
const clients: Socket[] = [];

before(async () => {
  server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  for (const s of [...clients, ...accepted]) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** A connected pair: the server side as the hub sees it (request, reply), and the client end. */
async function pair(): Promise<{ request: IncomingMessage; reply: FastifyReply; client: Socket }> {
  const client = connect({ host: '127.0.0.1', port });
  clients.push(client);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  while (accepted.length < clients.length) await new Promise((r) => setImmediate(r));
  const socket = accepted[clients.length - 1]!;
  const reply = { hijack: () => undefined, getHeaders: () => ({ 'x-request-id': 'r1', 'x-bad': 'a\r\nb' }) };
  return { request: { socket } as IncomingMessage, reply: reply as unknown as FastifyReply, client };
}

/** Everything the client end received until `done(text)` says enough (bounded). */
async function readUntil(client: Socket, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const onData = (c: Buffer) => (text += c.toString('latin1'));
  client.on('data', onData);
  for (let i = 0; i < 500 && !done(text); i++) await new Promise((r) => setTimeout(r, 10));
  client.off('data', onData);
  return text;
}

test('the head is HTTP/1.1 200 text/event-stream, closed with the connection; unsafe header values are left out', async () => {
  const hub = new SseHub({ now: () => 0, heartbeatMs: 1000, maxBufferBytes: 1 << 20, autoHeartbeat: false });
  const { request, reply, client } = await pair();
  const stream = hub.open(request, reply, 1, () => undefined)!;
  hub.send(stream, sseFrame('hello', '{}', 7));
  const text = await readUntil(client, (t) => t.includes('\n\n'));
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head!, /\r\ncontent-type: text\/event-stream; charset=utf-8/);
  assert.match(head!, /\r\nconnection: close/);
  assert.match(head!, /\r\nx-request-id: r1/);
  assert.doesNotMatch(head!, /x-bad/);
  assert.doesNotMatch(head!, /transfer-encoding/i);
  assert.equal(body, 'id: 7\nevent: hello\ndata: {}\n\n');
  hub.closeAll();
});

test('streams written together get their heartbeats at different ticks, all within a period', async () => {
  let now = 0;
  const hub = new SseHub({ now: () => now, heartbeatMs: 1000, maxBufferBytes: 1 << 20, autoHeartbeat: false });
  const streams: SseClient[] = [];
  for (let i = 0; i < 8; i++) {
    const { request, reply } = await pair();
    streams.push(hub.open(request, reply, 1, () => undefined)!);
  }
  const heard = () => streams.filter((s) => s.lastWriteAt === now).length;
  now = 499;
  hub.tick();
  assert.equal(heard(), 0, 'nobody is due before half a period');
  now = 750;
  hub.tick();
  const early = heard();
  assert.ok(early > 0 && early < 8, `some, not all, are due at 3/4 of a period (${early})`);
  now = 1000;
  hub.tick();
  assert.equal(heard(), 8 - early, 'the rest are due at a full period');
  hub.closeAll();
});

test('a reader that stops reading is closed at the cap; its unsent bytes never pass it, the others get every frame', async () => {
  const cap = 256 * 1024;
  const events: string[] = [];
  const hub = new SseHub({ now: () => 0, heartbeatMs: 60_000, maxBufferBytes: cap, autoHeartbeat: false, onEvent: (e) => events.push(e) });
  const slow = await pair();
  const healthy = await pair();
  slow.client.pause();
  const slowStream = hub.open(slow.request, slow.reply, 1, () => undefined)!;
  const healthyStream = hub.open(healthy.request, healthy.reply, 1, () => undefined)!;
  const frame = sseFrame('big', JSON.stringify('x'.repeat(64 * 1024)));
  let maxPending = 0;
  let sent = 0;
  const received = readUntil(healthy.client, (t) => t.split('event: big').length - 1 === sent && sent > 0 && !slowStream.socket.writable);
  // Kernel buffers take the first megabytes; 400 frames (26 MB) overrun any of them.
  for (let i = 0; i < 400 && slowStream.socket.writable; i++) {
    hub.send(slowStream, frame);
    maxPending = Math.max(maxPending, slowStream.socket.writableLength);
    assert.ok(hub.send(healthyStream, frame));
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(slowStream.socket.destroyed, 'the slow reader was closed');
  assert.ok(maxPending <= cap, `unsent bytes stayed under the cap (${maxPending})`);
  assert.deepEqual(events.filter((e) => e === 'slow'), ['slow']);
  assert.equal((await received).split('event: big').length - 1, sent, 'the healthy reader got every frame');
  hub.closeAll();
});
