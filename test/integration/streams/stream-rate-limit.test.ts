// Stream connections count against VEXIL_RATE_LIMIT_PER_SECOND like every other flag-serving
// request, per project token and per route: opening past the bucket is a 429 with Retry-After
// and PostHog's JSON body; events on streams already open are never limited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { openSse, type SseReader } from '../../helpers/sse.ts';
import { addFlag, rollout, startTestApp, type TestApp } from '../http/http-helpers.ts';

describe('stream opens are rate limited per project token', () => {
  let t: TestApp;
  let base = '';
  const readers: SseReader[] = [];
  const aborts: AbortController[] = [];

  /** Opens `path` until the server answers 429 (at most 30 tries); returns that answer. */
  const openUntilLimited = async (path: string, headers: Record<string, string>) => {
    for (let i = 0; i < 30; i++) {
      const abort = new AbortController();
      aborts.push(abort);
      const res = await fetch(`${base}${path}`, { headers, signal: abort.signal });
      if (res.status === 429) return res;
      assert.equal(res.status, 200, `${path} opened`);
    }
    assert.fail(`${path}: 30 opens in a row were all accepted`);
  };

  before(async () => {
    // Three opens a second per project and route: a test opening thirty in a row overruns it
    // however slow the machine, and the bucket refills long before the next test needs it.
    t = await startTestApp('embedded', { VEXIL_RATE_LIMIT_PER_SECOND: '3' });
    await t.app.server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const r of readers) r.close();
    for (const a of aborts) a.abort();
    await t.close();
  });

  test('/flags/stream: 429 with Retry-After past the rate; open streams still get every change', async () => {
    const open = await openSse(`${base}/flags/stream`, { authorization: `Bearer ${t.project.token}` });
    readers.push(open);
    assert.equal(open.status, 200);
    await open.waitFor((e) => e.event === 'connected', 'connected');

    const limited = await openUntilLimited('/flags/stream', { authorization: `Bearer ${t.project.token}` });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After in whole seconds');
    assert.deepEqual(await limited.json(), { type: 'validation_error', code: 'rate_limit_exceeded', detail: 'Rate limit exceeded', attr: null });

    // The bucket is empty now; events are not connection opens and are not counted.
    await addFlag(t, t.project.id, 'after-limit', rollout(100));
    await t.app.notifyDefinitionsChanged(t.project.id);
    const msg = await open.waitFor((e) => e.event === 'message', 'the change on the open stream');
    assert.equal(JSON.parse(msg.data).key, 'after-limit');

    // Each route has its own bucket: the definitions stream still opens.
    const defs = await openSse(`${base}/flags/definitions/stream?token=${t.project.token}`, { authorization: `Bearer ${t.personalKey}` });
    readers.push(defs);
    assert.equal(defs.status, 200);
  });

  test('/flags/definitions/stream: 429 with Retry-After past the rate', async () => {
    const limited = await openUntilLimited(`/flags/definitions/stream?token=${t.project.token}`, { authorization: `Bearer ${t.personalKey}` });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(((await limited.json()) as { code: string }).code, 'rate_limit_exceeded');
  });

  test('an unknown token is refused with 401, whatever the buckets hold', async () => {
    const res = await fetch(`${base}/flags/stream?token=phc_not_a_project_token_zz`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});
