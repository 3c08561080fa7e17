// Snapshot cache and change buses against real Redis: a change on one node reaches the other;
// the revision poll catches changes nobody announced; Redis being down degrades, never breaks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { SnapshotCache } from '../../../src/cache/snapshot-cache.ts';
import type { DefinitionsMirror } from '../../../src/cache/definitions-mirror.ts';
import type { ProjectDefinitionsRow } from '../../../src/store/store.ts';
import { MemoryChangeBus } from '../../../src/cache/memory/memory-change-bus.ts';
import { RedisChangeBus } from '../../../src/cache/redis/redis-change-bus.ts';
import { createLogger } from '../../../src/log.ts';
import { REDIS_URL, requireRedis } from '../../helpers/redis.ts';
import { openTestStore, type TestStore } from '../../helpers/db.ts';
import { createProject, type TestProject } from './http-helpers.ts';

const silent = createLogger('silent');

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('snapshot cache', () => {
  let ts: TestStore;
  let project: TestProject;
  const channel = `vexil-test:${randomBytes(6).toString('hex')}`;

  before(async () => {
    await requireRedis();
    ts = await openTestStore('postgres');
    project = await createProject(ts.store, 'cache test');
  });
  after(async () => ts.cleanup());

  /** Two caches, each on its own Redis connection to one channel, as two nodes are. */
  async function withTwoNodes(run: (a: SnapshotCache, b: SnapshotCache) => Promise<void>): Promise<void> {
    const busA = await RedisChangeBus.open({ url: REDIS_URL, channel, log: silent });
    const busB = await RedisChangeBus.open({ url: REDIS_URL, channel, log: silent });
    const a = new SnapshotCache({ store: ts.store, bus: busA, log: silent, pollIntervalMs: 0 });
    const b = new SnapshotCache({ store: ts.store, bus: busB, log: silent, pollIntervalMs: 0 });
    a.start();
    b.start();
    try {
      await run(a, b);
    } finally {
      a.stop();
      b.stop();
      await busA.close();
      await busB.close();
    }
  }

  test('two nodes on one Redis: a change published by one rebuilds the other', async () => {
    await withTwoNodes(async (a, b) => {
      const before = await b.resolveToken(project.token);
      assert.ok(before);
      assert.equal(before.snapshot.flags.length, 0);
      await ts.store.createFlag(project.id, { key: 'via-redis', name: 'x', active: true, filters: { groups: [] } }, 'test');
      await a.refresh(project.id);
      assert.equal(a.peekToken(project.token)!.snapshot.flags.length, 1, 'the writing node serves the change at once');
      await until('node B to rebuild', () => b.peekToken(project.token)!.snapshot.flags.length === 1);
      assert.ok(b.peekToken(project.token)!.revision > before.revision);
    });
  });

  test('a deleted project is dropped on the node that deleted it and, through Redis, on the others', async () => {
    const doomed = await createProject(ts.store, 'to delete');
    await withTwoNodes(async (a, b) => {
      assert.ok(await a.resolveToken(doomed.token));
      assert.ok(await b.resolveToken(doomed.token));
      assert.equal(await ts.store.deleteProject(doomed.id), true);
      await a.refresh(doomed.id);
      assert.equal(a.peekToken(doomed.token), undefined, 'the deleting node stops serving it at once');
      assert.equal(await a.resolveToken(doomed.token), null);
      await until('node B to drop it', () => b.peekToken(doomed.token) === undefined);
      assert.equal(await b.resolveToken(doomed.token), null);
    });
  });

  test('the memory bus delivers to every cache in the process', async () => {
    const bus = new MemoryChangeBus();
    const a = new SnapshotCache({ store: ts.store, bus, log: silent, pollIntervalMs: 0 });
    const b = new SnapshotCache({ store: ts.store, bus, log: silent, pollIntervalMs: 0 });
    a.start();
    b.start();
    const n = (await b.resolveToken(project.token))!.snapshot.flags.length;
    await ts.store.createFlag(project.id, { key: 'via-memory', name: 'x', active: true, filters: { groups: [] } }, 'test');
    await a.refresh(project.id);
    await until('node B to rebuild', () => b.peekToken(project.token)!.snapshot.flags.length === n + 1);
    a.stop();
    b.stop();
    await bus.close();
  });

  test('an announced revision neither the mirror nor the database can give yet is retried until the mirror has it', async () => {
    const bus = new MemoryChangeBus();
    let databaseDown = false;
    // The store as a node whose PostgreSQL becomes unreachable sees it.
    const store = new Proxy(ts.store, {
      get(target, key) {
        if (key === 'loadProjectDefinitions' && databaseDown) return async () => Promise.reject(new Error('database unreachable'));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // A mirror whose writer has not caught up yet (its Redis just came back).
    let mirrored: ProjectDefinitionsRow | null = null;
    const mirror: DefinitionsMirror = { put: async () => undefined, get: async () => mirrored, getByToken: async () => mirrored, close: async () => undefined };
    const cache = new SnapshotCache({ store, bus, log: silent, pollIntervalMs: 0, mirror });
    cache.start();
    try {
      const served = (await cache.resolveToken(project.token))!;
      mirrored = served.definitions;
      await ts.store.createFlag(project.id, { key: 'after-catch-up', name: 'x', active: true, filters: { groups: [] } }, 'test');
      const next = (await ts.store.loadProjectDefinitions(project.id))!;
      databaseDown = true;
      await bus.publish({ projectId: project.id, revision: next.project.revision });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(cache.peekToken(project.token)!.revision, served.revision, 'nothing newer to be had yet');
      mirrored = next;
      await until('the announced revision to be served from the mirror', () => cache.peekToken(project.token)!.revision === next.project.revision);
    } finally {
      cache.stop();
      await bus.close();
    }
  });

  test('the revision poll rebuilds a snapshot nobody announced; entries are derived once per revision', async () => {
    const cache = new SnapshotCache({ store: ts.store, bus: new MemoryChangeBus(), log: silent, pollIntervalMs: 0 });
    const entry = (await cache.resolveToken(project.token))!;
    let builds = 0;
    const derive = () => entry.derive('test', () => ++builds);
    assert.equal(derive(), 1);
    assert.equal(derive(), 1);
    await ts.store.createFlag(project.id, { key: 'silent-change', name: 'x', active: true, filters: { groups: [] } }, 'test');
    assert.equal(cache.peekToken(project.token), entry, 'nothing changes without a notice or a poll');
    await cache.pollOnce();
    const fresh = cache.peekToken(project.token)!;
    assert.notEqual(fresh, entry);
    assert.ok(fresh.snapshot.ordinalByKey.has('silent-change'));
    await cache.pollOnce();
    assert.equal(cache.peekToken(project.token), fresh, 'same revision, same entry');
  });

  test('unknown tokens resolve to null and are remembered briefly', async () => {
    const cache = new SnapshotCache({ store: ts.store, bus: new MemoryChangeBus(), log: silent, pollIntervalMs: 0 });
    assert.equal(await cache.resolveToken('phc_nobody'), null);
    assert.equal(await cache.resolveToken('phc_nobody'), null);
  });

  test('Redis unreachable: open() still resolves, warns once, publish does not throw', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const bus = await RedisChangeBus.open({ url: 'redis://127.0.0.1:1', channel, log, connectTimeoutMs: 300 });
    await bus.publish({ projectId: 1, revision: 1 });
    await bus.close();
    assert.ok(lines.some((l) => l.includes('fall back to polling')), lines.join(''));
  });
});
