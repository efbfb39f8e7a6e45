// The headless HTTP server on Fastify: ONE route table for the contract (/rpc/{method}), the
// Losant-compatible API, the UI bridge (WebSocket) and the static UI; one body parser with its
// limits; one error mapper to Losant's {type, message}; the Host/Origin guard on every request;
// and timeouts that drop slow-header (slowloris) sockets in seconds.
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HttpError, mapError } from './http-errors.ts';
import { MAX_BODY_BYTES, parseJsonBody, sendJson } from './http-util.ts';
import { acceptedHosts, checkHostAndOrigin, type HostPolicy } from './request-guard.ts';
import { BRIDGE_WS_OPTIONS } from './ui-bridge.ts';

/** A set of routes, registered on the app (the Losant API, the UI, the bridge, /rpc). */
export type RouteModule = (app: FastifyInstance) => Promise<void>;

/**
 * Timeouts, in ms. A client must send its whole header block within `headersMs` (slowloris: a
 * partial header is closed then, not at Node's 60 s) and its whole request within `requestMs`
 * (1 MiB at a slow 50 KB/s is 20 s); an idle keep-alive connection is closed after
 * `keepAliveMs`. Node checks these every `checkIntervalMs`.
 */
export const HTTP_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, checkIntervalMs: 1_000 };

export interface HttpAppOptions {
  hosts: HostPolicy;
  modules: RouteModule[];
  log: (line: string) => void;
}

export async function createHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const t = HTTP_TIMEOUTS;
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    keepAliveTimeout: t.keepAliveMs,
    requestTimeout: t.requestMs,
    forceCloseConnections: true,
    http: { headersTimeout: t.headersMs, connectionsCheckingInterval: t.checkIntervalMs },
    // Bad %-escapes in a path parameter: the same {type, message} as every other error.
    frameworkErrors: (err, req, reply) => {
      Object.assign(err, { url: `${req.method} ${req.raw.url ?? ''}` });
      sendError(err, req, reply);
    },
  });
  const log = opts.log;
  function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const m = mapError(err);
    if (m.internal) log(`keyport: HTTP ${req.method} ${req.url} failed: ${(err as Error)?.message ?? String(err)}`);
    if (m.close) reply.header('connection', 'close');
    void sendJson(reply, m.status, m.body);
  }
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendError(new HttpError(404, 'NotFound', `no route for ${req.method} ${req.url.split('?')[0]}`), req, reply),
  );

  // One parser for every content type; /auth/device narrows the types it takes itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // At the root and before the guard: its hooks mark every upgrade request and destroy the socket
  // of any upgrade that is answered with plain HTTP (refused, or on a path that is no WebSocket).
  await app.register(websocket, BRIDGE_WS_OPTIONS);

  let accepted: Set<string> | null = null;
  app.addHook('onRequest', async (req) => {
    accepted ??= acceptedHosts(opts.hosts);
    const verdict = checkHostAndOrigin(req.headers, accepted);
    if (verdict.ok) return;
    log(
      `keyport: HTTP refused ${req.method} ${req.url.split('?')[0]} from ${req.socket.remoteAddress ?? '?'}: ${verdict.message}`,
    );
    throw new HttpError(403, 'Forbidden', verdict.message);
  });

  for (const m of opts.modules) await app.register(m);
  await app.ready();
  return app;
}
