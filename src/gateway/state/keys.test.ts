import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  displayPrefix,
  generateKey,
  hashesEqual,
  hashKey,
  keyStatus,
  looksLikeKey,
  newKeyId,
  secretsEqual,
} from './keys.ts';
import type { KeyRecord } from './types.ts';

describe('gateway keys', () => {
  test('a key is llmf- and 32 random bytes in base64url, never the same twice', () => {
    const keys = Array.from({ length: 1_000 }, generateKey);
    assert.equal(new Set(keys).size, keys.length);
    for (const key of keys.slice(0, 50)) {
      assert.ok(looksLikeKey(key), key);
      assert.equal(Buffer.from(key.slice(5), 'base64url').length, 32);
    }
    assert.equal(looksLikeKey(`${keys[0]}=`), false);
    assert.equal(looksLikeKey('sk-test-key-not-real'), false);
    assert.match(newKeyId(), /^key_[A-Za-z0-9_-]{12}$/);
  });

  test('hashes: SHA-256 of the key, compared in constant time', () => {
    const key = generateKey();
    assert.equal(hashKey(key).length, 32);
    assert.equal(hashKey(key).toString('hex'), hashKey(key).toString('hex'));
    assert.ok(hashesEqual(hashKey(key), hashKey(key)));
    assert.ok(!hashesEqual(hashKey(key), hashKey(generateKey())));
    assert.ok(
      !hashesEqual(hashKey(key), hashKey(key).subarray(0, 31)),
      'a shorter hash is not equal (no throw)',
    );
    assert.ok(secretsEqual('master-key-not-real', 'master-key-not-real'));
    assert.ok(!secretsEqual('master-key-not-real', 'master-key-not-rea'));
    assert.ok(!secretsEqual('', 'master-key-not-real'));
  });

  test('the display prefix shows 4 of the random characters', () => {
    assert.equal(displayPrefix('llmf-abcdEFGH'), 'llmf-abcd…');
  });

  test('status: revoked wins over expired; a key expires at its expiresAt', () => {
    const record: KeyRecord = {
      id: 'key_x',
      name: 'x',
      prefix: 'llmf-abcd…',
      createdAt: 0,
      expiresAt: 1_000,
    };
    assert.equal(keyStatus(record, 999), 'active');
    assert.equal(keyStatus(record, 1_000), 'expired');
    assert.equal(keyStatus({ ...record, revokedAt: 500 }, 2_000), 'revoked');
    assert.equal(keyStatus({ ...record, expiresAt: undefined }, Number.MAX_SAFE_INTEGER), 'active');
  });
});
