// Exposes the contract's Electron transport on window.keyportIpc (IpcBridge in contract.ts);
// never ipcRenderer itself. Runs sandboxed: `electron` is the only module it may require, so it
// imports nothing else at runtime but the IPC channel names (bundled in by Vite).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC, type EventName, type IpcBridge, type MethodName } from './contract.ts';

type Listener = (payload: unknown) => void;

export function createIpcBridge(renderer: Pick<typeof ipcRenderer, 'invoke' | 'on'>): IpcBridge {
  const listeners = new Map<string, Set<Listener>>();
  // One channel listener for all events, fanned out here: the renderer never sees the IPC event
  // object (it carries `sender`, a handle on ipcRenderer).
  renderer.on(IPC.event, (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (typeof name !== 'string') return;
    for (const listener of listeners.get(name) ?? []) {
      try {
        listener(payload);
      } catch (err) {
        console.error(`keyport: a listener for ${name} threw`, err);
      }
    }
  });

  return {
    call: (method: MethodName, req: unknown) => renderer.invoke(IPC.call, method, req),
    on(event: EventName, listener: Listener) {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    // Only the two fields cross; where the file goes is chosen in main's native dialog.
    saveSecretsFile: (req) =>
      renderer.invoke(IPC.saveSecrets, { suggestedName: req?.suggestedName, content: req?.content }),
  };
}

contextBridge.exposeInMainWorld('keyportIpc', createIpcBridge(ipcRenderer));
