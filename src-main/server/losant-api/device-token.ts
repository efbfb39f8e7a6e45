// Device tokens for the Losant-compatible HTTP API (POST /auth/device): HS256 JWTs, signed here
// with node:crypto's HMAC (synchronous, ~2 µs) and verified with `jose`. Signing went through
// jose, which on Node runs WebCrypto: a key import, a CryptoKey and a thread-pool job per token,
// ~200 µs of CPU per POST /auth/device, most of the request (issue 17 item 5). The bytes are the
// same as jose's (header, then keyId, rev, sub, iat, exp, iss): test/unit/server/device-token.test.ts.
// The signing key is derived from the install-wide pepper, HMAC(pepper, 'keyport device token'),
// so tokens survive restarts, die with the data directory, and never need to be stored. The clock is the caller's (`nowMs`) so expiry is tested without
// waiting.
//
// The signing key is derived by deriveTokenKey (core/secrets.ts), in service/, which hands the
// API the key and never the pepper.
//
// A token carries: sub (the device it was issued for), keyId, rev (the key's lastUpdated when it
// was issued), iat, exp, iss. It proves who authenticated, nothing more: every use is re-checked
// against the key and device as they are NOW (service/access-rule.ts, docs/design.md §4a).
import { createHmac } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { isId } from '../../core/ids.ts';

/** Seconds. Losant documents no default; Keyport issues one-hour tokens unless asked otherwise. */
export const DEFAULT_TOKEN_TTL = 3600;
/** Seconds: one year (365 days), the longest token Keyport issues. */
export const MAX_TOKEN_TTL = 365 * 24 * 3600;
export const TOKEN_ISSUER = 'keyport';
const MAX_TOKEN_LENGTH = 4096;

export interface DeviceTokenClaims {
  /** The device id. */
  sub: string;
  /** The access key's id (never the key or the secret). */
  keyId: string;
  /** The key's lastUpdated when the token was issued: any later change to the key ends the token. */
  rev: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. The token is refused from this second on. */
  exp: number;
  iss: typeof TOKEN_ISSUER;
}

export type TokenCheck =
  | { ok: true; claims: DeviceTokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired'; message: string };

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

/** The protected header of every device token, base64url: {"alg":"HS256","typ":"JWT"}. */
const HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'utf8').toString('base64url');

/** Signs a device token: HS256 JWS compact serialization (RFC 7515, section 7.1; RFC 7519). Synchronous. */
export function signDeviceToken(
  key: Buffer,
  claims: { deviceId: string; keyId: string; keyRevision: string; ttlSeconds: number },
  nowMs: number,
): { token: string; claims: DeviceTokenClaims } {
  const iat = Math.floor(nowMs / 1000);
  const payload: DeviceTokenClaims = {
    sub: claims.deviceId,
    keyId: claims.keyId,
    rev: claims.keyRevision,
    iat,
    exp: iat + claims.ttlSeconds,
    iss: TOKEN_ISSUER,
  };
  // The claim order jose wrote (its payload first, then the setters' claims): same tokens as before.
  const body = JSON.stringify({
    keyId: payload.keyId,
    rev: payload.rev,
    sub: payload.sub,
    iat: payload.iat,
    exp: payload.exp,
    iss: payload.iss,
  });
  const input = `${HEADER_B64}.${Buffer.from(body, 'utf8').toString('base64url')}`;
  const signature = createHmac('sha256', key).update(input, 'ascii').digest('base64url');
  return { token: `${input}.${signature}`, claims: payload };
}

/** Checks shape, signature, issuer and expiry (jose, HS256 only). Never throws. */
export async function verifyDeviceToken(key: Buffer, token: string, nowMs: number): Promise<TokenCheck> {
  const malformed = (message: string): TokenCheck => ({ ok: false, reason: 'malformed', message });
  if (token.length > MAX_TOKEN_LENGTH) return malformed('the token is too long');
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      requiredClaims: ['sub', 'iat', 'exp'],
      currentDate: new Date(nowMs),
    });
    const c = payload as Record<string, unknown>;
    if (
      !isId(c.sub) ||
      typeof c.keyId !== 'string' ||
      typeof c.rev !== 'string' ||
      !Number.isInteger(c.iat) ||
      !Number.isInteger(c.exp)
    ) {
      return malformed('the token claims are not a Keyport device token (authenticate again with POST /auth/device)');
    }
    const claims: DeviceTokenClaims = {
      sub: c.sub,
      keyId: c.keyId,
      rev: c.rev,
      iat: c.iat as number,
      exp: c.exp as number,
      iss: TOKEN_ISSUER,
    };
    return { ok: true, claims };
  } catch (err) {
    if (err instanceof errors.JWTExpired) {
      const exp = (err.payload as { exp?: unknown }).exp;
      const at = typeof exp === 'number' ? new Date(exp * 1000).toISOString() : 'an earlier time';
      return {
        ok: false,
        reason: 'expired',
        message: `the token expired at ${at}; authenticate again with POST /auth/device`,
      };
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return {
        ok: false,
        reason: 'signature',
        message: 'the token signature does not verify (it was not issued by this Keyport data directory)',
      };
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return malformed('the token header is not an HS256 JWT header');
    if (err instanceof errors.JWTClaimValidationFailed)
      return malformed(`the token claims are not a Keyport device token (${err.claim}: ${err.reason})`);
    return malformed('the token is not a JWT (header.payload.signature)');
  }
}
