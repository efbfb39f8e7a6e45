// POST /auth/device (docs/design.md §9): device credentials → a device token. The auth port runs the
// SAME checks in the same order as an MQTT CONNECT; every attempt is one `auth` decision.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReasonCode } from '../../core/types.ts';
import { HttpError } from '../http-errors.ts';
import { sendJson } from '../http-util.ts';
import { bodyOf, rejectUnknownFields, unauthorized, validation, type ApiContext } from './context.ts';
import { originOf } from './device-origin.ts';
import { parseTokenTtl, signDeviceToken } from './device-token.ts';
import { isPlainObject } from '../../core/plain-object.ts';

const AUTH_FIELDS = ['deviceId', 'key', 'secret', 'tokenTTL', 'requestedScopes'] as const;

/** The 401 message: credential failures are not told apart (like CONNACK 4); later checks name their reason. */
function authFailure(reason: ReasonCode, rule: string): string {
  switch (reason) {
    case 'credentials.missing':
      return 'Authorization failed: key and secret are both required';
    case 'key.unknown':
    case 'secret.mismatch':
      return 'Authorization failed: invalid access key or secret';
    default:
      return `Authorization failed (${reason}): ${rule}`;
  }
}

/**
 * /auth/device takes application/json only (415 otherwise), checked before the body is read: a
 * cross-site page can POST text/plain without a preflight, never application/json.
 */
export async function requireJsonBody(req: FastifyRequest): Promise<void> {
  if (req.method !== 'POST') return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'UnsupportedMediaType',
      `Content-Type must be application/json (got ${type === '' ? 'none' : JSON.stringify(type)})`,
    );
  }
}

export async function authDevice(ctx: ApiContext, req: FastifyRequest, res: FastifyReply): Promise<void> {
  const body = bodyOf(req);
  if (!isPlainObject(body))
    throw validation('body: device credentials must be a JSON object {deviceId, key, secret, tokenTTL?}');
  rejectUnknownFields(body, AUTH_FIELDS, 'device credentials');
  if (body.deviceId === undefined) throw validation('deviceId: is required');
  if (typeof body.deviceId !== 'string') throw validation('deviceId: must be a string');
  for (const f of ['key', 'secret'] as const) {
    if (body[f] !== undefined && typeof body[f] !== 'string') throw validation(`${f}: must be a string`);
  }
  const ttl = parseTokenTtl(body.tokenTTL);
  if (!ttl.ok) throw validation(ttl.message);
  if (
    body.requestedScopes !== undefined &&
    (!Array.isArray(body.requestedScopes) || !body.requestedScopes.every((s) => typeof s === 'string'))
  ) {
    throw validation(
      'requestedScopes: must be an array of scope names (Keyport device tokens always have the all.Device scope)',
    );
  }
  const deviceId = body.deviceId;
  const origin = originOf(ctx, req);
  // The CONNECT checks, recorded as one `auth` decision, the key marked used (service/access-control.ts).
  const outcome = ctx.ports.auth.authenticate({
    transport: 'http',
    clientId: deviceId,
    ...(typeof body.key === 'string' ? { username: body.key } : {}),
    ...(typeof body.secret === 'string' ? { password: body.secret } : {}),
    peerAddress: origin.peer,
    ...(origin.forwardedFor !== undefined ? { forwardedFor: origin.forwardedFor } : {}),
  });
  if (outcome.returnCode !== 0 || !outcome.key || !outcome.device) {
    throw unauthorized(authFailure(outcome.decision.reason, outcome.decision.rule));
  }
  const key = outcome.key;
  // Bookkeeping never holds up the answer (issue 17 item 5): lastUsed is written lazily, later.
  const { token } = signDeviceToken(
    ctx.ports.tokenKey,
    { deviceId: outcome.device.id, keyId: key.id, keyRevision: key.lastUpdated, ttlSeconds: ttl.ttl },
    ctx.nowMs(),
  );
  void sendJson(res, 200, {
    applicationId: ctx.ports.applicationId,
    deviceId: outcome.device.id,
    deviceClass: outcome.device.deviceClass,
    token,
    filterType: key.filterType,
    pubTopics: [...key.pubTopics],
    subTopics: [...key.subTopics],
  });
}
