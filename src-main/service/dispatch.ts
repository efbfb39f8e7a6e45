// The single entry for contract calls: checks the method and the request shape, calls the
// service, and turns every failure into a ContractError (no stack traces cross a transport).
import type { LimitsMode } from '../core/limits.ts';
import type {
  BrokerStatus,
  ClusterSettingInfo,
  ContractError,
  LimitsInfo,
  ListenerInfo,
  MethodName,
  Methods,
  Reply,
  Req,
  Res,
} from '../contract.ts';
import type { Static, TSchema } from '@sinclair/typebox';
import type { DecisionEvent } from '../core/decision-event.ts';
import { keysAdmitting } from '../core/device-keys.ts';
import { isPlainObject } from '../core/plain-object.ts';
import {
  DecisionFilterSchema,
  DeviceIdRequest,
  DeviceUpdateEnvelope,
  GenerateKeyRequest,
  KeyIdRequest,
  KeyUpdateEnvelope,
  SendCommandRequest,
  SetClusterRequest,
  SetLimitsRequest,
} from '../core/schemas/request-schemas.ts';
import { ClusterUrlError } from '../broker/cluster-url.ts';
import { describeClusterSetting, loadClusterSetting, saveClusterSetting } from './cluster-setting.ts';
import { parseWith } from '../core/schemas/schema-errors.ts';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { FileWriteError } from '../shared/atomic-write.ts';
import type { Simulator } from '../simulator/simulator.ts';
import { ServiceError, validationError } from '../shared/errors.ts';
import { DEFAULT_TRUSTED_PROXIES, type TrustedProxies } from '../core/client-address.ts';
import { explainAccess, keysLint, keysMatrix } from './explain-service.ts';
import type { KeyportService } from './service.ts';
import { messageHandlers as msg, type PlatformPublish } from './message-handlers.ts';
import { simulatorHandlers as sim } from './simulator-handlers.ts';

export interface DispatchContext {
  service: KeyportService;
  dataDir: string;
  listeners: () => ListenerInfo | null;
  mode?: 'desktop' | 'headless';
  /** Live broker figures, when a broker runs in this process. */
  brokerStatus?: () => BrokerStatus;
  /** Losant limits mode: switched live and stored, when a broker runs in this process (runtime.ts). */
  limits?: { set(mode: LimitsMode): Promise<LimitsInfo> };
  /** Simulated devices, when a broker runs in this process (runtime.ts). */
  simulator?: Simulator;
  /** The server's trusted proxies (for explaining X-Forwarded-For); default loopback. */
  trustedProxies?: TrustedProxies;
  /** Publishes as the platform (the Messages view's Publish box), when a broker runs in this process. */
  publishAsPlatform?: PlatformPublish;
  /** The cluster this process runs in (URL masked), when a broker runs in this process. */
  cluster?: () => { nodeId: string; url: string } | null;
}

async function clusterInfo(ctx: DispatchContext): Promise<ClusterSettingInfo> {
  return { running: ctx.cluster?.() ?? null, stored: describeClusterSetting(await loadClusterSetting(ctx.dataDir)) };
}

type Handler<M extends MethodName> = (ctx: DispatchContext, req: Req<M>) => Res<M> | Promise<Res<M>>;

class BadRequest extends Error {}

/** The request read through its envelope schema, or a bad-request naming every problem. */
function envelope<T extends TSchema>(schema: T, req: unknown): Static<T> {
  const parsed = parseWith(schema, req);
  if (!parsed.ok) throw new BadRequest(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value;
}

function listDecisions(ctx: DispatchContext, req: unknown): DecisionEvent[] {
  const f = envelope(DecisionFilterSchema, req);
  const list = ctx.service.feed
    .list()
    .filter(
      (e) =>
        (f.deviceId === undefined || e.deviceId === f.deviceId) &&
        (f.keyId === undefined || e.keyId === f.keyId) &&
        (f.action === undefined || e.action === f.action) &&
        (f.result === undefined || e.result === f.result) &&
        (f.reason === undefined || e.reason === f.reason),
    );
  return f.limit !== undefined && f.limit < list.length ? list.slice(list.length - f.limit) : list;
}

const deviceId = (req: unknown): string => envelope(DeviceIdRequest, req).id;
const keyId = (req: unknown): string => envelope(KeyIdRequest, req).id;

const handlers: { [M in MethodName]: Handler<M> } = {
  'app.info': (ctx) => ({
    applicationId: ctx.service.applicationId,
    dataDir: ctx.dataDir,
    listeners: ctx.listeners(),
    mode: ctx.mode ?? 'headless',
    trustedProxies: [...(ctx.trustedProxies?.texts ?? DEFAULT_TRUSTED_PROXIES)],
  }),
  'broker.status': (ctx) => {
    if (!ctx.brokerStatus) throw new ServiceError('unavailable', 'the broker is not running in this process');
    return ctx.brokerStatus();
  },
  'broker.setLimits': (ctx, req) => {
    if (!ctx.limits) throw new ServiceError('unavailable', 'the broker is not running in this process');
    const parsed = parseWith(SetLimitsRequest, req);
    if (!parsed.ok) throw validationError(parsed.errors);
    return ctx.limits.set(parsed.value.mode);
  },
  'broker.cluster': (ctx) => clusterInfo(ctx),
  'broker.setCluster': async (ctx, req) => {
    const { url, nodeId } = envelope(SetClusterRequest, req);
    try {
      await saveClusterSetting(ctx.dataDir, url === null ? null : { url, ...(nodeId ? { nodeId } : {}) });
    } catch (err) {
      if (err instanceof ClusterUrlError) throw new BadRequest(err.message);
      throw err;
    }
    return clusterInfo(ctx);
  },
  'devices.history': (ctx, req) => ctx.service.telemetry.history(ctx.service.devices.get(deviceId(req)).id),
  'devices.commands': (ctx, req) => ctx.service.telemetry.commands(ctx.service.devices.get(deviceId(req)).id),
  'devices.sendCommand': (ctx, req) => {
    const { id, name, payload } = envelope(SendCommandRequest, req);
    return ctx.service.telemetry.sendCommand(id, { name, payload });
  },
  'devices.keys': (ctx, req) => keysAdmitting(ctx.service.devices.get(deviceId(req)), ctx.service.keys.list()),
  'devices.generateKey': (ctx, req) => {
    const r = envelope(GenerateKeyRequest, req);
    const device = ctx.service.devices.get(r.id);
    const name = r.name ?? `${device.name} key`.slice(0, 255);
    return ctx.service.keys.create({ name, deviceIds: [device.id], createdVia: 'device-page' });
  },
  'access.explain': (ctx, req) => explainAccess(ctx.service, req, ctx.trustedProxies),
  'keys.matrix': (ctx, req) => keysMatrix(ctx.service, req, ctx.trustedProxies),
  'keys.lint': (ctx, req) => keysLint(ctx.service, req),
  'decisions.list': (ctx, req) => listDecisions(ctx, req),
  'decisions.export': (ctx, req) => {
    const events = listDecisions(ctx, req);
    return { jsonl: ctx.service.feed.toJsonLines(events), count: events.length };
  },
  'devices.list': (ctx) => ctx.service.devices.list(),
  'devices.get': (ctx, req) => ctx.service.devices.get(deviceId(req)),
  'devices.create': (ctx, req) => ctx.service.devices.create(req),
  'devices.update': (ctx, req) => {
    const { id, patch } = envelope(DeviceUpdateEnvelope, req);
    return ctx.service.devices.update(id, patch);
  },
  'devices.delete': (ctx, req) => ctx.service.devices.remove(deviceId(req)),
  'keys.list': (ctx, req) => ctx.service.keys.list(req.query),
  'keys.get': (ctx, req) => ctx.service.keys.get(keyId(req)),
  'keys.create': (ctx, req) => ctx.service.keys.create(req),
  'keys.update': (ctx, req) => {
    const { id, patch } = envelope(KeyUpdateEnvelope, req);
    return ctx.service.keys.update(id, patch);
  },
  'keys.delete': (ctx, req) => ctx.service.keys.remove(keyId(req)),
  'messages.subscribe': (ctx, req) => msg['messages.subscribe'](ctx.service.messages, req),
  'messages.list': (ctx, req) => msg['messages.list'](ctx.service.messages, req),
  'messages.clear': (ctx, req) => msg['messages.clear'](ctx.service.messages, req),
  'messages.unsubscribe': (ctx, req) => msg['messages.unsubscribe'](ctx.service.messages, req),
  'messages.publish': (ctx, req) =>
    msg['messages.publish'](ctx.service.messages, req, ctx.publishAsPlatform, ctx.simulator),
  'simulator.list': (ctx) => sim['simulator.list'](ctx.simulator),
  'simulator.add': (ctx, req) => sim['simulator.add'](ctx.simulator, req),
  'simulator.start': (ctx, req) => sim['simulator.start'](ctx.simulator, req),
  'simulator.stop': (ctx, req) => sim['simulator.stop'](ctx.simulator, req),
  'simulator.report': (ctx, req) => sim['simulator.report'](ctx.simulator, req),
  'simulator.remove': (ctx, req) => sim['simulator.remove'](ctx.simulator, req),
  'simulator.saveCredentials': (ctx, req) => sim['simulator.saveCredentials'](ctx.simulator, req),
  'simulator.createFleet': (ctx, req) => sim['simulator.createFleet'](ctx.simulator, req),
  'simulator.fleetStart': (ctx, req) => sim['simulator.fleetStart'](ctx.simulator, req),
  'simulator.fleetStop': (ctx, req) => sim['simulator.fleetStop'](ctx.simulator, req),
  'simulator.fleetRemove': (ctx, req) => sim['simulator.fleetRemove'](ctx.simulator, req),
  'simulator.scenarios': () => sim['simulator.scenarios'](),
  'simulator.runScenario': (ctx, req) => sim['simulator.runScenario'](ctx.simulator, req),
  'simulator.clearScenario': (ctx, req) => sim['simulator.clearScenario'](ctx.simulator, req),
};

export function isMethod(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(handlers, name);
}

/** "disk full writing DIR/keyport.json (ENOSPC); the change was not saved". */
export function storageMessage(err: FileWriteError): string {
  return `${err.message}; the change was not saved`;
}

export function toContractError(err: unknown): ContractError {
  if (err instanceof ServiceError)
    return { code: err.code, message: err.message, ...(err.errors.length ? { errors: err.errors } : {}) };
  if (err instanceof BadRequest) return { code: 'bad-request', message: err.message };
  if (err instanceof FileWriteError) return { code: 'storage', message: storageMessage(err) };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export async function dispatch(ctx: DispatchContext, method: unknown, req: unknown): Promise<Reply<MethodName>> {
  if (!isMethod(method))
    return { ok: false, error: { code: 'bad-request', message: `unknown method ${JSON.stringify(method)}` } };
  if (req !== undefined && !isPlainObject(req))
    return { ok: false, error: { code: 'bad-request', message: `${method}: request must be an object` } };
  // Every contract request (IPC, /rpc, the UI bridge, the CLI; simulator.* included) passes here.
  const proto = findPrototypeKey(req, 'request');
  if (proto !== null)
    return { ok: false, error: { code: 'bad-request', message: `${method}: ${prototypeKeyMessage(proto)}` } };
  try {
    const handler = handlers[method] as Handler<MethodName>;
    const result = await handler(ctx, (req ?? {}) as Req<MethodName>);
    return { ok: true, result } as Reply<MethodName>;
  } catch (err) {
    return { ok: false, error: toContractError(err) };
  }
}

export type { Methods };
