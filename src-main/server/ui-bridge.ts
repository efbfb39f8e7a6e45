// The headless transport of the contract: a WebSocket at /bridge on the HTTP port
// (@fastify/websocket). Only a client presenting the admin token may connect, and never in the
// URL (URLs land in logs and history): either as a subprotocol, which is what a browser can send,
//   Sec-WebSocket-Protocol: keyport.bridge, token.<admin token>
// (the server answers with `keyport.bridge` only, never echoing the token), or in a header,
//   Authorization: Bearer <admin token>
// Frames: {id, method, req} -> {id, reply}; events are pushed as {event, payload}.
import type { IncomingMessage } from 'node:http';
import type { WebsocketPluginOptions } from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { subscribeContractEvents } from '../service/contract-events.ts';
import { dispatch, type DispatchContext } from '../service/dispatch.ts';
import { HttpError } from './http-errors.ts';
import { bearerToken, tokenMatches } from './http-util.ts';

export const BRIDGE_PATH = '/bridge';
export const BRIDGE_PROTOCOL = 'keyport.bridge';
const TOKEN_PROTOCOL_PREFIX = 'token.';
const MAX_FRAME = 1024 * 1024;

/** The token a bridge client presented: the `token.…` subprotocol, else the bearer header. */
export function bridgeToken(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const sub = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return sub !== undefined ? sub.slice(TOKEN_PROTOCOL_PREFIX.length) : bearerToken(req.headers);
}

/** Options of the server's one WebSocket plugin (registered at the root by http-app.ts). */
export const BRIDGE_WS_OPTIONS: WebsocketPluginOptions = {
  // On shutdown, drop bridge sockets at once (the UI reconnects) instead of waiting up to ws's
  // 30 s close handshake for a tab that does not answer.
  preClose(this: FastifyInstance, done: () => void) {
    for (const c of this.websocketServer.clients) c.terminate();
    this.websocketServer.close();
    done();
  },
  options: {
    maxPayload: MAX_FRAME,
    // Answer with the bridge protocol only; the token "protocol" is a credential, not a choice.
    handleProtocols: (protocols: Set<string>) => (protocols.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  },
};

export function uiBridge(ctx: DispatchContext, adminToken: string): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.get(
      BRIDGE_PATH,
      {
        websocket: true,
        preValidation: async (req) => {
          if (req.headers.upgrade?.toLowerCase() !== 'websocket')
            throw new HttpError(426, 'UpgradeRequired', `${BRIDGE_PATH} is a WebSocket (protocol ${BRIDGE_PROTOCOL})`);
          if (!tokenMatches(bridgeToken(req.raw), adminToken))
            throw new HttpError(
              401,
              'Unauthorized',
              `missing or wrong admin token (send Sec-WebSocket-Protocol: ${BRIDGE_PROTOCOL}, ${TOKEN_PROTOCOL_PREFIX}<token>)`,
            );
        },
      },
      (ws) => serve(ctx, ws),
    );
  };
}

function serve(ctx: DispatchContext, ws: WebSocket): void {
  const send = (msg: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const off = subscribeContractEvents(ctx.service, (event, payload) => send({ event, payload }), {
    ...(ctx.brokerStatus ? { brokerStatus: ctx.brokerStatus } : {}),
    ...(ctx.simulator ? { simulator: ctx.simulator } : {}),
  });
  ws.on('message', (data) => {
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return send({
        id: null,
        reply: { ok: false, error: { code: 'bad-request', message: 'frame is not valid JSON' } },
      });
    }
    const m = msg as { id?: unknown; method?: unknown; req?: unknown };
    if (typeof m !== 'object' || m === null || (typeof m.id !== 'number' && typeof m.id !== 'string')) {
      return send({
        id: null,
        reply: { ok: false, error: { code: 'bad-request', message: 'frame needs {id, method, req}' } },
      });
    }
    void dispatch(ctx, m.method, m.req).then((reply) => send({ id: m.id, reply }));
  });
  ws.on('close', off);
  ws.on('error', () => ws.terminate());
}
