// src-main/index.ts under a fake Electron: single instance, startup (with the port fallback),
// a data-dir error, second instance, quit. The real runtime is replaced; it has its own tests.
import type { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  const state = {
    lock: true,
    windows: [] as Array<
      Record<string, unknown> & {
        options: unknown;
        show: ReturnType<typeof vi.fn>;
        focus: ReturnType<typeof vi.fn>;
        restore: ReturnType<typeof vi.fn>;
        isMinimized: () => boolean;
        loadFile: ReturnType<typeof vi.fn>;
      }
    >,
    handlers: new Map<string, unknown>(),
    startRuntime: vi.fn(),
    app: undefined as unknown as EventEmitter & Record<string, ReturnType<typeof vi.fn> | unknown>,
    dialog: { showErrorBox: vi.fn(), showSaveDialog: vi.fn() },
  };
  return state;
});

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const app = Object.assign(new Emitter(), {
    isPackaged: true,
    requestSingleInstanceLock: vi.fn(() => h.lock),
    enableSandbox: vi.fn(),
    quit: vi.fn(),
    exit: vi.fn(),
    isReady: () => true,
    whenReady: () => Promise.resolve(),
    getPath: vi.fn((name: string) => `/fake/${name}`),
  });
  h.app = app as never;
  class BrowserWindow extends Emitter {
    options: unknown;
    minimized = false;
    show = vi.fn();
    focus = vi.fn();
    restore = vi.fn(() => void (this.minimized = false));
    isMinimized = () => this.minimized;
    loadFile = vi.fn(async () => {});
    loadURL = vi.fn(async () => {});
    webContents = {
      setWindowOpenHandler: vi.fn(),
      on: vi.fn(),
      session: { setPermissionRequestHandler: vi.fn() },
      isDestroyed: () => false,
      mainFrame: null,
      send: vi.fn(),
    };
    constructor(options: unknown) {
      super();
      this.options = options;
      h.windows.push(this as never);
    }
    static getAllWindows = () => h.windows;
    static fromWebContents = () => null;
  }
  return {
    app,
    BrowserWindow,
    dialog: h.dialog,
    shell: { openExternal: vi.fn() },
    ipcMain: {
      handle: (c: string, f: unknown) => void h.handlers.set(c, f),
      removeHandler: (c: string) => void h.handlers.delete(c),
    },
  };
});

vi.mock('../../../src-main/server/runtime.ts', () => ({
  DEFAULT_PORTS: { mqtt: 1883, ws: 8083, tls: 8883, http: 8484 },
  startRuntime: h.startRuntime,
}));

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseTrustedProxies } from '../../../src-main/core/client-address.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { ListenError } from '../../../src-main/shared/listen-error.ts';

function fakeRuntime(proxies = ['127.0.0.0/8', '::1/128']) {
  const ports = { host: '127.0.0.1', mqtt: 1883, ws: 8083, tls: 8883, http: 8484 };
  const service = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 1) });
  const broker = { status: vi.fn() };
  const trustedProxies = parseTrustedProxies(proxies);
  return {
    service,
    broker,
    dataDir: '/fake/userData',
    ports,
    trustedProxies,
    // The runtime's own dispatch context (runtime.ts builds it): the desktop IPC must use it.
    dispatch: {
      service,
      dataDir: '/fake/userData',
      listeners: () => ports,
      mode: 'desktop' as const,
      brokerStatus: broker.status,
      trustedProxies,
    },
    close: vi.fn(async () => {}),
  };
}

async function boot() {
  vi.resetModules();
  await import('../../../src-main/index.ts');
}

beforeEach(() => {
  h.lock = true;
  h.windows.length = 0;
  h.handlers.clear();
  h.startRuntime.mockReset();
  h.dialog.showErrorBox.mockReset();
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

describe('main process lifecycle', () => {
  it('quits at once when another instance holds the lock', async () => {
    h.lock = false;
    await boot();
    expect(h.app.quit).toHaveBeenCalled();
    expect(h.startRuntime).not.toHaveBeenCalled();
    expect(h.windows).toHaveLength(0);
  });

  it('starts the runtime on userData with the default ports, then a hardened window and the IPC gateway', async () => {
    h.startRuntime.mockResolvedValue(fakeRuntime());
    await boot();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    expect(h.startRuntime).toHaveBeenCalledOnce();
    expect(h.startRuntime.mock.calls[0]?.[0]).toMatchObject({
      dataDir: '/fake/userData',
      mode: 'desktop',
      mqttPort: 1883,
      wsPort: 8083,
      tlsPort: 8883,
      httpPort: 8484,
    });
    const win = h.windows[0]!;
    expect(win.options).toMatchObject({
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
    });
    // ../renderer/index.html next to the bundle's own directory (out/main -> out/renderer once built).
    expect(String(win.loadFile.mock.calls[0]?.[0])).toMatch(/[\\/]renderer[\\/]index\.html$/);
    expect(
      (win.webContents as { setWindowOpenHandler: ReturnType<typeof vi.fn> }).setWindowOpenHandler,
    ).toHaveBeenCalled();
    expect([...h.handlers.keys()].sort()).toEqual(['keyport:call', 'keyport:save-secrets']);
    expect(h.app.enableSandbox).toHaveBeenCalled();
  });

  it('falls back to port 0 for a busy default port', async () => {
    h.startRuntime
      .mockRejectedValueOnce(
        // What startListeners rejects with for a taken port: the fallback reads its listener and code.
        new ListenError(
          'tcp',
          '127.0.0.1',
          1883,
          Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }),
        ),
      )
      .mockResolvedValueOnce(fakeRuntime());
    await boot();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    expect(h.startRuntime.mock.calls[1]?.[0]).toMatchObject({
      mqttPort: 0,
      wsPort: 8083,
      tlsPort: 8883,
      httpPort: 8484,
    });
    expect(h.dialog.showErrorBox).not.toHaveBeenCalled();
  });

  it('shows a data-dir error and quits without a window', async () => {
    h.startRuntime.mockRejectedValue(new Error('/fake/userData/keyport.json: not valid JSON: Unexpected token'));
    await boot();
    await vi.waitFor(() => expect(h.app.exit).toHaveBeenCalledWith(1));
    expect(h.dialog.showErrorBox).toHaveBeenCalledOnce();
    expect(h.dialog.showErrorBox.mock.calls[0]?.[1]).toContain('keyport.json: not valid JSON');
    expect(h.startRuntime).toHaveBeenCalledOnce();
    expect(h.windows).toHaveLength(0);
  });

  it('brings the window to the front when a second instance starts', async () => {
    h.startRuntime.mockResolvedValue(fakeRuntime());
    await boot();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    const win = h.windows[0]!;
    (win as unknown as { minimized: boolean }).minimized = true;
    h.app.emit('second-instance');
    expect(win.restore).toHaveBeenCalled();
    expect(win.focus).toHaveBeenCalled();
  });

  it("hands the runtime's trusted proxies to the IPC contract (the playground reads X-Forwarded-For as the broker does)", async () => {
    const rt = fakeRuntime(['10.0.0.0/8']);
    h.startRuntime.mockResolvedValue(rt);
    await boot();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    // The app's own frame: the packaged index.html next to the main bundle (src-main/../renderer).
    const url = pathToFileURL(join(import.meta.dirname, '../../../renderer/index.html')).href;
    const call = h.handlers.get('keyport:call') as (e: unknown, m: string, r: unknown) => Promise<unknown>;
    const event = { senderFrame: { url } };
    const info = (await call(event, 'app.info', {})) as { ok: boolean; result: { trustedProxies: string[] } };
    expect(info.result.trustedProxies).toEqual(['10.0.0.0/8']);
    const device = await rt.service.devices.create({ name: 'door' });
    const { accessKey } = await rt.service.keys.create({ deviceIds: [device.id] });
    const reply = (await call(event, 'access.explain', {
      key: accessKey.id,
      deviceId: device.id,
      transport: 'ws',
      address: '10.9.9.9',
      forwardedFor: '198.51.100.4',
    })) as { ok: boolean; result: { connect: { address: string } } };
    expect(reply.result.connect.address).toBe('198.51.100.4');
  });

  it('closes the runtime before quitting', async () => {
    const rt = fakeRuntime();
    let finishClose!: () => void;
    rt.close.mockImplementation(() => new Promise<void>((r) => (finishClose = r)));
    h.startRuntime.mockResolvedValue(rt);
    await boot();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    const exit = h.app.exit as ReturnType<typeof vi.fn>;
    exit.mockClear();
    const event = { preventDefault: vi.fn() };
    h.app.emit('before-quit', event);
    h.app.emit('before-quit', { preventDefault: vi.fn() }); // a second Cmd+Q while closing
    expect(event.preventDefault).toHaveBeenCalled();
    expect(rt.close).toHaveBeenCalledOnce();
    expect(h.handlers.size).toBe(0);
    expect(exit).not.toHaveBeenCalled();
    finishClose();
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
  });
});
