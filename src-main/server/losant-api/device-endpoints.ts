// Device endpoints of the Losant-compatible API (SPEC §9):
//   POST /auth/device                                          credentials → device token
//   POST /applications/{appId}/devices/{deviceId}/state        device token → stored + published
//   GET  /applications/{appId}/devices/{deviceId}/command      recent commands
// Authentication runs evaluateConnect: the SAME checks, in the same order, as an MQTT CONNECT.
// Every token use is re-checked by service/access-control.ts (key exists, active and unchanged
// since issue; the address rule for this request's client address; the token's device exists
// and still matches the key) and the key's scope is resolved NOW.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { effectiveClientAddress } from '../../core/client-address.ts';
import { evaluateConnect } from '../../core/connect.ts';
import { resolveScope } from '../../core/device-scope.ts';
import { parseState } from '../../core/payloads.ts';
import { deliverDecision, publishDecision, type SessionView } from '../../core/topic-access.ts';
import type { AccessKeyRecord, Decision, ReasonCode } from '../../core/types.ts';
import { checkCredentialUse } from '../../service/access-control.ts';
import type { NewDecision } from '../../service/decision-feed.ts';
import { HttpError } from '../http-errors.ts';
import { bearerToken, sendJson } from '../http-util.ts';
import {
  bodyOf,
  forbidden,
  isAdmin,
  isObj,
  notFound,
  rejectUnknownFields,
  requireApp,
  requireIdShape,
  unauthorized,
  validation,
  type ApiContext,
} from './context.ts';
import { parseTokenTtl, signDeviceToken, verifyDeviceToken, type DeviceTokenClaims } from './device-token.ts';
import { commandToLosant } from './shapes.ts';

const joinHeader = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(', ') : h);

interface Origin {
  peer: string;
  forwardedFor?: string | string[];
  /** The effective address for the feed (after trusted X-Forwarded-For), or the peer. */
  address: string;
  xff?: string;
}

function originOf(ctx: ApiContext, req: FastifyRequest): Origin {
  const peer = req.socket.remoteAddress ?? '';
  const forwardedFor = req.headers['x-forwarded-for'];
  const where = effectiveClientAddress(peer, forwardedFor, ctx.trusted);
  const xff = joinHeader(forwardedFor);
  return {
    peer,
    ...(forwardedFor !== undefined ? { forwardedFor } : {}),
    address: where.ok ? where.address : peer,
    ...(xff ? { xff } : {}),
  };
}

function record(
  ctx: ApiContext,
  origin: Origin,
  action: NewDecision['action'],
  d: Decision,
  extra: Partial<NewDecision>,
): void {
  ctx.service.feed.record({
    transport: 'http',
    action,
    result: d.allowed ? 'allowed' : 'denied',
    reason: d.reason,
    rule: d.rule,
    sourceAddress: origin.address,
    ...(origin.xff ? { forwardedFor: origin.xff } : {}),
    ...extra,
  });
}

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
  if (!isObj(body))
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
  const store = ctx.service.store;
  const outcome = evaluateConnect(
    {
      transport: 'http',
      clientId: deviceId,
      ...(typeof body.key === 'string' ? { username: body.key } : {}),
      ...(typeof body.secret === 'string' ? { password: body.secret } : {}),
      peerAddress: origin.peer,
      ...(origin.forwardedFor !== undefined ? { forwardedFor: origin.forwardedFor } : {}),
    },
    {
      pepper: ctx.service.pepper,
      trustedProxies: ctx.trusted,
      getKeyByKey: (k) => store.getKeyByKey(k),
      getDevice: (id) => store.getDevice(id),
      listDevices: () => store.listDevices(),
    },
  );
  ctx.service.feed.record({
    transport: 'http',
    action: 'auth',
    result: outcome.decision.allowed ? 'allowed' : 'denied',
    reason: outcome.decision.reason,
    rule: outcome.decision.rule,
    ...(deviceId ? { deviceId } : {}),
    ...(outcome.key ? { keyId: outcome.key.id } : {}),
    sourceAddress: outcome.address ?? origin.peer,
    ...(origin.xff ? { forwardedFor: origin.xff } : {}),
  });
  if (outcome.returnCode !== 0 || !outcome.key || !outcome.device) {
    throw unauthorized(authFailure(outcome.decision.reason, outcome.decision.rule));
  }
  const key = outcome.key;
  await ctx.service.keys.touch(key.id).catch(() => {});
  const { token } = await signDeviceToken(
    ctx.tokenKey,
    { deviceId: outcome.device.id, keyId: key.id, keyRevision: key.lastUpdated, ttlSeconds: ttl.ttl },
    ctx.nowMs(),
  );
  void sendJson(res, 200, {
    applicationId: ctx.service.applicationId,
    deviceId: outcome.device.id,
    deviceClass: outcome.device.deviceClass,
    token,
    filterType: key.filterType,
    pubTopics: [...key.pubTopics],
    subTopics: [...key.subTopics],
  });
}

/**
 * Who is calling a device endpoint: the admin (the platform), or a device whose token verifies
 * and passes the access-control re-check now; the key's scope is resolved now, for this request.
 */
type Caller =
  { kind: 'admin' } | { kind: 'device'; claims: DeviceTokenClaims; key: AccessKeyRecord; view: SessionView };

/** Re-check failures the holder can only cure by authenticating again: 401. The rest: 403. */
const TOKEN_DEAD: ReadonlySet<ReasonCode> = new Set(['key.deleted', 'key.inactive', 'key.changed', 'device.unknown']);

async function deviceCaller(
  ctx: ApiContext,
  req: FastifyRequest,
  origin: Origin,
  topic: string,
  action: 'publish' | 'subscribe',
): Promise<Caller> {
  if (isAdmin(ctx, req)) return { kind: 'admin' };
  const token = bearerToken(req.headers);
  if (token === undefined)
    throw unauthorized('missing device token (Authorization: Bearer <token from POST /auth/device>)');
  const check = await verifyDeviceToken(ctx.tokenKey, token, ctx.nowMs());
  if (!check.ok) throw unauthorized(`invalid device token: ${check.message}`);
  const claims = check.claims;
  const store = ctx.service.store;
  const key = store.getKey(claims.keyId);
  const d = checkCredentialUse(
    {
      key,
      deviceId: claims.sub,
      client: { peer: origin.peer, forwardedFor: origin.forwardedFor },
      issued: { keyRevision: claims.rev },
    },
    { trustedProxies: ctx.trusted, getDevice: (id) => store.getDevice(id) },
  );
  if (!d.allowed || !key) {
    const decision: Decision = { allowed: false, reason: d.reason, rule: d.rule };
    record(ctx, origin, action, decision, { deviceId: claims.sub, keyId: claims.keyId, topic });
    if (TOKEN_DEAD.has(d.reason)) throw unauthorized(`invalid device token (${d.reason}): ${d.rule}`);
    throw forbidden(`device token refused (${d.reason}): ${d.rule}`);
  }
  const view: SessionView = {
    deviceId: claims.sub,
    scope: resolveScope(key, () => store.listDevices()),
    rules: key,
    getDevice: (id) => store.getDevice(id),
  };
  return { kind: 'device', claims, key, view };
}

function validateStates(body: unknown, nowMs: number): string[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw validation('deviceState: an array of states must hold at least one state');
  if (list.length > 1000) throw validation(`deviceState: at most 1000 states per request (got ${list.length})`);
  return list.map((item, i) => {
    const text = JSON.stringify(item);
    const parsed = parseState(text, new Date(nowMs));
    if (!parsed.ok) throw validation(`${Array.isArray(body) ? `deviceState[${i}]` : 'deviceState'}: ${parsed.error}`);
    return text;
  });
}

export async function postState(
  ctx: ApiContext,
  req: FastifyRequest,
  res: FastifyReply,
  appId: string,
  deviceId: string,
): Promise<void> {
  const origin = originOf(ctx, req);
  const topic = `losant/${deviceId}/state`;
  const caller = await deviceCaller(ctx, req, origin, topic, 'publish');
  requireApp(ctx, appId);
  requireIdShape(deviceId, 'Device');
  const who =
    caller.kind === 'device' ? { deviceId: caller.claims.sub, keyId: caller.key.id, topic } : { deviceId, topic };
  let allowed: Decision = { allowed: true, reason: 'publish.allowed', rule: 'admin token (the platform)' };
  if (caller.kind === 'device') {
    allowed = publishDecision(caller.view, topic);
    if (!allowed.allowed) {
      record(ctx, origin, 'publish', allowed, who);
      throw forbidden(`device ${caller.claims.sub} may not report state for device ${deviceId}: ${allowed.rule}`);
    }
  }
  if (!ctx.service.store.getDevice(deviceId)) throw notFound('Device');
  const body = bodyOf(req);
  let texts: string[];
  try {
    texts = validateStates(body, ctx.nowMs());
  } catch (err) {
    record(ctx, origin, 'state', { allowed: false, reason: 'state.invalid', rule: (err as Error).message }, who);
    throw err;
  }
  for (const text of texts) {
    const d = await ctx.service.telemetry.recordState(deviceId, text);
    if (!d.allowed) {
      record(ctx, origin, 'state', d, who);
      if (d.reason === 'device.unknown') throw notFound('Device');
      throw validation(`deviceState: ${d.rule}`);
    }
    record(ctx, origin, 'publish', allowed, who);
    await ctx.broker.publishAsPlatform(topic, text);
  }
  void sendJson(res, 200, { success: true });
}

function commandParams(q: URLSearchParams): { limit: number; since?: number; sortDirection: 'asc' | 'desc' } {
  const limitRaw = q.get('limit');
  let limit = 1;
  if (limitRaw !== null && limitRaw !== '') {
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 1000)
      throw validation(`limit: must be a whole number from 1 to 1000 (got ${JSON.stringify(limitRaw)})`);
    limit = Number(limitRaw);
  }
  const sinceRaw = q.get('since');
  let since: number | undefined;
  if (sinceRaw !== null && sinceRaw !== '') {
    if (!/^-?\d+$/.test(sinceRaw))
      throw validation(`since: must be milliseconds since the epoch (got ${JSON.stringify(sinceRaw)})`);
    since = Number(sinceRaw);
  }
  const dir = (q.get('sortDirection') ?? '').toLowerCase();
  if (dir !== '' && dir !== 'asc' && dir !== 'desc')
    throw validation(`sortDirection: must be asc or desc (got ${JSON.stringify(q.get('sortDirection'))})`);
  return { limit, ...(since !== undefined ? { since } : {}), sortDirection: dir === 'asc' ? 'asc' : 'desc' };
}

export async function getCommands(
  ctx: ApiContext,
  req: FastifyRequest,
  res: FastifyReply,
  url: URL,
  appId: string,
  deviceId: string,
): Promise<void> {
  const origin = originOf(ctx, req);
  const topic = `losant/${deviceId}/command`;
  const caller = await deviceCaller(ctx, req, origin, topic, 'subscribe');
  requireApp(ctx, appId);
  requireIdShape(deviceId, 'Device');
  if (caller.kind === 'device') {
    const d = deliverDecision(caller.view, topic);
    if (!d.allowed) {
      record(ctx, origin, 'subscribe', d, { deviceId: caller.claims.sub, keyId: caller.key.id, topic });
      throw forbidden(`device ${caller.claims.sub} may not read the commands of device ${deviceId}: ${d.rule}`);
    }
  }
  if (!ctx.service.store.getDevice(deviceId)) throw notFound('Device');
  const p = commandParams(url.searchParams);
  let list = ctx.service.telemetry.commands(deviceId);
  if (p.since !== undefined) {
    const since = p.since;
    list = list.filter((c) => Date.parse(c.time) >= since);
  }
  // Oldest first as stored; take the newest `limit`, then order as asked.
  list = list.slice(Math.max(0, list.length - p.limit));
  if (p.sortDirection === 'desc') list.reverse();
  void sendJson(res, 200, list.map(commandToLosant));
}
