// The main window's options and the guards every window gets (Electron security checklist:
// https://www.electronjs.org/docs/latest/tutorial/security). The renderer is untrusted: it runs
// isolated and sandboxed, cannot navigate away from the app, cannot open windows, and may only
// hand http(s) links to the system browser.
import type { BrowserWindowConstructorOptions, Shell } from 'electron';

/** Matches --bg in src-renderer/app.css, so the window does not flash white before the UI paints. */
export const BACKGROUND_COLOR = '#f5f6f8';

export function windowOptions(opts: { preload: string }): BrowserWindowConstructorOptions {
  return {
    title: 'Keyport',
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    backgroundColor: BACKGROUND_COLOR,
    show: false, // shown on 'ready-to-show'
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** The only links Keyport passes to the operating system: absolute http: and https: URLs. */
export function externalHttpUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
}

interface PreventableEvent {
  preventDefault(): void;
}

/** The parts of a BrowserWindow the guards touch (a real BrowserWindow fits). */
export interface GuardableWindow {
  webContents: {
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
    on(event: 'will-navigate', listener: (event: PreventableEvent & { url: string }) => void): unknown;
    on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
    session: {
      setPermissionRequestHandler(
        handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void,
      ): void;
    };
  };
}

/** Permissions the UI needs: the Copy buttons (navigator.clipboard.writeText). Everything else is refused. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function hardenWindow(
  win: GuardableWindow,
  shell: Pick<Shell, 'openExternal'>,
  isAppUrl: (url: string) => boolean,
): void {
  const openOutside = (url: string): void => {
    const ok = externalHttpUrl(url);
    if (ok) void shell.openExternal(ok).catch(() => {});
  };
  // window.open and target=_blank: never a new Electron window.
  win.webContents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  // A link without target=_blank, a form, or script setting location: stay on the app.
  win.webContents.on('will-navigate', (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    openOutside(event.url);
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.webContents.session.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(ALLOWED_PERMISSIONS.has(permission)),
  );
}
