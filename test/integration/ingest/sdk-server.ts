/**
 * @module test/integration/ingest/sdk-server
 * A listening Vexil server for SDK tests: the real HTTP layer (`buildServer`: /flags, /decide,
 * definitions) plus the capture plugin on one port, over a fresh test store, with one project.
 */
import type { FastifyInstance } from 'fastify';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { MemoryChangeBus } from '../../../src/cache/memory/memory-change-bus.ts';
import { PersonCache } from '../../../src/cache/person-cache.ts';
import { SnapshotCache } from '../../../src/cache/snapshot-cache.ts';
import type { FlagFiltersDef } from '../../../src/engine/index.ts';
import { buildServer } from '../../../src/http/server.ts';
import { registerCaptureRoutes } from '../../../src/ingest/capture-routes.ts';
import { createLogger } from '../../../src/log.ts';
import { createMetrics } from '../../../src/metrics.ts';
import type { FlagWrite, Store } from '../../../src/store/store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';

export interface SdkServer {
  server: FastifyInstance;
  store: Store;
  /** `http://127.0.0.1:<port>` */
  host: string;
  projectId: number;
  token: string;
  addFlag(key: string, filters: FlagFiltersDef, extra?: FlagWrite): Promise<void>;
  /** POST /flags?v=2 as posthog-js does; returns the parsed body. */
  flags(body: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1 with a random port. With `personCacheSize`, /flags caches
 * person lookups and capture invalidates them, wired as the composition root does.
 */
export async function startSdkServer(kind: StoreKind, opts: { personCacheSize?: number } = {}): Promise<SdkServer> {
  const testStore: TestStore = await openTestStore(kind);
  const store = testStore.store;
  const token = generateToken('phc');
  const project = await store.createProject({ name: 'sdk', apiToken: token, secretTokenHash: hashSecret(generateToken('phs')) });
  const log = createLogger('silent');
  const bus = new MemoryChangeBus();
  const snapshots = new SnapshotCache({ store, bus, log, pollIntervalMs: 0 });
  snapshots.start();
  const settings = { bodyLimitBytes: 1024 * 1024, decompressedLimitBytes: 8 * 1024 * 1024, rateLimitPerSecond: 0, lookupTimeoutMs: 5000 };
  const personCache = opts.personCacheSize ? new PersonCache({ maxEntries: opts.personCacheSize, maxAgeMs: 0 }) : null;
  const server = await buildServer({ settings, store, snapshots, metrics: createMetrics(), log, personCache });
  await registerCaptureRoutes(server, {
    store,
    resolveProject: async (t) => {
      const entry = await snapshots.resolveToken(t);
      return entry ? { id: entry.project.id } : null;
    },
    onPersonsChanged: (projectId, distinctIds) => personCache?.invalidate(projectId, distinctIds),
    onGroupsChanged: (projectId, groups) => personCache?.invalidateGroups(projectId, groups),
    onDefinitionsChanged: async (projectId) => {
      personCache?.invalidateProject(projectId);
      await snapshots.refresh(projectId);
    },
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const host = `http://127.0.0.1:${address.port}`;
  return {
    server,
    store,
    host,
    projectId: project.id,
    token,
    addFlag: async (key, filters, extra = {}) => {
      await store.createFlag(project.id, { key, name: key, active: true, filters, ...extra }, 'test');
      await snapshots.refresh(project.id);
    },
    flags: async (body) => {
      const res = await fetch(`${host}/flags/?v=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, ...body }) });
      if (res.status !== 200) throw new Error(`/flags answered ${res.status}: ${await res.text()}`);
      return res.json();
    },
    close: async () => {
      await server.close();
      snapshots.stop();
      await bus.close();
      await testStore.cleanup();
    },
  };
}
