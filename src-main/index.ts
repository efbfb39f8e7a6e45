// Electron app lifecycle only: one instance, the backend runtime on the userData directory, the
// window and the IPC gateway. Everything else runs under plain Node (and is tested there).
import { app, BrowserWindow, dialog, ipcMain, safeStorage, shell } from 'electron';
import { join } from 'node:path';
import { DEFAULT_PORTS, startRuntime, type Runtime } from './server/runtime.ts';
import type { DispatchContext } from './service/dispatch.ts';
import { createAppUrl } from './shell/app-url.ts';
import { registerIpc } from './shell/ipc-gateway.ts';
import { startWithPortFallback } from './shell/port-fallback.ts';
import { safeStorageVault } from './shell/safe-storage-vault.ts';
import { saveSecretsWithDialog } from './shell/save-dialog.ts';
import { hardenWindow, windowOptions } from './shell/window-options.ts';

const PRELOAD = join(import.meta.dirname, '../preload/preload.cjs');
const appUrl = createAppUrl({
  indexHtml: join(import.meta.dirname, '../renderer/index.html'),
  // electron-vite sets this for `npm start`; a packaged app never trusts it.
  devServerUrl: app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL,
});
const log = (line: string): void => void process.stderr.write(`${line}\n`);

let mainWindow: BrowserWindow | null = null;
let runtime: Runtime | null = null;
let disposeIpc: (() => void) | null = null;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(windowOptions({ preload: PRELOAD }));
  hardenWindow(win, shell, appUrl.isAppUrl);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  const entry = appUrl.entry;
  void (entry.kind === 'url' ? win.loadURL(entry.url) : win.loadFile(entry.path));
  mainWindow = win;
  return win;
}

function focusMainWindow(): void {
  const win = mainWindow ?? createWindow();
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/** The data directory is unusable (corrupt store, locked by another process, …): say why and stop. Nothing is overwritten. */
function fatal(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  log(`keyport: ${message}`);
  dialog.showErrorBox('Keyport cannot start', `${message}\n\nData directory: ${app.getPath('userData')}`);
  app.exit(1);
}

async function start(): Promise<void> {
  const { runtime: rt, fellBack } = await startWithPortFallback(startRuntime, {
    dataDir: app.getPath('userData'),
    mode: 'desktop',
    mqttPort: DEFAULT_PORTS.mqtt,
    wsPort: DEFAULT_PORTS.ws,
    tlsPort: DEFAULT_PORTS.tls,
    httpPort: DEFAULT_PORTS.http,
    log,
    simulator: { vault: safeStorageVault(() => safeStorage) },
  });
  runtime = rt;
  if (fellBack.length) log(`keyport: default port busy for ${fellBack.join(', ')}; using ${JSON.stringify(rt.ports)}`);
  // The runtime's own context: the same broker status (with the cluster's nodes when clustered),
  // limits, simulator and trusted proxies the HTTP API and the UI bridge use.
  const ctx: DispatchContext = rt.dispatch;
  disposeIpc = registerIpc(ipcMain, {
    dispatchCtx: ctx,
    isTrustedFrame: appUrl.isAppFrame,
    saveSecrets: (req, event) =>
      saveSecretsWithDialog(dialog, BrowserWindow.fromWebContents(event.sender), req, app.getPath('documents')),
    eventTargets: () => BrowserWindow.getAllWindows().map((w) => w.webContents),
    log,
  });
  createWindow();
}

if (!app.requestSingleInstanceLock()) {
  // Another Keyport owns the lock; it gets 'second-instance' and comes to the front.
  app.quit();
} else {
  app.enableSandbox();
  app.on('second-instance', () => {
    if (app.isReady() && runtime) focusMainWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (runtime && BrowserWindow.getAllWindows().length === 0) createWindow();
  });

  let closing = false;
  app.on('before-quit', (event) => {
    if (!runtime) return;
    // Close the broker, listeners and store (flushes and releases the data-dir lock) first.
    event.preventDefault();
    if (closing) return;
    closing = true;
    disposeIpc?.();
    runtime.close().then(
      () => app.exit(0),
      (err: unknown) => {
        log(`keyport: error while closing: ${err instanceof Error ? err.message : String(err)}`);
        app.exit(1);
      },
    );
  });

  app.whenReady().then(start).catch(fatal);
}
