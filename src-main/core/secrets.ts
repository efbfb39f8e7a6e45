// Access key secrets (docs/design.md §3). The secret is 256 random bits shown once; the store keeps only
// a verifier: HMAC-SHA256 of the secret under an install-wide pepper kept outside the store file.
// A slow KDF is not needed for 256-bit random secrets and would cap the connect rate.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const VERIFIER_PREFIX = 'hmac-sha256:';
export const SECRET_PATTERN = /^[0-9a-f]{64}$/;
export const KEY_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The public half (the MQTT username): a UUID v4. */
export function generateKey(): string {
  return randomUUID();
}

/** The private half (the MQTT password): 64 hex characters from 32 random bytes. */
export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

export function generatePepper(): Buffer {
  return randomBytes(32);
}

/** The device-token signing key (server/losant-api/device-token.ts): HMAC-SHA256(pepper, 'keyport device token'). */
export function deriveTokenKey(pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update('keyport device token').digest();
}

export function makeVerifier(secret: string, pepper: Buffer): string {
  return VERIFIER_PREFIX + createHmac('sha256', pepper).update(secret, 'utf8').digest('hex');
}

// Verifying a secret for an unknown key runs against this placeholder so that an unknown key
// costs the same work as a wrong secret (no timing oracle for which keys exist).
const PLACEHOLDER_VERIFIER = VERIFIER_PREFIX + '0'.repeat(64);

/**
 * Timing-safe check of `secret` against a stored verifier. `verifier` undefined (unknown key)
 * does the same work and returns false.
 */
export function verifySecret(secret: string, verifier: string | undefined, pepper: Buffer): boolean {
  const expected = verifier ?? PLACEHOLDER_VERIFIER;
  const actual = makeVerifier(secret, pepper);
  const a = Buffer.from(actual, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  const same = a.length === b.length && timingSafeEqual(a, b);
  return same && verifier !== undefined;
}

export function isVerifier(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.startsWith(VERIFIER_PREFIX) &&
    /^[0-9a-f]{64}$/.test(value.slice(VERIFIER_PREFIX.length))
  );
}
