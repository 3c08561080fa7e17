// A revoked personal API key: the notice survives the wire, and the definitions authorizer
// forgets what it allowed as soon as it hears of a revocation (instead of after its 5 s reuse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRevocations } from '../../../src/auth/key-revocations.ts';
import { hashSecret } from '../../../src/auth/keys.ts';
import { parseNotice } from '../../../src/cache/change-bus.ts';
import { createDefinitionsAuthorizer } from '../../../src/http/definitions/definitions-auth.ts';
import type { PersonalApiKeyRow, Store } from '../../../src/store/store.ts';

test('a key revocation notice parses back with keysRevoked', () => {
  assert.deepEqual(parseNotice(JSON.stringify({ projectId: 0, revision: null, keysRevoked: true })), { projectId: 0, revision: null, keysRevoked: true });
  assert.deepEqual(parseNotice(JSON.stringify({ projectId: 1, revision: 2, keysRevoked: 'yes' })), { projectId: 1, revision: 2 });
});

test('the definitions authorizer asks the store again right after a revocation', async () => {
  const secret = 'phx_key_revocations_test_0123456789';
  let stored: PersonalApiKeyRow | null = { id: 'k1', scopes: ['*'], scopedProjects: null, keyHash: hashSecret(secret), lastUsedAt: new Date() } as unknown as PersonalApiKeyRow;
  let lookups = 0;
  const store = {
    getPersonalApiKeyByHash: async () => {
      lookups++;
      return stored;
    },
    markPersonalApiKeyUsed: async () => undefined,
  } as unknown as Store;
  const revocations = new KeyRevocations();
  const authorize = createDefinitionsAuthorizer(store, () => 0, revocations);
  await authorize(`Bearer ${secret}`, 1);
  await authorize(`Bearer ${secret}`, 1);
  assert.equal(lookups, 1, 'a success is reused');
  stored = null;
  revocations.revoked();
  await assert.rejects(authorize(`Bearer ${secret}`, 1), { code: 'VXL_PERSONAL_KEY_INVALID' });
});

test('concurrent checks of the same key share one store lookup; a failure is not remembered', async () => {
  const secret = 'phx_key_revocations_test_concurrent_01';
  let stored: PersonalApiKeyRow | null = { id: 'k2', scopes: ['*'], scopedProjects: null, keyHash: hashSecret(secret), lastUsedAt: new Date() } as unknown as PersonalApiKeyRow;
  let lookups = 0;
  const store = {
    getPersonalApiKeyByHash: async () => {
      lookups++;
      await new Promise((r) => setTimeout(r, 5));
      return stored;
    },
    markPersonalApiKeyUsed: async () => undefined,
  } as unknown as Store;
  let clock = 0;
  const authorize = createDefinitionsAuthorizer(store, () => clock);
  await Promise.all(Array.from({ length: 20 }, () => authorize(`Bearer ${secret}`, 1)));
  assert.equal(lookups, 1);
  clock = 10_000;
  stored = null;
  const failed = await Promise.allSettled(Array.from({ length: 5 }, () => authorize(`Bearer ${secret}`, 1)));
  assert.equal(lookups, 2);
  assert.ok(failed.every((r) => r.status === 'rejected'));
  await assert.rejects(authorize(`Bearer ${secret}`, 1), { code: 'VXL_PERSONAL_KEY_INVALID' });
  assert.equal(lookups, 3, 'a failure is asked again');
});
