import { beforeAll, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  exposeInMainWorld: vi.fn(),
  ipcRenderer: {
    invoke: vi.fn(async (..._args: unknown[]): Promise<unknown> => ({ ok: true, result: [] })),
    on: vi.fn(),
    send: vi.fn(),
    sendSync: vi.fn(),
  },
}));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: fake.exposeInMainWorld },
  ipcRenderer: fake.ipcRenderer,
}));

import { IPC, type IpcBridge } from '../../../src-main/contract.ts';

let bridge: IpcBridge;
let deliver: (name: unknown, payload: unknown) => void;

beforeAll(async () => {
  await import('../../../src-main/preload.ts');
  bridge = fake.exposeInMainWorld.mock.calls[0]?.[1] as IpcBridge;
  const onCall = fake.ipcRenderer.on.mock.calls[0] as [string, (event: unknown, ...args: unknown[]) => void];
  deliver = (name, payload) => onCall[1]({ sender: fake.ipcRenderer }, name, payload);
});

describe('preload', () => {
  it('exposes exactly call, on and saveSecretsFile as window.keyportIpc', () => {
    expect(fake.exposeInMainWorld).toHaveBeenCalledOnce();
    expect(fake.exposeInMainWorld.mock.calls[0]?.[0]).toBe('keyportIpc');
    expect(Object.keys(bridge).sort()).toEqual(['call', 'on', 'saveSecretsFile']);
    for (const v of Object.values(bridge)) expect(typeof v).toBe('function');
  });

  it('never exposes ipcRenderer or its methods', () => {
    const values = Object.values(bridge) as unknown[];
    for (const v of [
      fake.ipcRenderer,
      fake.ipcRenderer.invoke,
      fake.ipcRenderer.on,
      fake.ipcRenderer.send,
      fake.ipcRenderer.sendSync,
    ])
      expect(values).not.toContain(v);
  });

  it('listens on the event channel once, and on nothing else', () => {
    expect(fake.ipcRenderer.on).toHaveBeenCalledOnce();
    expect(fake.ipcRenderer.on.mock.calls[0]?.[0]).toBe(IPC.event);
  });

  it('forwards call to invoke on the call channel and returns the raw reply', async () => {
    fake.ipcRenderer.invoke.mockResolvedValueOnce({
      ok: false,
      error: { code: 'not-found', message: 'no such device' },
    });
    const reply = await bridge.call('devices.get', { id: 'abc' });
    expect(fake.ipcRenderer.invoke).toHaveBeenLastCalledWith(IPC.call, 'devices.get', { id: 'abc' });
    expect(reply).toEqual({ ok: false, error: { code: 'not-found', message: 'no such device' } });
  });

  it('forwards saveSecretsFile with only the name and content (never a path)', async () => {
    fake.ipcRenderer.invoke.mockResolvedValueOnce({ saved: true, path: '/home/u/Documents/k.env' });
    const req = { suggestedName: 'k.env', content: 'KEY=1', path: '/etc/evil', defaultPath: '/tmp' };
    expect(await bridge.saveSecretsFile(req)).toEqual({ saved: true, path: '/home/u/Documents/k.env' });
    expect(fake.ipcRenderer.invoke).toHaveBeenLastCalledWith(IPC.saveSecrets, {
      suggestedName: 'k.env',
      content: 'KEY=1',
    });
  });

  it('fans events out by name, passing the payload only (not the IPC event)', () => {
    const changed = vi.fn();
    const deleted = vi.fn();
    const offChanged = bridge.on('device.changed', changed);
    bridge.on('device.deleted', deleted);
    deliver('device.changed', { id: 'd1' });
    expect(changed).toHaveBeenCalledExactlyOnceWith({ id: 'd1' });
    expect(deleted).not.toHaveBeenCalled();
    offChanged();
    deliver('device.changed', { id: 'd2' });
    expect(changed).toHaveBeenCalledOnce();
    deliver(42, {}); // junk on the channel is ignored
  });

  it('keeps delivering to other listeners when one throws', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const good = vi.fn();
    bridge.on('key.deleted', () => {
      throw new Error('boom');
    });
    bridge.on('key.deleted', good);
    deliver('key.deleted', { id: 'k1' });
    expect(good).toHaveBeenCalledWith({ id: 'k1' });
    expect(errors).toHaveBeenCalled();
    errors.mockRestore();
  });
});
