// The single entry for contract calls: checks the method and the request shape, calls the
// service, and turns every failure into a ContractError (no stack traces cross a transport).
import type { ContractError, ListenerInfo, MethodName, Methods, Reply, Req, Res } from '../contract.ts';
import { isId } from '../core/ids.ts';
import { ServiceError } from './errors.ts';
import type { KeyportService } from './service.ts';

export interface DispatchContext {
  service: KeyportService;
  dataDir: string;
  listeners: () => ListenerInfo | null;
}

type Handler<M extends MethodName> = (ctx: DispatchContext, req: Req<M>) => Res<M> | Promise<Res<M>>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class BadRequest extends Error {}

function needId(req: unknown, what: string): string {
  const id = isObj(req) ? req.id : undefined;
  if (!isId(id)) throw new BadRequest(`id must be ${what === "access key" ? "an" : "a"} ${what} id (24 lowercase hex characters), got ${JSON.stringify(id)}`);
  return id;
}

function needPatch(req: unknown): Record<string, unknown> {
  const p = isObj(req) ? req.patch : undefined;
  if (!isObj(p)) throw new BadRequest('patch must be an object');
  return p;
}

const handlers: { [M in MethodName]: Handler<M> } = {
  'app.info': (ctx) => ({ applicationId: ctx.service.applicationId, dataDir: ctx.dataDir, listeners: ctx.listeners() }),
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
};

export function isMethod(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(handlers, name);
}

export function toContractError(err: unknown): ContractError {
  if (err instanceof ServiceError) return { code: err.code, message: err.message, ...(err.errors.length ? { errors: err.errors } : {}) };
  if (err instanceof BadRequest) return { code: 'bad-request', message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export async function dispatch(ctx: DispatchContext, method: unknown, req: unknown): Promise<Reply<MethodName>> {
  if (!isMethod(method)) return { ok: false, error: { code: 'bad-request', message: `unknown method ${JSON.stringify(method)}` } };
  if (req !== undefined && !isObj(req)) return { ok: false, error: { code: 'bad-request', message: `${method}: request must be an object` } };
  try {
    const handler = handlers[method] as Handler<MethodName>;
    const result = await handler(ctx, (req ?? {}) as Req<MethodName>);
    return { ok: true, result } as Reply<MethodName>;
  } catch (err) {
    return { ok: false, error: toContractError(err) };
  }
}

export type { Methods };
