// The Losant-compatible HTTP API (docs/design.md §9), mounted on the headless HTTP server:
//
//   POST   /auth/device                                     device credentials → device token
//   POST   /applications/{appId}/devices/{deviceId}/state   device token (or admin) → store + publish
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../http-server.ts';
import { HttpError } from '../http-util.ts';
import { makeContext, type ApiContext, type LosantApiDeps } from './context.ts';
import { authDevice, getCommands, postState } from './device-endpoints.ts';
import { createDevice, deleteDevice, getDevice, listDevices, patchDevice } from './devices-endpoints.ts';
import { createKey, deleteKey, getKey, listKeys, patchKey } from './keys-endpoints.ts';

export type { LosantApiDeps } from './context.ts';

type Handler = (
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  p: Record<string, string>,
) => Promise<void>;

interface Endpoint {
  /** Path segments; `:name` captures one segment. */
  pattern: string[];
  methods: Partial<Record<string, Handler>>;
}

const ep = (path: string, methods: Endpoint['methods']): Endpoint => ({
  pattern: path.split('/').filter(Boolean),
  methods,
});
const need = (p: Record<string, string>, k: string): string => p[k] ?? '';

const ENDPOINTS: Endpoint[] = [
  ep('/auth/device', { POST: (c, req, res) => authDevice(c, req, res) }),
  ep('/applications/:appId/keys', {
    GET: (c, req, res, url, p) => listKeys(c, req, res, url, need(p, 'appId')),
    POST: (c, req, res, _u, p) => createKey(c, req, res, need(p, 'appId')),
  }),
  ep('/applications/:appId/keys/:keyId', {
    GET: (c, req, res, _u, p) => getKey(c, req, res, need(p, 'appId'), need(p, 'keyId')),
    PATCH: (c, req, res, _u, p) => patchKey(c, req, res, need(p, 'appId'), need(p, 'keyId')),
    DELETE: (c, req, res, _u, p) => deleteKey(c, req, res, need(p, 'appId'), need(p, 'keyId')),
  }),
  ep('/applications/:appId/devices', {
    GET: (c, req, res, url, p) => listDevices(c, req, res, url, need(p, 'appId')),
    POST: (c, req, res, _u, p) => createDevice(c, req, res, need(p, 'appId')),
  }),
  ep('/applications/:appId/devices/:deviceId', {
    GET: (c, req, res, url, p) => getDevice(c, req, res, url, need(p, 'appId'), need(p, 'deviceId')),
    PATCH: (c, req, res, _u, p) => patchDevice(c, req, res, need(p, 'appId'), need(p, 'deviceId')),
    DELETE: (c, req, res, _u, p) => deleteDevice(c, req, res, need(p, 'appId'), need(p, 'deviceId')),
  }),
  ep('/applications/:appId/devices/:deviceId/state', {
    POST: (c, req, res, _u, p) => postState(c, req, res, need(p, 'appId'), need(p, 'deviceId')),
  }),
  ep('/applications/:appId/devices/:deviceId/command', {
    GET: (c, req, res, url, p) => getCommands(c, req, res, url, need(p, 'appId'), need(p, 'deviceId')),
  }),
];

function match(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = segments[i] as string;
    if (want.startsWith(':')) params[want.slice(1)] = got;
    else if (want !== got) return null;
  }
  return params;
}

function segmentsOf(pathname: string): string[] | null {
  try {
    return pathname
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/**
 * The API's routes. Wire with the runtime's trusted proxies so /auth/device reads the client
 * address exactly as the broker does:
 *   routes: (base) => [...losantApiRoutes({ ...base, trustedProxies: trusted }), …]
 */
export function losantApiRoutes(deps: LosantApiDeps): Route[] {
  const ctx = makeContext(deps);
  const route: Route = async (req, res, url) => {
    const path = url.pathname;
    if (path !== '/auth/device' && path !== '/applications' && !path.startsWith('/applications/')) return false;
    const segments = segmentsOf(path);
    if (!segments) throw new HttpError(404, 'NotFound', `no route for ${req.method} ${path}`);
    for (const e of ENDPOINTS) {
      const params = match(e.pattern, segments);
      if (!params) continue;
      const handler = e.methods[req.method ?? 'GET'];
      if (!handler) {
        res.setHeader('allow', Object.keys(e.methods).join(', '));
        throw new HttpError(
          405,
          'MethodNotAllowed',
          `${req.method} is not supported on ${path} (use ${Object.keys(e.methods).join(' or ')})`,
        );
      }
      await handler(ctx, req, res, url, params);
      return true;
    }
    throw new HttpError(404, 'NotFound', `no route for ${req.method} ${path}`);
  };
  return [route];
}
