// The browser transport of the contract: a WebSocket to /bridge on the serving host, carrying
// the admin token as a subprotocol (`keyport.bridge, token.<token>`). Reconnects with back-off; calls made while disconnected wait for the socket.
// A browser cannot see why an upgrade failed (every refusal is close code 1006), so after a failed
// connect `tokenRefused` asks the server over plain HTTP: a refused token stops the reconnects and
// the state becomes 'unauthorized' (the page then says how to get the link, not "reconnecting").
import type {
  ContractError,
  EventName,
  Events,
  KeyportBridge,
  MethodName,
  Reply,
  Req,
  Res,
} from '../../src-main/contract.ts';

export class BridgeError extends Error {
  constructor(readonly error: ContractError) {
    super(error.message);
  }
}

type Listener = (payload: unknown) => void;
export type BridgeState = 'connecting' | 'open' | 'closed' | 'unauthorized';

const UNAUTHORIZED: ContractError = {
  code: 'unauthorized',
  message: 'this page has no valid admin token: open the UI link that `keyport serve` or `keyport ui-url` prints',
};

export function createWsBridge(
  url: string,
  protocols: string[],
  onState: (s: BridgeState) => void,
  /** Resolves true when the server refuses our token (false: it accepts it, or cannot be reached). */
  tokenRefused: () => Promise<boolean> = () => Promise.resolve(false),
): KeyportBridge {
  let ws: WebSocket | null = null;
  let nextId = 1;
  let delay = 250;
  let unauthorized = false;
  let opened = false;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const queue: string[] = [];
  const listeners = new Map<string, Set<Listener>>();

  const connect = () => {
    onState('connecting');
    const sock = new WebSocket(url, protocols);
    ws = sock;
    sock.onopen = () => {
      delay = 250;
      opened = true;
      onState('open');
      for (const frame of queue.splice(0)) sock.send(frame);
    };
    sock.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number | null;
        reply?: Reply<MethodName>;
        event?: string;
        payload?: unknown;
      };
      if (msg.event) {
        listeners.get(msg.event)?.forEach((l) => l(msg.payload));
        return;
      }
      if (typeof msg.id !== 'number' || !msg.reply) return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.reply.ok) p.resolve(msg.reply.result);
      else p.reject(new BridgeError(msg.reply.error));
    };
    sock.onclose = () => {
      ws = null;
      const wasOpen = opened;
      opened = false;
      // Calls sent on an open socket are lost with it; queued ones wait for the next socket.
      for (const [id, p] of pending) {
        if (queue.some((f) => f.startsWith(`{"id":${id},`))) continue;
        p.reject(new BridgeError({ code: 'unavailable', message: 'lost the connection to the Keyport server' }));
        pending.delete(id);
      }
      const retry = () => {
        onState('closed');
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
      if (wasOpen) return retry();
      // Never opened: the upgrade was refused or the server is gone. Ask which.
      tokenRefused().then(
        (refused) => (refused ? refuse() : retry()),
        () => retry(),
      );
    };
  };
  const refuse = () => {
    unauthorized = true;
    queue.length = 0;
    for (const [, p] of pending) p.reject(new BridgeError(UNAUTHORIZED));
    pending.clear();
    onState('unauthorized');
  };
  connect();

  return {
    call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>> {
      if (unauthorized) return Promise.reject(new BridgeError(UNAUTHORIZED));
      const id = nextId++;
      const frame = JSON.stringify({ id, method, req });
      return new Promise<Res<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (ws?.readyState === WebSocket.OPEN) ws.send(frame);
        else queue.push(frame);
      });
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
  };
}
