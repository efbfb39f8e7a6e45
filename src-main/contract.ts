// THE contract between the UI/CLI and the backend: methods (request -> response) and events.
// Electron IPC, the headless WebSocket bridge and the CLI's HTTP client are transports of it.
// Requests are validated at runtime where they enter (service/dispatch.ts); errors cross as {code, message}.
import type { AccessKey, Device, FieldError, Tag } from './core/types.ts';

export interface ListenerInfo {
  mqtt: number;
  ws: number;
  tls: number;
  http: number;
  host: string;
}

export interface Methods {
  'app.info': { req: Record<string, never>; res: { applicationId: string; dataDir: string; listeners: ListenerInfo | null } };
  'devices.list': { req: Record<string, never>; res: Device[] };
  'devices.get': { req: { id: string }; res: Device };
  'devices.create': { req: { name: string; description?: string; tags?: Tag[]; deviceClass?: Device['deviceClass']; gatewayId?: string }; res: Device };
  'devices.update': { req: { id: string; patch: Record<string, unknown> }; res: Device };
  'devices.delete': { req: { id: string }; res: Device };
  'keys.list': { req: { query?: unknown }; res: AccessKey[] };
  'keys.get': { req: { id: string }; res: AccessKey };
  'keys.create': { req: Record<string, unknown>; res: { accessKey: AccessKey; secret: string } };
  'keys.update': { req: { id: string; patch: Record<string, unknown> }; res: AccessKey };
  'keys.delete': { req: { id: string }; res: AccessKey };
}

export type MethodName = keyof Methods;
export type Req<M extends MethodName> = Methods[M]['req'];
export type Res<M extends MethodName> = Methods[M]['res'];

export type ErrorCode = 'validation' | 'not-found' | 'conflict' | 'unavailable' | 'unauthorized' | 'bad-request' | 'internal';

/** How an error crosses a transport. */
export interface ContractError {
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
}

export type Reply<M extends MethodName> = { ok: true; result: Res<M> } | { ok: false; error: ContractError };

/** What every transport offers the caller. */
export interface KeyportApi {
  call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>>;
}
