// Live connection status (issue 17 item 1): a connect burst costs one store write, not one per
// CONNECT; each status put validates and copies only the status (Store.putConnectionStatus); what
// users see (the record, device.status events) is unchanged, and the status survives a restart.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionStatus, Device } from '../../../src-main/core/types.ts';
import { persistStatus } from '../../../src-main/broker/connection-status.ts';
import type { HookContext } from '../../../src-main/broker/hook-context.ts';
import { BrokerSession } from '../../../src-main/broker/sessions.ts';
import { parseTrustedProxies } from '../../../src-main/core/client-address.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { openLowdbStore } from '../../../src-main/store/lowdb-store.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { StoreRecordError, type Store } from '../../../src-main/store/store.ts';
import { WriteCoalescer } from '../../../src-main/store/write-coalescer.ts';
import { makeDevice, makeTempDir, removeTempDir, TEST_PEPPER } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

async function lowdb(dir?: string): Promise<{ dir: string; store: Store; writes: () => number }> {
  const d = dir ?? (await makeTempDir());
  if (!dir) dirs.push(d);
  let writes = 0;
  const store = await openLowdbStore(d, { onWrite: () => void writes++ });
  stores.push(store);
  return { dir: d, store, writes: () => writes };
}

const connected = (at: string): ConnectionStatus => ({
  status: 'connected',
  connectedAt: at,
  ipAddress: '127.0.0.1',
  transport: 'tcp',
  messagesFromClient: 0,
  messagesToClient: 0,
});

describe('connection status bookkeeping', () => {
  it('a burst of 200 connects and 200 disconnects is ONE store write; every change is announced; it survives a restart', async () => {
    const { dir, store, writes } = await lowdb();
    const service = new KeyportService({ store, pepper: TEST_PEPPER, log: () => {} });
    const devices: Device[] = [];
    for (let i = 0; i < 20; i++)
      devices.push(await service.devices.create({ name: `d${i}`, tags: [{ key: 'type', value: 'x' }] }));
    const announced: Device[] = [];
    service.events.on('device.status', (d) => announced.push(d));
    const before = writes();

    const at = '2026-05-01T10:00:00.000Z';
    const later = '2026-05-01T10:00:05.000Z';
    const done: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      for (const d of devices) {
        done.push(service.devices.setConnectionStatus(d.id, connected(at)));
        done.push(
          service.devices.setConnectionStatus(d.id, {
            ...connected(at),
            status: 'disconnected',
            disconnectedAt: later,
            disconnectReason: 'client.disconnect',
            messagesFromClient: round,
          }),
        );
      }
    }
    expect(writes() - before).toBe(0); // lazy: nothing written yet, all visible already
    expect(store.getDevice(devices[0]!.id)?.connectionStatus?.status).toBe('disconnected');
    await Promise.all(done);
    expect(writes() - before).toBe(1);
    expect(announced).toHaveLength(400);
    expect(announced.at(-1)).toBe(store.getDevice(devices.at(-1)!.id)); // the stored record itself
    // The rest of the record is untouched: same name, tags, lastUpdated.
    const first = store.getDevice(devices[0]!.id);
    expect(first?.name).toBe('d0');
    expect(first?.tags).toEqual([{ key: 'type', value: 'x' }]);
    expect(first?.lastUpdated).toBe(devices[0]!.lastUpdated);

    await store.close();
    const { store: reopened } = await lowdb(dir);
    for (const d of devices) {
      expect(reopened.getDevice(d.id)?.connectionStatus).toEqual({
        ...connected(at),
        status: 'disconnected',
        disconnectedAt: later,
        disconnectReason: 'client.disconnect',
        messagesFromClient: 9,
      });
    }
  });

  it('the statuses of one write window share one promise (no promise per CONNECT); each is still visible at once and on disk when it resolves', async () => {
    const { dir, store } = await lowdb();
    const service = new KeyportService({ store, pepper: TEST_PEPPER, log: () => {} });
    const a = await service.devices.create({ name: 'a' });
    const b = await service.devices.create({ name: 'b' });
    const at = '2026-05-01T10:00:00.000Z';
    const pa = store.putConnectionStatus(a.id, connected(at));
    const pb = store.putConnectionStatus(b.id, connected(at));
    expect(pb).toBe(pa);
    const sa = service.devices.setConnectionStatus(a.id, { ...connected(at), messagesFromClient: 1 });
    const sb = service.devices.setConnectionStatus(b.id, { ...connected(at), messagesFromClient: 2 });
    expect(sb).toBe(sa);
    expect(store.getDevice(b.id)?.connectionStatus?.messagesFromClient).toBe(2); // at once
    expect(await pa).toBe(true);
    await sa;
    // A refused status rejects on its own; the shared promise is not affected.
    const bad = { status: 'connected' } as ConnectionStatus;
    const refused = service.devices.setConnectionStatus(a.id, bad);
    const next = service.devices.setConnectionStatus(b.id, { ...connected(at), messagesFromClient: 3 });
    expect(refused).not.toBe(next);
    await expect(refused).rejects.toThrow(StoreRecordError);
    await next;
    expect(await service.devices.setConnectionStatus('0123456789abcdef01234567', connected(at))).toBeUndefined();
    // Closed (which writes what is left) and opened again: the last statuses are there.
    await store.close();
    const { store: reopened } = await lowdb(dir);
    expect(reopened.getDevice(a.id)?.connectionStatus?.messagesFromClient).toBe(1);
    expect(reopened.getDevice(b.id)?.connectionStatus?.messagesFromClient).toBe(3);
  });

  it('a failed status write rejects every status of its window and is logged once by the broker', async () => {
    const d = await makeTempDir();
    dirs.push(d);
    let fail = false;
    const store = await openLowdbStore(d, {
      log: () => {},
      beforeCommit: () => {
        if (fail) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    });
    stores.push(store);
    const service = new KeyportService({ store, pepper: TEST_PEPPER, log: () => {} });
    const devs = [await service.devices.create({ name: 'a' }), await service.devices.create({ name: 'b' })];
    fail = true;
    const lines: string[] = [];
    const ctx = {
      ports: service.ports({ trustedProxies: parseTrustedProxies([]) }),
      log: (l: string) => lines.push(l),
    };
    const at = '2026-05-01T10:00:00.000Z';
    for (const dev of devs)
      persistStatus(
        ctx as unknown as HookContext,
        new BrokerSession(dev.id, 'k', { kind: 'devices', ids: new Set([dev.id]) }, 'tcp', '127.0.0.1', at, {
          close() {},
        }),
        'connected',
      );
    await store.flush().catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/could not record connection status/);
    // Taken back: memory agrees with the file again.
    for (const dev of devs) expect(store.getDevice(dev.id)?.connectionStatus?.status).toBe('disconnected');
  });

  it('the lazy waiters of one write window share one promise', () => {
    const c = new WriteCoalescer(async () => {}, 50);
    const a = c.requestLazy();
    const b = c.requestLazy();
    expect(b).toBe(a);
    return c.flush();
  });
});

describe.each([
  ['memory', async () => ({ store: createMemoryStore() as Store })],
  ['lowdb', async () => lowdb()],
])('Store.putConnectionStatus (%s)', (_name, make) => {
  it('replaces only the status, keeping the rest of the record (and the tag index) as it was', async () => {
    const { store } = await make();
    const d = makeDevice({ tags: [{ key: 'type', value: 'thermostat' }] });
    await store.putDevice(d);
    const held = store.devicesTagged({ key: 'type' });
    const stored = store.getDevice(d.id) as Device;
    expect(await store.putConnectionStatus(d.id, connected('2026-05-01T10:00:00.000Z'))).toBe(true);
    const after = store.getDevice(d.id) as Device;
    expect(after.connectionStatus?.status).toBe('connected');
    expect(after.tags).toBe(stored.tags);
    expect(Object.isFrozen(after) && Object.isFrozen(after.connectionStatus)).toBe(true);
    expect(store.devicesTagged({ key: 'type' })).toBe(held);
  });

  it('refuses an unfit status naming the field, and changes nothing', async () => {
    const { store } = await make();
    const d = makeDevice();
    await store.putDevice(d);
    const bad = { ...connected('2026-05-01T10:00:00.000Z'), status: 'disconnected', disconnectReason: 'bored' };
    await expect(store.putConnectionStatus(d.id, bad as ConnectionStatus)).rejects.toThrow(StoreRecordError);
    await expect(store.putConnectionStatus(d.id, bad as ConnectionStatus)).rejects.toThrow(
      /device\.connectionStatus\.disconnectReason: must be one of/,
    );
    const noCount = { status: 'connected' } as ConnectionStatus;
    await expect(store.putConnectionStatus(d.id, noCount)).rejects.toThrow(/device\.connectionStatus/);
    expect(store.getDevice(d.id)).toEqual(d);
  });

  it('resolves false for an unknown device and stores nothing', async () => {
    const { store } = await make();
    expect(await store.putConnectionStatus('0123456789abcdef01234567', connected('2026-05-01T10:00:00.000Z'))).toBe(
      false,
    );
    expect(store.listDevices()).toEqual([]);
  });
});
