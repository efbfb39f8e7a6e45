// Device endpoints of the Losant-compatible API (docs/design.md §9), and the caller check they share:
//   POST /applications/{appId}/devices/{deviceId}/state        device token → stored + published
//   GET  /applications/{appId}/devices/{deviceId}/state        recent states (limit, since)
// (POST /auth/device is in device-auth.ts; …/command in device-command-endpoints.ts.)
// Every token use is re-checked through the auth port by the access rule of docs/design.md §4a
// (service/access-rule.ts: key exists, active and unchanged since issue; the address rule for this
// request's client address; the token's device exists and still matches the key), which records a
// refusal; the key's scope is resolved NOW.
import type { FastifyRequest } from 'fastify';
import { parseState } from '../../core/payloads.ts';
import { deliverDecision, publishDecision, type SessionView } from '../../core/topic-access.ts';
import type { AccessKeyRecord, Decision } from '../../core/types.ts';
import { bearerToken, sendJson } from '../http-util.ts';
import {
  bodyOf,
  forbidden,
  isAdmin,
  notFound,
  requireApp,
  requireIdShape,
  unauthorized,
  validation,
  type ApiContext,
  type RecordEndpoint,
} from './context.ts';
import { originOf, recordDecision as record, type Origin } from './device-origin.ts';
import { verifyDeviceToken, type DeviceTokenClaims } from './device-token.ts';
import { parseHistoryParams, selectHistory } from './history-params.ts';

/**
 * Who is calling a device endpoint: the admin (the platform), or a device whose token verifies
 * and passes the access-control re-check now; the key's scope is resolved now, for this request.
 */
export type Caller =
  { kind: 'admin' } | { kind: 'device'; claims: DeviceTokenClaims; key: AccessKeyRecord; view: SessionView };

export async function deviceCaller(
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
  const check = await verifyDeviceToken(ctx.ports.tokenKey, token, ctx.nowMs());
  if (!check.ok) throw unauthorized(`invalid device token: ${check.message}`);
  const claims = check.claims;
  const v = ctx.ports.auth.checkToken(
    { keyId: claims.keyId, deviceId: claims.sub, keyRevision: claims.rev, client: origin },
    { action, topic, sourceAddress: origin.address, ...(origin.xff ? { forwardedFor: origin.xff } : {}) },
  );
  if (!v.allowed) {
    const { reason, rule } = v.decision;
    if (v.reauthenticate) throw unauthorized(`invalid device token (${reason}): ${rule}`);
    throw forbidden(`device token refused (${reason}): ${rule}`);
  }
  const { key, view } = v;
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

/**
 * The first steps of every HTTP use of `losant/{deviceId}/{channel}`, in this order: the caller
 * (checked for `action` on that topic), then the application, then the device id's shape.
 */
async function topicCaller(
  ctx: ApiContext,
  req: FastifyRequest,
  appId: string,
  deviceId: string,
  channel: 'state' | 'command',
  action: 'publish' | 'subscribe',
): Promise<{ origin: Origin; topic: string; caller: Caller }> {
  const origin = originOf(ctx, req);
  const topic = `losant/${deviceId}/${channel}`;
  const caller = await deviceCaller(ctx, req, origin, topic, action);
  requireApp(ctx, appId);
  requireIdShape(deviceId, 'Device');
  return { origin, topic, caller };
}

/** What a device (or the platform) publishing on a device's topic over HTTP was allowed, and as whom. */
export interface HttpPublish {
  origin: Origin;
  topic: string;
  who: { deviceId: string; keyId?: string; topic: string };
  allowed: Decision;
}

/**
 * The check every HTTP publish on `losant/{deviceId}/{channel}` makes before it acts: the caller
 * (admin token = the platform, or a device token re-checked by access-control), the application,
 * the id's shape, the key's publish rule for that topic (a refusal is recorded and answered 403)
 * and the device's existence.
 */
export async function authorizeDevicePublish(
  ctx: ApiContext,
  req: FastifyRequest,
  appId: string,
  deviceId: string,
  channel: 'state' | 'command',
): Promise<HttpPublish> {
  const { origin, topic, caller } = await topicCaller(ctx, req, appId, deviceId, channel, 'publish');
  const who =
    caller.kind === 'device' ? { deviceId: caller.claims.sub, keyId: caller.key.id, topic } : { deviceId, topic };
  let allowed: Decision = { allowed: true, reason: 'publish.allowed', rule: 'admin token (the platform)' };
  if (caller.kind === 'device') {
    allowed = publishDecision(caller.view, topic);
    if (!allowed.allowed) {
      record(ctx, origin, 'publish', allowed, who);
      const what = channel === 'state' ? 'report state for' : 'send commands to';
      throw forbidden(`device ${caller.claims.sub} may not ${what} device ${deviceId}: ${allowed.rule}`);
    }
  }
  if (!ctx.ports.auth.device(deviceId)) throw notFound('Device');
  return { origin, topic, who, allowed };
}

export const postState: RecordEndpoint = async (ctx, req, res, _url, appId, deviceId) => {
  const { origin, topic, who, allowed } = await authorizeDevicePublish(ctx, req, appId, deviceId, 'state');
  const body = bodyOf(req);
  let texts: string[];
  try {
    texts = validateStates(body, ctx.nowMs());
  } catch (err) {
    record(ctx, origin, 'state', { allowed: false, reason: 'state.invalid', rule: (err as Error).message }, who);
    throw err;
  }
  for (const text of texts) {
    const d = await ctx.ports.telemetry.recordState(deviceId, text);
    if (!d.allowed) {
      record(ctx, origin, 'state', d, who);
      if (d.reason === 'device.unknown') throw notFound('Device');
      throw validation(`deviceState: ${d.rule}`);
    }
    record(ctx, origin, 'publish', allowed, who);
    await ctx.broker.publishAsPlatform(topic, text);
  }
  void sendJson(res, 200, { success: true });
};

/**
 * The check every HTTP read of `losant/{deviceId}/{channel}` history makes: the caller (admin =
 * the platform, or a device token re-checked by access-control), the application, the id's shape
 * and, for a device, whether its key could read that topic over MQTT (a refusal is recorded, 403).
 */
export async function authorizeDeviceRead(
  ctx: ApiContext,
  req: FastifyRequest,
  appId: string,
  deviceId: string,
  channel: 'state' | 'command',
): Promise<void> {
  const { origin, topic, caller } = await topicCaller(ctx, req, appId, deviceId, channel, 'subscribe');
  if (caller.kind !== 'device') return;
  const d = deliverDecision(caller.view, topic);
  if (d.allowed) return;
  record(ctx, origin, 'subscribe', d, { deviceId: caller.claims.sub, keyId: caller.key.id, topic });
  const what = channel === 'state' ? 'the state' : 'the commands';
  throw forbidden(`device ${caller.claims.sub} may not read ${what} of device ${deviceId}: ${d.rule}`);
}

/**
 * Losant's device.getState: the device's recent state reports ({time, data}), newest first by
 * default, `limit` default 1. A device token reads a device it could subscribe to over MQTT
 * (losant/{id}/state in its key's scope, docs/design.md §5). Reports are kept in memory (the last
 * STATE_HISTORY per device); after a restart only the stored last state is left, returned as
 * one entry.
 */
export const getState: RecordEndpoint = async (ctx, req, res, url, appId, deviceId) => {
  await authorizeDeviceRead(ctx, req, appId, deviceId, 'state');
  const device = ctx.ports.auth.device(deviceId);
  if (!device) throw notFound('Device');
  const p = parseHistoryParams(url.searchParams);
  let history = ctx.ports.telemetry.history(deviceId);
  if (history.length === 0 && device.lastState) history = [device.lastState];
  void sendJson(
    res,
    200,
    selectHistory(history, p).map((s) => ({ time: s.time, data: { ...s.data } })),
  );
};
