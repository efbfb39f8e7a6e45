// The only module that touches a transport. In Electron the preload exposes window.keyport;
// in a browser (keyport serve) we talk to the WebSocket bridge. Views never know which.
import type { EventName, Events, IpcBridge, KeyportBridge, MethodName, Req, Res } from '../../src-main/contract.ts';
import { connection } from './connection.svelte.ts';
import { BridgeError, createWsBridge } from './ws-bridge.ts';

declare global {
  interface Window {
    keyportIpc?: IpcBridge;
  }
}

function fromIpc(ipc: IpcBridge): KeyportBridge {
  return {
    async call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>> {
      const reply = await ipc.call(method, req);
      if (!reply.ok) throw new BridgeError(reply.error);
      return reply.result as Res<M>;
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
      return ipc.on(event, listener as (p: unknown) => void);
    },
    saveSecretsFile: (req) => ipc.saveSecretsFile(req),
  };
}

const TOKEN_KEY = 'keyport.token';

/** The admin token arrives in the URL fragment once (#token=…); keep it for the tab, then hide it. */
function takeToken(): string {
  const m = /(?:^#|&)token=([0-9a-f]+)/.exec(location.hash);
  if (m?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(
      null,
      '',
      location.pathname + location.search + location.hash.replace(/(?:^#|&)token=[0-9a-f]+/, '').replace(/^$/, '#/'),
    );
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function pick(): KeyportBridge {
  if (window.keyportIpc) {
    connection.state = 'open';
    connection.mode = 'desktop';
    return fromIpc(window.keyportIpc);
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = takeToken();
  connection.mode = 'headless';
  if (!token) {
    // Nothing to try: say what is missing at once (App shows how to get the link), never "reconnecting".
    connection.state = 'unauthorized';
    connection.token = 'missing';
    return noTokenBridge();
  }
  // The token travels as a WebSocket subprotocol, never in the URL (URLs end up in logs).
  return createWsBridge(
    `${proto}//${location.host}/bridge`,
    ['keyport.bridge', `token.${token}`],
    (s) => {
      connection.state = s;
      if (s === 'unauthorized') {
        connection.token = 'refused';
        sessionStorage.removeItem(TOKEN_KEY); // a new link's token replaces it
      }
    },
    () => tokenRefused(token),
  );
}

/** Whether the server answers 401 to this token (an HTTP call the browser lets us read, unlike a refused upgrade). */
async function tokenRefused(token: string): Promise<boolean> {
  const r = await fetch('/rpc/app.info', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return r.status === 401;
}

function noTokenBridge(): KeyportBridge {
  const refused = () =>
    Promise.reject(
      new BridgeError({
        code: 'unauthorized',
        message: 'this page has no admin token: open the UI link that `keyport serve` or `keyport ui-url` prints',
      }),
    );
  return { call: refused, on: () => () => {} };
}

export const api: KeyportBridge = pick();

/** A user-facing message from any error a call may reject with. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Field errors by field name, for showing next to inputs. */
export function fieldErrors(err: unknown): Record<string, string> {
  const e = (err as { error?: { errors?: { field: string; message: string }[] } }).error;
  const out: Record<string, string> = {};
  for (const f of e?.errors ?? []) out[f.field] ??= f.message;
  return out;
}
