// The headless transport of the contract: a WebSocket at /bridge on the HTTP port. Only a client
// presenting the admin token (?token=…) may connect. Frames: {id, method, req} -> {id, reply};
// events are pushed as {event, payload}.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, type DispatchContext } from '../service/dispatch.ts';
import { subscribeContractEvents } from '../service/contract-events.ts';
import { tokenMatches } from './http-util.ts';

export const BRIDGE_PATH = '/bridge';
const MAX_FRAME = 1024 * 1024;

export function attachUiBridge(server: Server, ctx: DispatchContext, adminToken: string): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== BRIDGE_PATH) return; // other upgrade handlers may take it
    if (!tokenMatches(url.searchParams.get('token') ?? undefined, adminToken)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  };
  const serve = (ws: WebSocket) => {
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
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const c of wss.clients) c.terminate();
    wss.close();
  };
}
