// Device tokens for the Losant-compatible HTTP API (POST /auth/device): compact HS256 JWTs.
// The signing key is derived from the install-wide pepper, HMAC(pepper, 'keyport device token'),
// so tokens survive restarts, die with the data directory, and never need to be stored.
// Pure: the caller passes the clock (`nowMs`) so expiry can be tested without waiting.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isId } from '../../core/ids.ts';

/** Seconds. Losant documents no default; Keyport issues one-hour tokens unless asked otherwise. */
export const DEFAULT_TOKEN_TTL = 3600;
/** Seconds: one year (365 days), the longest token Keyport issues. */
export const MAX_TOKEN_TTL = 365 * 24 * 3600;
export const TOKEN_ISSUER = 'keyport';

export interface DeviceTokenClaims {
  /** The device id. */
  sub: string;
  /** The access key's id (never the key or the secret). */
  keyId: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. The token is refused from this second on. */
  exp: number;
  iss: typeof TOKEN_ISSUER;
}

export type TokenCheck =
  | { ok: true; claims: DeviceTokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired'; message: string };

const HEADER = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** The token signing key: HMAC-SHA256(pepper, 'keyport device token'). */
export function deriveTokenKey(pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update('keyport device token').digest();
}

/**
 * Reads `tokenTTL` from a device-auth body. Undefined → the default; 0 (Losant: "no expiry") → the
 * maximum, since every Keyport token expires; otherwise an integer number of seconds, 1..1 year.
 */
export function parseTokenTtl(value: unknown): { ok: true; ttl: number } | { ok: false; message: string } {
  if (value === undefined || value === null) return { ok: true, ttl: DEFAULT_TOKEN_TTL };
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TOKEN_TTL) {
    return {
      ok: false,
      message: `tokenTTL must be an integer number of seconds from 0 to ${MAX_TOKEN_TTL} (one year; 0 means the maximum), got ${JSON.stringify(value)}`,
    };
  }
  return { ok: true, ttl: value === 0 ? MAX_TOKEN_TTL : value };
}

export function signDeviceToken(
  key: Buffer,
  claims: { deviceId: string; keyId: string; ttlSeconds: number },
  nowMs: number,
): { token: string; claims: DeviceTokenClaims } {
  const iat = Math.floor(nowMs / 1000);
  const payload: DeviceTokenClaims = {
    sub: claims.deviceId,
    keyId: claims.keyId,
    iat,
    exp: iat + claims.ttlSeconds,
    iss: TOKEN_ISSUER,
  };
  const body = `${HEADER}.${b64url(Buffer.from(JSON.stringify(payload)))}`;
  const sig = createHmac('sha256', key).update(body).digest();
  return { token: `${body}.${b64url(sig)}`, claims: payload };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJsonPart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Checks shape, signature (constant time) and expiry. Never throws. */
export function verifyDeviceToken(key: Buffer, token: string, nowMs: number): TokenCheck {
  const malformed = (message: string): TokenCheck => ({ ok: false, reason: 'malformed', message });
  if (token.length > 4096) return malformed('the token is too long');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)))
    return malformed('the token is not a JWT (header.payload.signature)');
  const [h, p, s] = parts as [string, string, string];
  const header = parseJsonPart(h);
  if (!isObj(header) || header.alg !== 'HS256') return malformed('the token header is not an HS256 JWT header');
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      reason: 'signature',
      message: 'the token signature does not verify (it was not issued by this Keyport data directory)',
    };
  }
  const c = parseJsonPart(p);
  if (
    !isObj(c) ||
    !isId(c.sub) ||
    typeof c.keyId !== 'string' ||
    !Number.isInteger(c.iat) ||
    !Number.isInteger(c.exp) ||
    c.iss !== TOKEN_ISSUER
  ) {
    return malformed('the token claims are not a Keyport device token');
  }
  const claims = c as unknown as DeviceTokenClaims;
  if (Math.floor(nowMs / 1000) >= claims.exp) {
    return {
      ok: false,
      reason: 'expired',
      message: `the token expired at ${new Date(claims.exp * 1000).toISOString()}; authenticate again with POST /auth/device`,
    };
  }
  return { ok: true, claims };
}
