import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEvents, type StreamEvent } from '../../../src/client/sse-parse.ts';

async function collect(chunks: string[]): Promise<{ events: StreamEvent[]; comments: string[] }> {
  const comments: string[] = [];
  const body = (async function* () {
    for (const c of chunks) yield new TextEncoder().encode(c);
  })();
  const events: StreamEvent[] = [];
  for await (const e of readEvents(body, (c) => comments.push(c))) events.push(e);
  return { events, comments };
}

test('events split across chunks, ids, default event name, comments', async () => {
  const { events, comments } = await collect(['id: 7\nevent: defin', 'itions\ndata: {"a":1}\n', '\n: heartbeat\n\ndata: x\n\n']);
  assert.deepEqual(events, [
    { id: '7', event: 'definitions', data: '{"a":1}' },
    { id: undefined, event: 'message', data: 'x' },
  ]);
  assert.deepEqual(comments, ['heartbeat']);
});

test('CRLF line endings and multi-line data', async () => {
  const { events } = await collect(['event: m\r\ndata: one\r\ndata:two\r\n\r\n']);
  assert.deepEqual(events, [{ id: undefined, event: 'm', data: 'one\ntwo' }]);
});

test('a block without data is not an event; unfinished input at the end is dropped', async () => {
  const { events } = await collect(['event: nothing\n\n', 'data: partial']);
  assert.deepEqual(events, []);
});
