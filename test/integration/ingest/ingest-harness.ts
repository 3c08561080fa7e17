/**
 * @module test/integration/ingest/ingest-harness
 * A bare fastify app with the capture and person plugins on a fresh test store (PostgreSQL or
 * PGlite), two projects, a personal API key, and recorders for the change notices.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { createMetrics, type Metrics } from '../../../src/metrics.ts';
import { registerCaptureRoutes, type CaptureLimits } from '../../../src/ingest/capture-routes.ts';
import { registerPersonRoutes } from '../../../src/ingest/person-routes.ts';
import type { Store } from '../../../src/store/store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';

/** Both backends: every ingest suite runs once per kind. */
export const STORE_KINDS: readonly StoreKind[] = ['embedded', 'postgres'];

export interface IngestProject {
  id: number;
  token: string;
}

export interface IngestApp {
  app: FastifyInstance;
  store: Store;
  metrics: Metrics;
  /** Two projects, so isolation can be checked. */
  a: IngestProject;
  b: IngestProject;
  /** A full-access personal API key. */
  key: string;
  /** Change notices received, in order. */
  notices: {
    persons: Array<{ projectId: number; distinctIds: string[] }>;
    allPersons: number[];
    definitions: number[];
    groups: Array<{ projectId: number; groups: Array<{ groupTypeIndex: number; groupKey: string }> }>;
  };
  close(): Promise<void>;
}

async function createProject(store: Store, name: string): Promise<IngestProject> {
  const token = generateToken('phc');
  const row = await store.createProject({ name, apiToken: token, secretTokenHash: hashSecret(generateToken('phs')) });
  return { id: row.id, token };
}

/** Opens a store of `kind` and builds the app on it. */
export async function startIngestApp(kind: StoreKind, limits: Partial<CaptureLimits> = {}): Promise<IngestApp> {
  const testStore: TestStore = await openTestStore(kind);
  const store = testStore.store;
  const a = await createProject(store, 'A');
  const b = await createProject(store, 'B');
  const key = generateToken('phx');
  await store.createPersonalApiKey({ label: 'test', keyHash: hashSecret(key), scopes: ['*'], scopedProjects: null });
  const notices: IngestApp['notices'] = { persons: [], allPersons: [], definitions: [], groups: [] };
  const metrics = createMetrics();
  const app = Fastify();
  await registerCaptureRoutes(app, {
    store,
    resolveProject: async (token) => {
      const p = await store.getProjectByApiToken(token);
      return p ? { id: p.id } : null;
    },
    onPersonsChanged: (projectId, distinctIds) => void notices.persons.push({ projectId, distinctIds }),
    onDefinitionsChanged: (projectId) => void notices.definitions.push(projectId),
    onGroupsChanged: (projectId, groups) => void notices.groups.push({ projectId, groups }),
    metrics,
    limits,
  });
  await registerPersonRoutes(app, {
    store,
    onPersonsChanged: (projectId, distinctIds) => void notices.persons.push({ projectId, distinctIds }),
    onAllPersonsChanged: (projectId) => void notices.allPersons.push(projectId),
  });
  await app.ready();
  return {
    app,
    store,
    metrics,
    a,
    b,
    key,
    notices,
    close: async () => {
      await app.close();
      await testStore.cleanup();
    },
  };
}

/** POSTs a JSON value (or raw string/bytes) to a capture path. */
export function capture(
  t: IngestApp,
  body: unknown,
  url = '/batch/',
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<LightMyRequestResponse> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return t.app.inject({ method: 'POST', url, headers, payload });
}

/** The response body as JSON, failing with the raw text when it is not JSON. */
export function json(res: { body: string }): any {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new Error(`response is not JSON: ${res.body.slice(0, 300)}`);
  }
}

/** The stored properties of the person with this distinct id, or null. */
export async function propsOf(t: IngestApp, projectId: number, distinctId: string): Promise<Record<string, unknown> | null> {
  return (await t.store.getPersonByDistinctId(projectId, distinctId))?.properties ?? null;
}
