import { describe, expect, it } from 'vitest';
import {
  KEY_PATTERN,
  SECRET_PATTERN,
  generateKey,
  generatePepper,
  generateSecret,
  isVerifier,
  makeVerifier,
  verifySecret,
} from '../../../src-main/core/secrets.ts';

const pepper = Buffer.alloc(32, 1);

describe('generateKey / generateSecret', () => {
  it('makes a UUID v4 key', () => {
    for (let i = 0; i < 50; i++) expect(generateKey()).toMatch(KEY_PATTERN);
  });

  it.each([
    ['a UUID v4', '3b241101-e2bb-4255-8caf-4136c566a962', true],
    ['a UUID v1', '3b241101-e2bb-1255-8caf-4136c566a962', false],
    ['bad variant', '3b241101-e2bb-4255-7caf-4136c566a962', false],
    ['upper case', '3B241101-E2BB-4255-8CAF-4136C566A962', false],
    ['no dashes', '3b241101e2bb42558caf4136c566a962', false],
  ])('KEY_PATTERN: %s', (_what, text, ok) => {
    expect(KEY_PATTERN.test(text)).toBe(ok);
  });

  it('makes a 64-hex secret (256 bits)', () => {
    const s = generateSecret();
    expect(s).toMatch(SECRET_PATTERN);
    expect(s).toMatch(/^[0-9a-f]{64}$/);
  });

  it('1000 secrets and 1000 keys are all distinct', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateSecret));
    const keys = new Set(Array.from({ length: 1000 }, generateKey));
    expect(secrets.size).toBe(1000);
    expect(keys.size).toBe(1000);
  });

  it('makes a 32-byte pepper, different each time', () => {
    const a = generatePepper();
    expect(a.length).toBe(32);
    expect(a.equals(generatePepper())).toBe(false);
  });
});

describe('makeVerifier / verifySecret', () => {
  it('the verifier never contains the secret (nor its upper-case form)', () => {
    for (let i = 0; i < 100; i++) {
      const s = generateSecret();
      const v = makeVerifier(s, pepper);
      expect(v).not.toContain(s);
      expect(v).not.toContain(s.slice(0, 16));
      expect(v.toLowerCase()).not.toContain(s);
      expect(isVerifier(v)).toBe(true);
    }
  });

  it('is deterministic for one pepper and differs between peppers', () => {
    const s = generateSecret();
    expect(makeVerifier(s, pepper)).toBe(makeVerifier(s, pepper));
    expect(makeVerifier(s, pepper)).not.toBe(makeVerifier(s, Buffer.alloc(32, 2)));
  });

  const secret = generateSecret();
  const other = generateSecret();
  const verifier = makeVerifier(secret, pepper);

  it.each([
    ['the right secret', secret, verifier, pepper, true],
    ['a wrong secret', other, verifier, pepper, false],
    [
      'the secret with one character changed',
      secret.slice(0, 63) + (secret.endsWith('0') ? '1' : '0'),
      verifier,
      pepper,
      false,
    ],
    ['the secret in upper case', secret.toUpperCase(), verifier, pepper, false],
    ['an empty secret', '', verifier, pepper, false],
    ['the verifier itself as the secret', verifier, verifier, pepper, false],
    ['an unknown key (verifier undefined)', secret, undefined, pepper, false],
    ['a verifier made with another pepper', secret, makeVerifier(secret, Buffer.alloc(32, 9)), pepper, false],
    ['a verifier of another length', secret, verifier.slice(0, -2), pepper, false],
  ] as const)('%s → %s', (_what, s, v, p, expected) => {
    expect(verifySecret(s, v, p)).toBe(expected);
  });

  it('an unknown key never verifies, even for the placeholder a verifier-less check runs against', () => {
    // Whatever the secret, `undefined` means "no such key".
    for (let i = 0; i < 20; i++) expect(verifySecret(generateSecret(), undefined, pepper)).toBe(false);
    expect(verifySecret('0'.repeat(64), undefined, pepper)).toBe(false);
  });

  it.each([
    ['hmac-sha256:' + 'a'.repeat(64), true],
    ['hmac-sha256:' + 'A'.repeat(64), false],
    ['hmac-sha256:' + 'a'.repeat(63), false],
    ['sha256:' + 'a'.repeat(64), false],
    ['a'.repeat(64), false],
    [42, false],
    [undefined, false],
  ])('isVerifier(%j) = %s', (v, ok) => {
    expect(isVerifier(v)).toBe(ok);
  });

  it('an unknown key and a wrong secret take comparable time (no timing oracle)', () => {
    // A ratio of two like-for-like costs, not a speed limit: an early return for an unknown key
    // would make that path ~100x cheaper. Many short batches, interleaved, and the fastest of
    // each: on a shared machine most batches are stretched by preemption, but the fastest of 40
    // (~1-2 ms each) is an unpreempted one, so the ratio holds under load as well as when idle.
    const runs = 1_000;
    const rounds = 40;
    const wrong = Array.from({ length: 64 }, generateSecret);
    const time = (v: string | undefined): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) verifySecret(wrong[i & 63]!, v, pepper);
      return Number(process.hrtime.bigint() - start);
    };
    // Warm up both paths, then interleave to spread noise evenly; take the best of each.
    for (let r = 0; r < 5; r++) {
      time(undefined);
      time(verifier);
    }
    const unknown: number[] = [];
    const mismatch: number[] = [];
    for (let r = 0; r < rounds; r++) {
      unknown.push(time(undefined));
      mismatch.push(time(verifier));
    }
    // The band is 10x each way: the oracle this guards against is a ~100x difference, and a
    // 2x band failed once (2.09) beside two busy loops, where even the best of 40 batches of one
    // side can be a preempted one.
    const ratio = Math.min(...unknown) / Math.min(...mismatch);
    expect(ratio).toBeGreaterThan(0.1);
    expect(ratio).toBeLessThan(10);
  });
});
