import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';

// A stand-in for Electron's ipcMain.handle/removeHandler, with its rule that a channel has one handler.
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  return {
    handlers,
    ipcMain: {
      handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) => {
        if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        handlers.set(channel, h);
      },
      removeHandler: (channel: string) => void handlers.delete(channel),
    },
  };
});
vi.mock('electron', () => ({ ipcMain: fake.ipcMain }));

import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IPC, type MethodName, type Reply } from '../../../src-main/contract.ts';
import type { Device } from '../../../src-main/core/types.ts';
import type { DispatchContext } from '../../../src-main/service/dispatch.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createAppUrl } from '../../../src-main/shell/app-url.ts';
import type { SaveSecretsResult } from '../../../src-main/shell/save-dialog.ts';
import { HANDLED_CHANNELS, registerIpc, type EventTargetLike } from '../../../src-main/shell/ipc-gateway.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';

const INDEX = join('/opt', 'keyport', 'out', 'renderer', 'index.html');
const APP_URL = `${pathToFileURL(INDEX).href}#/devices`;
const appUrl = createAppUrl({ indexHtml: INDEX });

const fromFrame = (url: string | null) =>
  ({ senderFrame: url === null ? null : { url }, sender: {} }) as unknown as IpcMainInvokeEvent;

function invoke(channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<unknown> {
  const h = fake.handlers.get(channel);
  if (!h) throw new Error(`no handler for ${channel}`);
  return Promise.resolve(h(event, ...args));
}
const call = (event: IpcMainInvokeEvent, method: unknown, req?: unknown) =>
  invoke(IPC.call, event, method, req) as Promise<Reply<MethodName>>;

function target(url: string | null, destroyed = false) {
  return {
    isDestroyed: () => destroyed,
    mainFrame: url === null ? null : { url },
    send: vi.fn(),
  } satisfies EventTargetLike;
}

let service: KeyportService;
let ctx: DispatchContext;
let targets: ReturnType<typeof target>[];
let saveSecrets: Mock<(req: unknown, event: IpcMainInvokeEvent) => Promise<SaveSecretsResult>>;
let dispose: () => void;

beforeEach(() => {
  service = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 7) });
  ctx = {
    service,
    dataDir: '/tmp/keyport-test',
    listeners: () => ({ host: '127.0.0.1', mqtt: 1883, ws: 8083, tls: 8883, http: 8484 }),
    mode: 'desktop',
  };
  targets = [];
  saveSecrets = vi.fn(async () => ({ saved: true, path: '/home/u/Documents/k.env' }));
  dispose = registerIpc(ipcMain, {
    dispatchCtx: ctx,
    isTrustedFrame: appUrl.isAppFrame,
    saveSecrets,
    eventTargets: () => targets,
    events: { flushMs: 5 },
  });
});

afterEach(() => dispose());

describe('registration', () => {
  it('handles exactly the call and save-secrets channels', () => {
    expect([...fake.handlers.keys()].sort()).toEqual([IPC.call, IPC.saveSecrets].sort());
    expect([...HANDLED_CHANNELS].sort()).toEqual([IPC.call, IPC.saveSecrets].sort());
  });

  it('removes its handlers when disposed (so it can be registered again)', () => {
    dispose();
    expect(fake.handlers.size).toBe(0);
    dispose = registerIpc(ipcMain, { dispatchCtx: ctx, isTrustedFrame: appUrl.isAppFrame, saveSecrets });
    expect(fake.handlers.size).toBe(2);
  });
});

describe('sender check', () => {
  const foreign = [
    'https://evil.example/',
    'http://127.0.0.1:8484/',
    pathToFileURL('/etc/passwd').href,
    'about:blank',
    'devtools://devtools/x.html',
  ];

  it.each(foreign)('refuses a call from %s as unauthorized and does nothing', async (url) => {
    const reply = await call(fromFrame(url), 'devices.create', { name: 'sneaky' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(service.devices.list()).toEqual([]);
  });

  it('refuses a call whose senderFrame is null (navigated away or destroyed)', async () => {
    expect(await call(fromFrame(null), 'devices.list', {})).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
  });

  it('refuses a call whose senderFrame cannot be read', async () => {
    const event = {
      get senderFrame(): never {
        throw new Error('Render frame was disposed');
      },
    } as unknown as IpcMainInvokeEvent;
    expect(await call(event, 'devices.list', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('refuses save-secrets from a foreign frame without showing a dialog', async () => {
    await expect(
      invoke(IPC.saveSecrets, fromFrame('https://evil.example/'), { suggestedName: 'k.env', content: 'x' }),
    ).rejects.toThrow(/refused/);
    await expect(invoke(IPC.saveSecrets, fromFrame(null), { suggestedName: 'k.env', content: 'x' })).rejects.toThrow(
      /refused/,
    );
    expect(saveSecrets).not.toHaveBeenCalled();
  });
});

describe('calls from the app window', () => {
  const app = fromFrame(APP_URL);

  it('reach the real service through dispatch', async () => {
    const created = await call(app, 'devices.create', { name: 'Thermostat' });
    expect(created).toMatchObject({ ok: true, result: { name: 'Thermostat' } });
    const list = await call(app, 'devices.list', {});
    expect(list.ok && (list.result as Device[]).map((d) => d.name)).toEqual(['Thermostat']);
    expect(await call(app, 'app.info', {})).toMatchObject({
      ok: true,
      result: { mode: 'desktop', dataDir: '/tmp/keyport-test', applicationId: service.applicationId },
    });
  });

  it('answer an unknown method with bad-request', async () => {
    for (const m of ['devices.drop', 'constructor', '__proto__', 42, undefined]) {
      expect(await call(app, m, {}), String(m)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    }
  });

  it('answer a malformed request with bad-request', async () => {
    expect(await call(app, 'devices.list', 'all')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(app, 'devices.list', [1])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await call(app, 'devices.get', { id: '../../etc' })).toMatchObject({
      ok: false,
      error: { code: 'bad-request', message: expect.stringMatching(/^id must be/) },
    });
  });

  it('answer a validation failure with the field errors, as a plain value', async () => {
    const reply = await call(app, 'devices.create', { name: '' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(structuredClone(reply)).toEqual(reply); // crosses IPC intact
  });

  it('pass save-secrets to the dialog function', async () => {
    const req = { suggestedName: 'k.env', content: 'KEY=1' };
    expect(await invoke(IPC.saveSecrets, app, req)).toEqual({ saved: true, path: '/home/u/Documents/k.env' });
    expect(saveSecrets).toHaveBeenCalledExactlyOnceWith(req, app);
  });
});

describe('events', () => {
  it('go to the app window only, on the event channel', async () => {
    const good = target(APP_URL);
    const evil = target('https://evil.example/');
    const gone = target(APP_URL, true);
    const blank = target(null);
    targets.push(good, evil, gone, blank);
    const reply = await call(fromFrame(APP_URL), 'devices.create', { name: 'Pump' });
    expect(good.send).toHaveBeenCalledWith(IPC.event, 'device.changed', reply.ok && reply.result);
    for (const t of [evil, gone, blank]) expect(t.send).not.toHaveBeenCalled();
  });

  it('forward batched decisions', async () => {
    const good = target(APP_URL);
    targets.push(good);
    service.feed.record({
      transport: 'tcp',
      action: 'connect',
      result: 'denied',
      reason: 'key.unknown',
      rule: 'no such key',
    });
    await vi.waitFor(() =>
      expect(good.send).toHaveBeenCalledWith(IPC.event, 'decisions', [
        expect.objectContaining({ action: 'connect', result: 'denied' }),
      ]),
    );
  });

  it('never carry the secret returned once by keys.create', async () => {
    const good = target(APP_URL);
    targets.push(good);
    const reply = await call(fromFrame(APP_URL), 'keys.create', { name: 'k' });
    expect(reply.ok).toBe(true);
    const secret = reply.ok ? (reply.result as { secret: string }).secret : '';
    expect(secret.length).toBeGreaterThan(10);
    expect(good.send).toHaveBeenCalledWith(IPC.event, 'key.changed', expect.anything());
    expect(JSON.stringify(good.send.mock.calls)).not.toContain(secret);
  });

  it('stop when disposed', async () => {
    const good = target(APP_URL);
    targets.push(good);
    dispose();
    await service.devices.create({ name: 'After' });
    expect(good.send).not.toHaveBeenCalled();
  });
});
