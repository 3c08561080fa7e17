/**
 * @module http/definitions/definitions-auth
 * Who may download a project's flag definitions (spec §7.1): the project's secret key (`phs_…`)
 * or a personal API key with a feature-flag scope that covers the project. A public `phc_`
 * token, a key of another project or an unknown key gets a 401/403 and nothing else.
 */
import { bearerToken, digestsEqual, hashSecret } from '../../auth/keys.ts';
import { recordKeyUse } from '../../auth/key-use.ts';
import { VexilError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { KeyRevocations } from '../../auth/key-revocations.ts';

const READ_SCOPES = new Set(['*', 'feature_flag:read', 'feature_flag:write']);

/** Which credential authorized a request: remote_config decrypts only for a personal key. */
export type FlagReader = 'project_secret' | 'personal_key';

/**
 * Authorizes the `Authorization` header for `projectId`; resolves with the credential's kind.
 * @throws VexilError VXL_NOT_AUTHENTICATED (no bearer token), VXL_SECRET_KEY_INVALID (a `phs_`
 * key that is not this project's), VXL_PERSONAL_KEY_INVALID (anything else unknown, `phc_`
 * tokens included), VXL_PERMISSION_DENIED (a valid key without the scope or the project).
 */
export async function authorizeDefinitions(store: Store, authorization: string | undefined, projectId: number): Promise<FlagReader> {
  const presented = bearerToken(authorization);
  if (presented === null) throw new VexilError('VXL_NOT_AUTHENTICATED');
  const digest = hashSecret(presented);
  if (presented.startsWith('phs_')) {
    const hashes = await store.getProjectSecretHashes(projectId);
    // Compare against every stored hash so the time taken does not say which one matched.
    let ok = false;
    for (const h of hashes) ok = digestsEqual(digest, h) || ok;
    if (!ok) throw new VexilError('VXL_SECRET_KEY_INVALID');
    return 'project_secret';
  }
  const key = await store.getPersonalApiKeyByHash(digest);
  if (!key) throw new VexilError('VXL_PERSONAL_KEY_INVALID');
  if (!key.scopes.some((s) => READ_SCOPES.has(s))) {
    throw new VexilError('VXL_PERMISSION_DENIED', {
      message: 'Personal API key lacks required scopes (feature_flag:read or feature_flag:write).',
    });
  }
  if (key.scopedProjects !== null && !key.scopedProjects.includes(projectId)) {
    throw new VexilError('VXL_PERMISSION_DENIED', { message: 'Personal API key does not have access to this project.' });
  }
  recordKeyUse(store, key);
  return 'personal_key';
}

/** How long a successful authorization is reused: SDKs poll every few seconds with the same key. */
const ALLOW_TTL_MS = 5_000;
const ALLOW_MAX_ENTRIES = 10_000;

/**
 * authorizeDefinitions with successes remembered for a few seconds per (key digest, project), so
 * SDK polling (mostly answered 304) does not query the database and hash-compare every time.
 * Concurrent checks of the same credentials share one store lookup: when a reuse expires under
 * load, every request in flight would otherwise query at once (bench:http saw the pool time out).
 * Failures are never cached. A rotated project secret stays valid as the backup, so the only
 * thing a reuse can grant that a fresh check would refuse is a revoked personal key's polling:
 * `revocations` (fired by `DELETE /api/personal_api_keys/:id/` on any node, through the change
 * bus) drops every remembered success and check in flight; without it, for at most ALLOW_TTL_MS.
 */
export function createDefinitionsAuthorizer(
  store: Store,
  now: () => number = Date.now,
  revocations?: KeyRevocations,
): (authorization: string | undefined, projectId: number) => Promise<void> {
  const allowed = new Map<string, number>();
  const inFlight = new Map<string, Promise<void>>();
  // A check that started before a revocation must not store its success after it.
  let generation = 0;
  revocations?.onRevoked(() => {
    generation++;
    allowed.clear();
    inFlight.clear();
  });
  return async (authorization, projectId) => {
    const presented = bearerToken(authorization);
    if (presented === null) throw new VexilError('VXL_NOT_AUTHENTICATED');
    const cacheKey = `${projectId}:${hashSecret(presented)}`;
    const until = allowed.get(cacheKey);
    if (until !== undefined && until > now()) return;
    let check = inFlight.get(cacheKey);
    if (check === undefined) {
      const started = generation;
      const fresh: Promise<void> = authorizeDefinitions(store, authorization, projectId)
        .then(() => {
          if (started !== generation) return;
          if (allowed.size >= ALLOW_MAX_ENTRIES) allowed.clear();
          allowed.set(cacheKey, now() + ALLOW_TTL_MS);
        })
        .finally(() => {
          if (inFlight.get(cacheKey) === fresh) inFlight.delete(cacheKey);
        });
      inFlight.set(cacheKey, fresh);
      check = fresh;
    }
    await check;
  };
}
