/**
 * @module http/routes/remote-config
 * `GET /api/projects/{id|@current}/feature_flags/{id|key}/remote_config[?token=phc_…]`, the
 * endpoint behind posthog-node's `getRemoteConfigPayload` (PostHog's
 * `FeatureFlagViewSet.remote_config`, ported to rust/feature-flags `api/remote_config.rs`):
 * the `"true"` payload of a remote-configuration flag, decrypted for a personal API key and
 * redacted for the project secret. Flags and projects come from the cached snapshot.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../auth/keys.ts';
import { decryptPayloads, REDACTED_PAYLOAD, type PayloadCipher } from '../../auth/payload-cipher.ts';
import type { ProjectEntry, SnapshotCache } from '../../cache/snapshot-cache.ts';
import { isVexilError, VexilError } from '../../errors.ts';
import type { FlagRow, Store } from '../../store/store.ts';
import { authorizeDefinitions, type FlagReader } from '../definitions/definitions-auth.ts';

/** What the remote_config route needs. */
export interface RemoteConfigRouteDeps {
  store: Store;
  snapshots: SnapshotCache;
  /** null: no key is configured, so an encrypted payload cannot be read (500, as PostHog). */
  payloadCipher: PayloadCipher | null;
}

const ALLOW = 'GET, OPTIONS, HEAD';
const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Python truthiness of a JSON value: PostHog answers `payload or None`. */
function falsy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** `?token=` wins; else a numeric path segment is the project id; `@current` alone is a 404. */
async function resolveProject(snapshots: SnapshotCache, request: FastifyRequest): Promise<ProjectEntry> {
  const raw = (request.query as Record<string, unknown>).token;
  const token = Array.isArray(raw) ? raw[0] : raw;
  try {
    if (typeof token === 'string' && token !== '') {
      const entry = await snapshots.resolveToken(token);
      if (!entry) throw new VexilError('VXL_TOKEN_INVALID');
      return entry;
    }
    const segment = (request.params as { projectId: string }).projectId;
    const entry = /^\d{1,15}$/.test(segment) ? await snapshots.get(Number(segment)) : null;
    if (!entry) throw new VexilError('VXL_NOT_FOUND');
    return entry;
  } catch (err) {
    if (isVexilError(err)) throw err;
    throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
  }
}

/** A project secret of another project is a 403 here (PostHog's ProjectSecretAPITokenPermission). */
async function authorize(store: Store, authorization: string | undefined, projectId: number): Promise<FlagReader> {
  try {
    return await authorizeDefinitions(store, authorization, projectId);
  } catch (err) {
    if (isVexilError(err) && err.code === 'VXL_SECRET_KEY_INVALID') throw new VexilError('VXL_PERMISSION_DENIED', { cause: err });
    throw err;
  }
}

/** `{key}` is a flag id when all digits, else a key; the flag must be live and remote configuration. */
function findFlag(entry: ProjectEntry, ref: string): FlagRow {
  const byId = /^\d{1,15}$/.test(ref);
  const flag = entry.definitions.flags.find((f) => (byId ? f.id === Number(ref) : f.key === ref));
  if (!flag || flag.deleted || !flag.isRemoteConfiguration) throw new VexilError('VXL_NOT_FOUND');
  return flag;
}

/** The JSON body: the `"true"` payload, decrypted or redacted; null when PostHog sends nothing. */
function payloadOf(flag: FlagRow, reader: FlagReader, cipher: PayloadCipher | null): unknown {
  const payloads = (flag.filters as { payloads?: Record<string, unknown> | null }).payloads ?? {};
  const value = payloads.true;
  if (!flag.hasEncryptedPayloads || falsy(value)) return falsy(value) ? null : value;
  if (reader === 'project_secret') return REDACTED_PAYLOAD;
  return (decryptPayloads(flag.filters, cipher) as { payloads: Record<string, unknown> }).payloads.true;
}

/** Registers the route, trailing slash optional. */
export function registerRemoteConfigRoute(app: FastifyInstance, deps: RemoteConfigRouteDeps): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (request.method === 'HEAD') return reply.type('application/json').send('');
    if (request.method === 'OPTIONS') return reply.code(204).header('allow', ALLOW).send();
    if (request.method !== 'GET') {
      reply.header('allow', ALLOW);
      throw new VexilError('VXL_METHOD_NOT_ALLOWED');
    }
    // No credential is a 401 before anything about the project or flag is looked up.
    if (bearerToken(request.headers.authorization) === null) throw new VexilError('VXL_NOT_AUTHENTICATED');
    const entry = await resolveProject(deps.snapshots, request);
    const reader = await authorize(deps.store, request.headers.authorization, entry.project.id);
    const flag = findFlag(entry, (request.params as { flagId: string }).flagId);
    const body = payloadOf(flag, reader, deps.payloadCipher);
    reply.type('application/json');
    return reply.send(body === null ? '' : JSON.stringify(body));
  };
  for (const url of ['/api/projects/:projectId/feature_flags/:flagId/remote_config', '/api/projects/:projectId/feature_flags/:flagId/remote_config/']) {
    app.route({ method: METHODS, url, exposeHeadRoute: false, handler });
  }
}
