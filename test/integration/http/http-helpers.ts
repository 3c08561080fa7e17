/**
 * @module test/integration/http/http-helpers
 * Starts a Vexil app on a fresh test store (embedded or PostgreSQL) for HTTP tests, with the
 * bootstrap project and key, plus small helpers to create flags and call the endpoints.
 */
import { gzipSync } from 'node:zlib';
import { createApp, type App } from '../../../src/app.ts';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import type { FlagFiltersDef } from '../../../src/engine/index.ts';
import type { FlagWrite, Store } from '../../../src/store/store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';

/** Both backends: every HTTP suite runs once per kind. */
export const STORE_KINDS: readonly StoreKind[] = ['embedded', 'postgres'];

export interface TestProject {
  id: number;
  token: string;
  secret: string;
}

export interface TestApp {
  app: App;
  store: Store;
  testStore: TestStore;
  /** The bootstrap project. */
  project: TestProject;
  /** A full-access personal API key. */
  personalKey: string;
  /** Pinned clock of the app, ms. */
  now: number;
  close(): Promise<void>;
}

/** A fixed instant (2026-01-15T12:00:00Z) so date filters never depend on today. */
export const TEST_NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A migrated store of `kind` with an app on it; env overrides Config defaults. */
export async function startTestApp(
  kind: StoreKind,
  env: Record<string, string> = {},
  options: { wrapStore?: (store: Store) => Store; webDir?: string | null } = {},
): Promise<TestApp> {
  const testStore = await openTestStore(kind);
  const config = loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', ...env });
  const app = await createApp(config, {
    store: options.wrapStore ? options.wrapStore(testStore.store) : testStore.store,
    log: createLogger('silent'),
    print: () => undefined,
    now: () => TEST_NOW,
    defaultMetrics: false,
    // No admin UI unless a test asks for one: `/` then answers plain text whatever was built.
    webDir: options.webDir ?? null,
  });
  const p = app.bootstrap.project!;
  return {
    app,
    store: testStore.store,
    testStore,
    project: { id: p.id, token: p.apiToken, secret: p.secretToken },
    personalKey: app.bootstrap.personalApiKey!,
    now: TEST_NOW,
    close: async () => {
      await app.close();
      await testStore.cleanup();
    },
  };
}

/** A second project with its own token and secret. */
export async function createProject(store: Store, name: string): Promise<TestProject> {
  const token = generateToken('phc');
  const secret = generateToken('phs');
  const row = await store.createProject({ name, apiToken: token, secretTokenHash: hashSecret(secret) });
  return { id: row.id, token, secret };
}

/** Creates an active flag and makes the app serve it. */
export async function addFlag(t: TestApp, projectId: number, key: string, filters: FlagFiltersDef, extra: FlagWrite = {}): Promise<number> {
  const row = await t.store.createFlag(projectId, { key, name: key, active: true, filters, ...extra }, 'test');
  await t.app.notifyDefinitionsChanged(projectId);
  return row.id;
}

/** A rollout-only condition. */
export const rollout = (pct: number): FlagFiltersDef => ({ groups: [{ properties: [], rollout_percentage: pct }] });

/** POST a JSON body to /flags (or another path) and return status, headers, body text. */
export async function postFlags(t: TestApp, body: unknown, url = '/flags?v=2', headers: Record<string, string> = {}) {
  const res = await t.app.server.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  return res;
}

/** Parses a JSON response body, failing the test with the raw text if it is not JSON. */
export function json(res: { body: string }): any {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new Error(`response is not JSON: ${res.body.slice(0, 300)}`);
  }
}

/** A store wrapper that counts calls and can make the per-request lookups fail, hang or close the store first. */
export class StoreProbe {
  calls = new Map<string, number>();
  mode: 'normal' | 'fail' | 'hang' | 'close' = 'normal';
  wrap(store: Store): Store {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const name = String(prop);
          this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
          if (name === 'loadEvaluationData' || name === 'writeHashKeyOverrides') {
            if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
            if (this.mode === 'hang') return new Promise(() => undefined);
            if (this.mode === 'close') return target.close().then(() => value.apply(target, args));
          }
          return value.apply(target, args);
        };
      },
    });
  }
  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

export { gzipSync };
