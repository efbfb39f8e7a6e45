import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn(async () => {}) } }));

import { shell } from 'electron';
import { createAppUrl } from '../../../src-main/shell/app-url.ts';
import {
  BACKGROUND_COLOR,
  externalHttpUrl,
  hardenWindow,
  windowOptions,
  type GuardableWindow,
} from '../../../src-main/shell/window-options.ts';

const INDEX = join('/opt', 'keyport', 'out', 'renderer', 'index.html');
const APP = pathToFileURL(INDEX).href;
const openExternal = vi.mocked(shell.openExternal);

type OpenHandler = (d: { url: string }) => { action: string };
type Listener = (event: { url?: string; preventDefault(): void }) => void;

function fakeWindow() {
  const listeners = new Map<string, Listener>();
  let openHandler: OpenHandler | undefined;
  let permissionHandler: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | undefined;
  const win = {
    webContents: {
      setWindowOpenHandler: vi.fn((h: OpenHandler) => void (openHandler = h)),
      on: vi.fn((name: string, l: Listener) => void listeners.set(name, l)),
      session: { setPermissionRequestHandler: vi.fn((h: typeof permissionHandler) => void (permissionHandler = h)) },
    },
  };
  hardenWindow(win as unknown as GuardableWindow, shell, createAppUrl({ indexHtml: INDEX }).isAppUrl);
  const fire = (name: string, url?: string) => {
    const event = { url, preventDefault: vi.fn() };
    const l = listeners.get(name);
    if (!l) throw new Error(`no ${name} listener`);
    l(event);
    return event.preventDefault;
  };
  const permission = (p: string) => {
    let granted: boolean | undefined;
    permissionHandler!(null, p, (g) => (granted = g));
    return granted;
  };
  return { win, open: (url: string) => openHandler!({ url }), fire, permission };
}

beforeEach(() => openExternal.mockClear());

describe('windowOptions', () => {
  const o = windowOptions({ preload: '/opt/keyport/out/preload/preload.cjs' });

  it('turns every renderer security flag the safe way', () => {
    expect(o.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });

  it('uses the given preload script', () => {
    expect(o.webPreferences?.preload).toBe('/opt/keyport/out/preload/preload.cjs');
  });

  it('has a title, a usable size, a minimum size and the UI background', () => {
    expect(o.title).toBe('Keyport');
    expect(o.width).toBeGreaterThanOrEqual(o.minWidth!);
    expect(o.height).toBeGreaterThanOrEqual(o.minHeight!);
    expect(o.minWidth).toBeGreaterThanOrEqual(800);
    expect(o.minHeight).toBeGreaterThanOrEqual(560);
    expect(o.backgroundColor).toBe(BACKGROUND_COLOR);
  });
});

describe('externalHttpUrl', () => {
  it('passes http and https only', () => {
    expect(externalHttpUrl('https://docs.losant.com/mqtt/overview/')).toBe('https://docs.losant.com/mqtt/overview/');
    expect(externalHttpUrl('HTTP://Example.com')).toBe('http://example.com/');
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'mailto:a@b.example',
      'ftp://x.example/',
      'smb://host/share',
      'data:text/html,x',
      'relative/path',
      '',
    ]) {
      expect(externalHttpUrl(url), url).toBeNull();
    }
  });
});

describe('hardenWindow', () => {
  it('denies every window.open and opens only http(s) URLs in the system browser', () => {
    const w = fakeWindow();
    expect(w.open('https://docs.losant.com/')).toEqual({ action: 'deny' });
    expect(w.open('http://example.com/a?b=c')).toEqual({ action: 'deny' });
    expect(openExternal.mock.calls.map((c) => c[0])).toEqual(['https://docs.losant.com/', 'http://example.com/a?b=c']);
    openExternal.mockClear();
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'mailto:someone@example.com', APP, 'about:blank']) {
      expect(w.open(url), url).toEqual({ action: 'deny' });
    }
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('lets the app navigate within itself', () => {
    const w = fakeWindow();
    expect(w.fire('will-navigate', `${APP}#/keys`)).not.toHaveBeenCalled();
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('blocks navigation to any foreign URL; http(s) ones go to the system browser instead', () => {
    const w = fakeWindow();
    expect(w.fire('will-navigate', 'https://evil.example/')).toHaveBeenCalledOnce();
    expect(openExternal).toHaveBeenCalledExactlyOnceWith('https://evil.example/');
    openExternal.mockClear();
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'mailto:x@y.example',
      pathToFileURL(join('/opt', 'keyport', 'out', 'renderer', 'x.html')).href,
    ]) {
      expect(w.fire('will-navigate', url), url).toHaveBeenCalledOnce();
    }
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('refuses <webview> tags', () => {
    expect(fakeWindow().fire('will-attach-webview')).toHaveBeenCalledOnce();
  });

  it('grants only the clipboard write permission the Copy buttons use', () => {
    const w = fakeWindow();
    expect(w.permission('clipboard-sanitized-write')).toBe(true);
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'hid', 'unknown']) {
      expect(w.permission(p), p).toBe(false);
    }
  });
});
