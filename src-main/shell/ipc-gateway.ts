// The single IPC gateway of the desktop app: the Electron transport of the contract (contract.ts).
// Every invoke is checked against the frame that sent it (event.senderFrame): only the app's own
// page may call the backend, never a frame that got there by navigation, an iframe or a devtools
// extension page. Replies are plain {ok, result} / {ok:false, error} values, because an Error
// thrown in main reaches the renderer as a flattened string.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { IPC, type ContractError, type MethodName, type Reply } from '../contract.ts';
import { subscribeContractEvents, type EventOptions } from '../service/contract-events.ts';
import { dispatch, type DispatchContext } from '../service/dispatch.ts';
import type { SaveSecretsResult } from './save-dialog.ts';

export interface FrameLike {
  readonly url: string;
}

/** Where events go (a real WebContents fits). */
export interface EventTargetLike {
  isDestroyed(): boolean;
  readonly mainFrame: FrameLike | null;
  send(channel: string, ...args: unknown[]): void;
}

export interface IpcGatewayOptions {
  dispatchCtx: DispatchContext;
  /** True for the app's own page only (see app-url.ts). */
  isTrustedFrame: (frame: FrameLike | null) => boolean;
  /** Shows the native save dialog for the window that asked; the request is still unvalidated. */
  saveSecrets: (req: unknown, event: IpcMainInvokeEvent) => Promise<SaveSecretsResult>;
  /** The windows that receive contract events (default: none). */
  eventTargets?: () => Iterable<EventTargetLike>;
  events?: Omit<EventOptions, 'brokerStatus'>;
  log?: (line: string) => void;
}

/** The exact channels this gateway handles; nothing else is registered. */
export const HANDLED_CHANNELS = [IPC.call, IPC.saveSecrets] as const;

const UNAUTHORIZED: ContractError = {
  code: 'unauthorized',
  message: 'refused: the call did not come from the Keyport window',
};

function senderFrameOf(event: IpcMainInvokeEvent): FrameLike | null {
  try {
    return event.senderFrame; // null once the frame navigated away or was destroyed
  } catch {
    return null;
  }
}

/** Registers the handlers and starts forwarding events; returns a function that undoes both. */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, opts: IpcGatewayOptions): () => void {
  const log = opts.log ?? (() => {});
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = senderFrameOf(event);
    if (opts.isTrustedFrame(frame)) return true;
    log(`IPC refused from ${frame ? JSON.stringify(frame.url) : 'a destroyed frame'}`);
    return false;
  };

  ipcMain.handle(IPC.call, (event, method: unknown, req: unknown): Promise<Reply<MethodName>> | Reply<MethodName> => {
    if (!trusted(event)) return { ok: false, error: UNAUTHORIZED };
    return dispatch(opts.dispatchCtx, method, req);
  });

  ipcMain.handle(IPC.saveSecrets, async (event, req: unknown): Promise<SaveSecretsResult> => {
    if (!trusted(event)) throw new Error(UNAUTHORIZED.message);
    return opts.saveSecrets(req, event);
  });

  const targets = opts.eventTargets ?? (() => []);
  const unsubscribe = subscribeContractEvents(
    opts.dispatchCtx.service,
    (name, payload) => {
      for (const wc of targets()) {
        if (!wc.isDestroyed() && opts.isTrustedFrame(wc.mainFrame)) wc.send(IPC.event, name, payload);
      }
    },
    {
      ...opts.events,
      ...(opts.dispatchCtx.brokerStatus ? { brokerStatus: opts.dispatchCtx.brokerStatus } : {}),
      ...(opts.dispatchCtx.simulator ? { simulator: opts.dispatchCtx.simulator } : {}),
    },
  );

  return () => {
    unsubscribe();
    for (const channel of HANDLED_CHANNELS) ipcMain.removeHandler(channel);
  };
}
