// Live connection status (issue 17 item 1): a connect burst never rewrites keyport.json; its
// changes go to connection-status.jsonl in one append per window (the latest per device); each
// status put checks and copies only the status (Store.putConnectionStatus); what users see (the
// record, device.status events) is unchanged, and the status survives a restart.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionStatus, Device } from '../../../src-main/core/types.ts';
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
  it('a burst of 200 connects and 200 disconnects is no store write and ONE status append; every change is announced; it survives a restart', async () => {
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
    const done: Promise<void>[] = [];
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
    expect(writes() - before).toBe(0); // keyport.json is not rewritten for live status
    // One append: the latest status of each of the 20 devices, once.
    const lines = (await readFile(join(dir, 'connection-status.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(20);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id)).size).toBe(20);
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
