// The Losant-compatible HTTP API (docs/design.md §9), mounted on the headless HTTP server:
//
//   POST   /auth/device                                     device credentials → device token
//   POST   /applications/{appId}/devices/{deviceId}/state   device token (or admin) → store + publish
//   GET    /applications/{appId}/devices/{deviceId}/state   device token (or admin) → recent states
//   POST   /applications/{appId}/devices/{deviceId}/command device token (or admin) → publish a command
//   GET    /applications/{appId}/devices/{deviceId}/command device token (or admin) → recent commands
//   GET    /applications/{appId}/keys                       admin → list (sort/page/filter/query)
//   POST   /applications/{appId}/keys                       admin → create (secret returned once)
//   GET|PATCH|DELETE /applications/{appId}/keys/{applicationKeyId}
//   GET    /applications/{appId}/devices                    admin → list
//   POST   /applications/{appId}/devices                    admin → create
//   GET|PATCH|DELETE /applications/{appId}/devices/{deviceId}
//
// Errors are Losant's `{type, message}`; the HTTP server turns a thrown HttpError into that shape
// and never sends a stack trace. Anything else under /applications/ is a 404 in the same shape.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../http-app.ts';
import { HttpError } from '../http-errors.ts';
import {
  AUTH_BODY_LIMIT,
  makeContext,
  type ApiContext,
  type CollectionEndpoint,
  type LosantApiDeps,
  type RecordEndpoint,
} from './context.ts';
import { authDevice, requireJsonBody } from './device-auth.ts';
import { getCommands, postCommand } from './device-command-endpoints.ts';
import { getState, postState } from './device-endpoints.ts';
import { createDevice, deleteDevice, getDevice, listDevices, patchDevice } from './devices-endpoints.ts';
import { createKey, deleteKey, getKey, listKeys, patchKey } from './keys-endpoints.ts';

export type { LosantApiDeps } from './context.ts';

type Handler = (
  ctx: ApiContext,
  req: FastifyRequest,
  res: FastifyReply,
  url: URL,
  p: Record<string, string>,
) => Promise<void>;

interface Endpoint {
  path: string;
  methods: Partial<Record<string, Handler>>;
  /** Route options: a smaller body limit, a content-type rule. */
  bodyLimit?: number;
  onRequest?: (req: FastifyRequest) => Promise<void>;
}

const need = (p: Record<string, string>, k: string): string => p[k] ?? '';
const collection =
  (e: CollectionEndpoint): Handler =>
  (c, req, res, url, p) =>
    e(c, req, res, url, need(p, 'appId'));
const record =
  (e: RecordEndpoint, id: string): Handler =>
  (c, req, res, url, p) =>
    e(c, req, res, url, need(p, 'appId'), need(p, id));

const ENDPOINTS: Endpoint[] = [
  {
    path: '/auth/device',
    methods: { POST: (c, req, res) => authDevice(c, req, res) },
    bodyLimit: AUTH_BODY_LIMIT,
    onRequest: requireJsonBody,
  },
  {
    path: '/applications/:appId/keys',
    methods: {
      GET: collection(listKeys),
      POST: collection(createKey),
    },
  },
  {
    path: '/applications/:appId/keys/:keyId',
    methods: {
      GET: record(getKey, 'keyId'),
      PATCH: record(patchKey, 'keyId'),
      DELETE: record(deleteKey, 'keyId'),
    },
  },
  {
    path: '/applications/:appId/devices',
    methods: {
      GET: collection(listDevices),
      POST: collection(createDevice),
    },
  },
  {
    path: '/applications/:appId/devices/:deviceId',
    methods: {
      GET: record(getDevice, 'deviceId'),
      PATCH: record(patchDevice, 'deviceId'),
      DELETE: record(deleteDevice, 'deviceId'),
    },
  },
  {
    path: '/applications/:appId/devices/:deviceId/state',
    methods: {
      GET: record(getState, 'deviceId'),
      POST: record(postState, 'deviceId'),
    },
  },
  {
    path: '/applications/:appId/devices/:deviceId/command',
    methods: {
      GET: record(getCommands, 'deviceId'),
      POST: record(postCommand, 'deviceId'),
    },
  },
];

const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const;

/**
 * The API's routes, as one module of the server's route table. Wire with the runtime's trusted
 * proxies so device requests read the client address exactly as the broker does:
 *   routes: (base) => losantApiRoutes({ ...base, trustedProxies: trusted })
 */
export function losantApiRoutes(deps: LosantApiDeps): RouteModule[] {
  const ctx = makeContext(deps);
  const module: RouteModule = async (app: FastifyInstance) => {
    for (const e of ENDPOINTS) {
      const allowed = Object.keys(e.methods);
      app.route<{ Params: Record<string, string> }>({
        method: [...ALL_METHODS],
        url: e.path,
        ...(e.bodyLimit !== undefined ? { bodyLimit: e.bodyLimit } : {}),
        ...(e.onRequest ? { onRequest: e.onRequest } : {}),
        handler: async (req, reply) => {
          const handler = e.methods[req.method];
          if (!handler) {
            reply.header('allow', allowed.join(', '));
            throw new HttpError(
              405,
              'MethodNotAllowed',
              `${req.method} is not supported on ${req.url.split('?')[0]} (use ${allowed.join(' or ')})`,
            );
          }
          await handler(ctx, req, reply, new URL(req.url, 'http://localhost'), req.params);
        },
      });
    }
  };
  return [module];
}
