// Fernet payload encryption: PostHog's key preparation, MultiFernet rotation, interoperability
// with Python's `cryptography` Fernet, and the key file the embedded default generates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGeneratedKeyCipher, createPayloadCipher, fernetKeyOf, GENERATED_KEY_FILE } from '../../../src/auth/payload-cipher.ts';

describe('payload cipher', () => {
  test('keys are prepared as PostHog does: NUL left-padded or truncated to 32 bytes, URL-safe base64', () => {
    // base64.urlsafe_b64encode(b"\0" * 23 + b"my-secret") in Python.
    assert.equal(fernetKeyOf('my-secret'), 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAABteS1zZWNyZXQ=');
    assert.equal(fernetKeyOf('x'.repeat(40)), Buffer.from('x'.repeat(32)).toString('base64url') + '=');
  });

  test('decrypts a token made by Python cryptography with the same secret', () => {
    // Fernet(urlsafe_b64encode(b"\0"*23 + b"my-secret")).encrypt(b'"hello"') with cryptography 48.
    const token = 'gAAAAABrFiJtp9IHp8DHieEHzHZ97GX-OtdqzxH5IS7p1mgf0QVhtZvDC1CL7ilaNXrOiGDK2kKZP5RqMv0ayaCx1fzXg6ad5Q==';
    assert.equal(createPayloadCipher(['my-secret']).decrypt(token), '"hello"');
  });

  test('rotation: the first key encrypts, every key decrypts', () => {
    const old = createPayloadCipher(['old-key']);
    const rotated = createPayloadCipher(['new-key', 'old-key']);
    const fromOld = old.encrypt('{"a":1}');
    assert.equal(rotated.decrypt(fromOld), '{"a":1}');
    const fromRotated = rotated.encrypt('{"b":2}');
    assert.equal(createPayloadCipher(['new-key']).decrypt(fromRotated), '{"b":2}');
    assert.throws(() => old.decrypt(fromRotated), /could not be decrypted/);
    assert.throws(() => rotated.decrypt('not a token'), /could not be decrypted/);
    assert.notEqual(rotated.encrypt('x'), rotated.encrypt('x'), 'a fresh IV per token');
  });

  test('the generated key is created on first use only, kept, and read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vexil-cipher-'));
    try {
      const cipher = createGeneratedKeyCipher(join(dir, 'data'));
      assert.throws(() => statSync(join(dir, 'data', GENERATED_KEY_FILE)), /ENOENT/);
      const token = cipher.encrypt('"secret"');
      const file = join(dir, 'data', GENERATED_KEY_FILE);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const secret = readFileSync(file, 'utf8').trim();
      assert.equal(createPayloadCipher([secret]).decrypt(token), '"secret"');
      assert.equal(createGeneratedKeyCipher(join(dir, 'data')).decrypt(token), '"secret"', 'a restart reads the same key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
