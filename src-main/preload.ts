// Exposes the typed contract on window.keyport; never raw ipcRenderer.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('keyport', {});
