// The headless HTTP server: the contract over HTTP for the CLI (/rpc/{method}, admin token), and
// the mount point for the Losant-compatible API, the UI and its WebSocket bridge.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FileWriteError } from '../shared/atomic-write.ts';
import { dispatch, storageMessage, type DispatchContext } from '../service/dispatch.ts';
import { bearerToken, HttpError, readJsonBody, sendJson, tokenMatches } from './http-util.ts';

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface HttpOptions {
  ctx: DispatchContext;
  adminToken: string;
  /** Extra routes tried in order before the 404 (API, static UI). */
  routes?: Route[];
}

const RPC_STATUS: Record<string, number> = {
  validation: 400,
  'bad-request': 400,
  'not-found': 404,
  conflict: 409,
  unauthorized: 401,
  unavailable: 503,
  storage: 507, // RFC 4918 §11.5 Insufficient Storage: the change could not be stored
  internal: 500,
};

export function createHttpServer(opts: HttpOptions): Server {
  const rpc: Route = async (req, res, url) => {
    if (!url.pathname.startsWith('/rpc/')) return false;
    if (req.method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', 'use POST for /rpc/{method}');
    if (!tokenMatches(bearerToken(req), opts.adminToken))
      throw new HttpError(
        401,
        'Unauthorized',
        'missing or wrong admin token (Authorization: Bearer <token from the data directory>)',
      );
    const method = decodeURIComponent(url.pathname.slice('/rpc/'.length));
    const body = await readJsonBody(req);
    const reply = await dispatch(opts.ctx, method, body);
    sendJson(res, reply.ok ? 200 : (RPC_STATUS[reply.error.code] ?? 500), reply);
    return true;
  };
  const routes = [rpc, ...(opts.routes ?? [])];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      for (const route of routes) if (await route(req, res, url)) return;
      throw new HttpError(404, 'NotFound', `no route for ${req.method} ${url.pathname}`);
    })().catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return sendJson(res, err.status, { type: err.type, message: err.message });
      if (err instanceof FileWriteError)
        return sendJson(res, 507, { type: 'InsufficientStorage', message: storageMessage(err) });
      sendJson(res, 500, { type: 'InternalError', message: 'internal error' });
      process.stderr.write(`keyport: HTTP ${req.method} ${url.pathname} failed: ${(err as Error).message}\n`);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  (server as Server & { destroyAll?: () => void }).destroyAll = () => sockets.forEach((s) => s.destroy());
  return server;
}
