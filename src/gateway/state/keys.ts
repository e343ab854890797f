/**
 * Virtual keys: `llmf-` and 32 random bytes in base64url (256 bits), stored only as their SHA-256. A slow
 * password hash would buy nothing here: the keys are random, so a stolen hash cannot be reversed by guessing,
 * and SHA-256 keeps the lookup on every request in the microseconds. The store finds a key by its hash and
 * then compares the stored hash with `timingSafeEqual`, so no comparison time depends on how much of a
 * presented key is right.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyRecord } from './types.ts';

export const KEY_PREFIX = 'llmf-';
const KEY_BYTES = 32;
/** 32 bytes in base64url, without padding. */
const KEY_PATTERN = /^llmf-[A-Za-z0-9_-]{43}$/;
/** Random characters shown after `llmf-` in a key's display prefix. */
const DISPLAY_CHARACTERS = 4;

/** A new key: shown once to whoever created it, never stored. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

/** A new key id (`key_` and 12 base64url characters): safe in URLs and logs. */
export function newKeyId(): string {
  return `key_${randomBytes(9).toString('base64url')}`;
}

/** True when `value` has the shape of a key this gateway issues (the shape is public; the bytes are not). */
export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** SHA-256 of the key, 32 bytes. */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * SHA-256 of the key as base64 text: what names a key in the gateway's in-process cache, once a request.
 * One-shot `hash` to a string costs 0.2 µs, against 1.5 µs for `createHash` to a Buffer.
 */
export function keyDigest(key: string): string {
  return hash('sha256', key, 'base64');
}

/** Constant-time equality of two hashes. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Constant-time equality of two secrets of any length (the master key, say): their hashes are compared, so
 * neither the content nor the length of `expected` shows in the time taken.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(hashKey(presented), hashKey(expected));
}

/** What a list shows of a key: `llmf-ab12…` (24 of its 256 random bits). */
export function displayPrefix(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + DISPLAY_CHARACTERS)}…`;
}

/** Whether a found key may be used at `now`: revocation wins over expiry. */
export function keyStatus(record: KeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== undefined && now >= record.expiresAt) return 'expired';
  return 'active';
}
