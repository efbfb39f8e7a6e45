// Device tokens signed by node:crypto's HMAC (device-token.ts) are the very bytes jose signed before,
// and they verify, expire and fail on tampering as before. Pure: no sockets, the clock is given.
import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signDeviceToken, TOKEN_ISSUER, verifyDeviceToken } from '../../../src-main/server/losant-api/device-token.ts';

const key = Buffer.alloc(32, 7);
const now = Date.UTC(2031, 4, 6, 7, 8, 9, 500);
const claims = { deviceId: 'a'.repeat(24), keyId: 'k1', keyRevision: '2031-05-06T07:00:00.000Z', ttlSeconds: 3600 };

describe('signDeviceToken', () => {
  it('writes the same token as jose SignJWT did (header, claim order, signature)', async () => {
    const iat = Math.floor(now / 1000);
    const byJose = await new SignJWT({ keyId: claims.keyId, rev: claims.keyRevision })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.deviceId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + claims.ttlSeconds)
      .setIssuer(TOKEN_ISSUER)
      .sign(key);
    const signed = signDeviceToken(key, claims, now);
    expect(signed.token).toBe(byJose);
    expect(signed.claims).toEqual({
      sub: claims.deviceId,
      keyId: 'k1',
      rev: claims.keyRevision,
      iat,
      exp: iat + 3600,
      iss: TOKEN_ISSUER,
    });
  });

  it('is verified by jose and by verifyDeviceToken, and refused once expired or tampered with', async () => {
    const { token } = signDeviceToken(key, claims, now);
    const { payload, protectedHeader } = await jwtVerify(token, key, { currentDate: new Date(now) });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload.sub).toBe(claims.deviceId);
    expect(await verifyDeviceToken(key, token, now)).toMatchObject({ ok: true, claims: { keyId: 'k1' } });
    expect(await verifyDeviceToken(key, token, now + 3600_000)).toMatchObject({ ok: false, reason: 'expired' });
    expect(await verifyDeviceToken(Buffer.alloc(32, 8), token, now)).toMatchObject({ ok: false, reason: 'signature' });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ keyId: 'k2', rev: claims.keyRevision, sub: claims.deviceId }));
    expect(await verifyDeviceToken(key, `${h}.${forged.toString('base64url')}.${s}`, now)).toMatchObject({
      ok: false,
      reason: 'signature',
    });
  });
});
