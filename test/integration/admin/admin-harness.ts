/**
 * @module test/integration/admin/admin-harness
 * A fastify instance with only the admin plugin, over a real store (embedded or PostgreSQL),
 * plus helpers: keys with chosen scopes, a recorded list of change notices, `call()` via inject.
 */
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { generateToken, hashSecret } from '../../../src/auth/keys.ts';
import { registerAdminRoutes } from '../../../src/admin/routes.ts';
import type { ProjectRow } from '../../../src/store/store.ts';
import { openTestStore, type StoreKind, type TestStore } from '../../helpers/db.ts';

/** Both backends: every admin suite runs against each (STYLE §4, §10). */
export const STORE_KINDS: readonly StoreKind[] = ['embedded', 'postgres'];

export interface Reply {
  status: number;
  body: any;
  headers: Record<string, unknown>;
  raw: string;
}

export interface AdminHarness {
  app: FastifyInstance;
  db: TestStore;
  /** A full-access (`*`, every project) key. */
  rootKey: string;
  /** Project ids passed to onDefinitionsChanged, in order. */
  notices: number[];
  /** Creates a personal API key directly in the store. */
  makeKey(scopes: string[], scopedProjects?: number[] | null): Promise<string>;
  /** Creates a project through the API with the root key; returns its JSON (incl. the one-time secret). */
  makeProject(name?: string): Promise<any>;
  call(method: string, url: string, opts?: { body?: unknown; key?: string | null; headers?: Record<string, string>; rawBody?: string }): Promise<Reply>;
  close(): Promise<void>;
}

/** Opens a store of `kind`, registers the admin plugin and creates a root key. */
export async function openAdmin(kind: StoreKind, opts: { bodyLimitBytes?: number } = {}): Promise<AdminHarness> {
  const db = await openTestStore(kind);
  const notices: number[] = [];
  const app = Fastify({ logger: false });
  await registerAdminRoutes(app, { store: db.store, onDefinitionsChanged: (id) => void notices.push(id), bodyLimitBytes: opts.bodyLimitBytes });
  await app.ready();

  const makeKey = async (scopes: string[], scopedProjects: number[] | null = null): Promise<string> => {
    const value = generateToken('phx');
    await db.store.createPersonalApiKey({ label: `key-${scopes.join('+')}`, keyHash: hashSecret(value), scopes, scopedProjects });
    return value;
  };
  const rootKey = await makeKey(['*']);

  const call: AdminHarness['call'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const key = o.key === undefined ? rootKey : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.inject({ method: method as 'GET', url, headers, payload });
    let body: unknown = undefined;
    try {
      body = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      body = res.body;
    }
    return { status: res.statusCode, body, headers: res.headers, raw: res.body };
  };

  const makeProject = async (name = 'Project'): Promise<any> => {
    const res = await call('POST', '/api/projects/', { body: { name } });
    assert.equal(res.status, 201, res.raw);
    return res.body;
  };

  return {
    app, db, rootKey, notices, makeKey, makeProject, call,
    close: async () => {
      await app.close();
      await db.cleanup();
    },
  };
}

/** Asserts a DRF error body: status, type, code and (when given) attr and a detail fragment. */
export function assertDrfError(
  res: Reply,
  status: number,
  expected: { type?: string; code?: string; attr?: string | null; detail?: string | RegExp },
): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.raw}`);
  assert.deepEqual(Object.keys(res.body).sort(), ['attr', 'code', 'detail', 'type'], res.raw);
  if (expected.type !== undefined) assert.equal(res.body.type, expected.type, res.raw);
  if (expected.code !== undefined) assert.equal(res.body.code, expected.code, res.raw);
  if (expected.attr !== undefined) assert.equal(res.body.attr, expected.attr, res.raw);
  if (typeof expected.detail === 'string') assert.ok(res.body.detail.includes(expected.detail), `detail ${JSON.stringify(res.body.detail)} lacks ${JSON.stringify(expected.detail)}`);
  if (expected.detail instanceof RegExp) assert.match(res.body.detail, expected.detail);
}

/** A minimal valid flag body. */
export function flagBody(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { key, name: `Flag ${key}`, filters: { groups: [{ properties: [], rollout_percentage: 100 }] }, ...extra };
}

/** Creates a flag through the API and returns its JSON. */
export async function createFlag(h: AdminHarness, projectId: number, body: Record<string, unknown>): Promise<any> {
  const res = await h.call('POST', `/api/projects/${projectId}/feature_flags/`, { body });
  assert.equal(res.status, 201, res.raw);
  return res.body;
}

/** Creates a dynamic cohort `email icontains <needle>` and returns its JSON. */
export async function createCohort(h: AdminHarness, projectId: number, name: string, filters?: unknown): Promise<any> {
  const res = await h.call('POST', `/api/projects/${projectId}/cohorts/`, {
    body: {
      name,
      filters: filters ?? { properties: { type: 'OR', values: [{ type: 'AND', values: [{ type: 'person', key: 'email', operator: 'icontains', value: '@x.com' }] }] } },
    },
  });
  assert.equal(res.status, 201, res.raw);
  return res.body;
}

export type { ProjectRow };
