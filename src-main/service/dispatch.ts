// The single entry for contract calls: checks the method and the request shape, calls the
// service, and turns every failure into a ContractError (no stack traces cross a transport).
import type { LimitsMode } from '../core/limits.ts';
import type {
  BrokerStatus,
  ContractError,
  DecisionFilter,
  LimitsInfo,
  ListenerInfo,
  MethodName,
  Methods,
  Reply,
  Req,
  Res,
} from '../contract.ts';
import { ACTIONS, type DecisionEvent } from '../core/decision-event.ts';
import { isId } from '../core/ids.ts';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { FileWriteError } from '../shared/atomic-write.ts';
import type { Simulator } from '../simulator/simulator.ts';
import { ServiceError } from '../shared/errors.ts';
import type { TrustedProxies } from '../core/client-address.ts';
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
}

type Handler<M extends MethodName> = (ctx: DispatchContext, req: Req<M>) => Res<M> | Promise<Res<M>>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class BadRequest extends Error {}

function needId(req: unknown, what: string): string {
  const id = isObj(req) ? req.id : undefined;
  if (!isId(id))
    throw new BadRequest(
      `id must be ${what === 'access key' ? 'an' : 'a'} ${what} id (24 lowercase hex characters), got ${JSON.stringify(id)}`,
    );
  return id;
}

function needPatch(req: unknown): Record<string, unknown> {
  const p = isObj(req) ? req.patch : undefined;
  if (!isObj(p)) throw new BadRequest('patch must be an object');
  return p;
}

function decisionFilter(req: unknown): (e: DecisionEvent) => boolean {
  const f = (isObj(req) ? req : {}) as DecisionFilter;
  for (const k of ['deviceId', 'keyId', 'reason'] as const) {
    if (f[k] !== undefined && typeof f[k] !== 'string') throw new BadRequest(`${k} must be a string`);
  }
  if (f.action !== undefined && !ACTIONS.includes(f.action))
    throw new BadRequest(`action must be one of ${ACTIONS.join(', ')}`);
  if (f.result !== undefined && f.result !== 'allowed' && f.result !== 'denied')
    throw new BadRequest('result must be allowed or denied');
  return (e) =>
    (f.deviceId === undefined || e.deviceId === f.deviceId) &&
    (f.keyId === undefined || e.keyId === f.keyId) &&
    (f.action === undefined || e.action === f.action) &&
    (f.result === undefined || e.result === f.result) &&
    (f.reason === undefined || e.reason === f.reason);
}

function listDecisions(ctx: DispatchContext, req: unknown): DecisionEvent[] {
  const limit = isObj(req) ? req.limit : undefined;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1))
    throw new BadRequest('limit must be a positive whole number');
  const list = ctx.service.feed.list().filter(decisionFilter(req));
  return typeof limit === 'number' && limit < list.length ? list.slice(list.length - limit) : list;
}

function needString(req: unknown, field: string, min = 1, max = 255): string {
  const v = isObj(req) ? req[field] : undefined;
  if (typeof v !== 'string' || v.length < min || v.length > max)
    throw new BadRequest(`${field} must be a string of ${min}-${max} characters`);
  return v;
}

const handlers: { [M in MethodName]: Handler<M> } = {
  'app.info': (ctx) => ({
    applicationId: ctx.service.applicationId,
    dataDir: ctx.dataDir,
    listeners: ctx.listeners(),
    mode: ctx.mode ?? 'headless',
  }),
  'broker.status': (ctx) => {
    if (!ctx.brokerStatus) throw new ServiceError('unavailable', 'the broker is not running in this process');
    return ctx.brokerStatus();
  },
  'broker.setLimits': (ctx, req) => {
    if (!ctx.limits) throw new ServiceError('unavailable', 'the broker is not running in this process');
    const mode = (req as { mode?: unknown } | undefined)?.mode;
    if (mode !== 'losant' && mode !== 'off')
      throw new ServiceError('validation', `mode must be "losant" or "off" (got ${JSON.stringify(mode)})`, [
        { field: 'mode', message: 'must be "losant" or "off"' },
      ]);
    return ctx.limits.set(mode);
  },
  'devices.history': (ctx, req) => ctx.service.telemetry.history(ctx.service.devices.get(needId(req, 'device')).id),
  'devices.commands': (ctx, req) => ctx.service.telemetry.commands(ctx.service.devices.get(needId(req, 'device')).id),
  'devices.sendCommand': (ctx, req) =>
    ctx.service.telemetry.sendCommand(needId(req, 'device'), { name: needString(req, 'name'), payload: req.payload }),
  'devices.generateKey': (ctx, req) => {
    const device = ctx.service.devices.get(needId(req, 'device'));
    const name = req.name === undefined ? `${device.name} key`.slice(0, 255) : needString(req, 'name');
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
  'devices.get': (ctx, req) => ctx.service.devices.get(needId(req, 'device')),
  'devices.create': (ctx, req) => ctx.service.devices.create(req),
  'devices.update': (ctx, req) => ctx.service.devices.update(needId(req, 'device'), needPatch(req)),
  'devices.delete': (ctx, req) => ctx.service.devices.remove(needId(req, 'device')),
  'keys.list': (ctx, req) => ctx.service.keys.list(isObj(req) ? req.query : undefined),
  'keys.get': (ctx, req) => ctx.service.keys.get(needId(req, 'access key')),
  'keys.create': (ctx, req) => ctx.service.keys.create(req),
  'keys.update': (ctx, req) => ctx.service.keys.update(needId(req, 'access key'), needPatch(req)),
  'keys.delete': (ctx, req) => ctx.service.keys.remove(needId(req, 'access key')),
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
  if (req !== undefined && !isObj(req))
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
