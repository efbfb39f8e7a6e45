// A write the disk refuses (ENOSPC, EROFS, EACCES, EIO) is taken back: memory returns to what the
// file holds, every put of that write and queued behind it rejects with a FileWriteError, nothing
// of it is written later, and the next write works and holds only acknowledged changes.
// Faults are injected through the store's beforeCommit hook (the batch is about to be appended to
// the journal, then the "disk" refuses); test/fault/ does the same with a real full tmpfs and a
// read-only mount.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileWriteError } from '../../../src-main/shared/atomic-write.ts';
import { JOURNAL_FILE, openLowdbStore, readStoreDir, STORE_FILE } from '../../../src-main/store/lowdb-store.ts';
import type { Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeKeyRecord, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

interface Faulty {
  dir: string;
  store: Store;
  logs: string[];
  /** Refuse the next writes with this errno code until healed. */
  fail(code: string | null): void;
  /** Resolves the next time a write reaches the disk step; the write then waits for `go()`. */
  hold(): { reached: Promise<void>; go: () => void };
  /** The document and the journal, as bytes on disk. */
  file(): Promise<string>;
  /** What the disk holds: the document with the journal replayed. */
  onDisk(): Promise<{ devices: { id: string }[]; keys: { id: string }[] }>;
}

async function open(): Promise<Faulty> {
  const dir = await makeTempDir();
  dirs.push(dir);
  let failing: string | null = null;
  let gate: { arrived: () => void; wait: Promise<void> } | null = null;
  const logs: string[] = [];
  const store = await openLowdbStore(dir, {
    log: (l) => logs.push(l),
    beforeCommit: async () => {
      const g = gate;
      if (g) {
        gate = null;
        g.arrived();
        await g.wait;
      }
      if (failing) throw Object.assign(new Error(`${failing}: simulated`), { code: failing });
    },
  });
  stores.push(store);
  return {
    dir,
    store,
    logs,
    fail: (code) => void (failing = code),
    hold: () => {
      let arrived!: () => void;
      let go!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const wait = new Promise<void>((r) => (go = r));
      gate = { arrived, wait };
      return { reached, go };
    },
    file: async () =>
      (await readFile(join(dir, STORE_FILE), 'utf8')) + (await readFile(join(dir, JOURNAL_FILE), 'utf8')),
    onDisk: async () => (await readStoreDir(dir)) ?? { devices: [], keys: [] },
  };
}

describe('a refused write is taken back', () => {
  it('7 refused creates: none in memory, none in the file, none written by the next successful write', async () => {
    const f = await open();
    const kept = makeDevice({ name: 'kept' });
    await f.store.putDevice(kept);
    f.fail('ENOSPC');
    const refused = Array.from({ length: 7 }, (_, i) => makeKeyRecord({ name: `refused ${i}` }));
    for (const k of refused) {
      const err = await f.store.putKey(k).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileWriteError);
      expect((err as Error).message).toBe(`disk full writing ${join(f.dir, JOURNAL_FILE)} (ENOSPC)`);
      expect(f.store.getKey(k.id)).toBeUndefined();
      expect(f.store.getKeyByKey(k.key)).toBeUndefined();
    }
    f.fail(null);
    const later = makeKeyRecord({ name: 'later' });
    await f.store.putKey(later);
    const onDisk = await f.onDisk();
    expect(onDisk.keys.map((k) => k.id)).toEqual([later.id]);
    expect(onDisk.devices.map((d) => d.id)).toEqual([kept.id]);
    expect(f.logs[0]).toContain('1 changed record(s) taken back');
    expect((await readdir(f.dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]); // no temp file left by any failed write
  });

  it('a refused update or delete puts the previous record back, and the file stays byte-identical', async () => {
    const f = await open();
    const d = makeDevice({ name: 'before' });
    const k = makeKeyRecord({ name: 'before' });
    await f.store.putDevice(d);
    await f.store.putKey(k);
    const before = await f.file();
    f.fail('EROFS');
    await expect(f.store.putDevice({ ...d, name: 'after' })).rejects.toThrow('read-only file system writing');
    await expect(f.store.deleteDevice(d.id)).rejects.toBeInstanceOf(FileWriteError);
    const moved = { ...k, key: 'moved-public-key-0123456789' };
    await expect(f.store.putKey(moved)).rejects.toThrow('(EROFS)');
    await expect(f.store.deleteKey(k.id)).rejects.toThrow('(EROFS)');
    expect(f.store.getDevice(d.id)?.name).toBe('before');
    expect(f.store.getKey(k.id)?.key).toBe(k.key);
    expect(f.store.getKeyByKey(k.key)?.id).toBe(k.id);
    expect(f.store.getKeyByKey(moved.key)).toBeUndefined();
    expect(await f.file()).toBe(before);
  });

  it('changes queued behind a failing write are taken back with it (they were made on top of it)', async () => {
    const f = await open();
    const held = f.hold();
    f.fail('EIO');
    const gateway = makeDevice({ name: 'in the failing write' });
    const first = f.store.putDevice(gateway).catch((e: unknown) => e);
    await held.reached;
    // Made while the failing write is in flight: it belongs to the next write.
    const key = makeKeyRecord({ deviceIds: [gateway.id] });
    const second = f.store.putKey(key).catch((e: unknown) => e);
    const lazy = f.store.putDevice({ ...gateway, name: 'lazy on top' }, { lazy: true }).catch((e: unknown) => e);
    held.go();
    for (const p of [first, second, lazy]) expect(await p).toBeInstanceOf(FileWriteError);
    expect(f.store.getDevice(gateway.id)).toBeUndefined();
    expect(f.store.getKey(key.id)).toBeUndefined();
    f.fail(null);
    await f.store.flush(); // nothing pending: memory already equals the file
    expect(await f.onDisk()).toMatchObject({ devices: [], keys: [] });
  });

  it('lazy bookkeeping in a refused write is taken back and its promise rejects', async () => {
    const f = await open();
    const d = makeDevice();
    await f.store.putDevice(d);
    f.fail('ENOSPC');
    const status = f.store.putDevice({ ...d, description: 'connected' }, { lazy: true });
    expect(f.store.getDevice(d.id)?.description).toBe('connected'); // visible at once, as always
    const flushed = f.store.flush();
    await expect(status).rejects.toBeInstanceOf(FileWriteError);
    await expect(flushed).rejects.toBeInstanceOf(FileWriteError); // flush says the write failed
    expect(f.store.getDevice(d.id)?.description).toBe('');
  });

  it('recovers: after the disk is back a write succeeds and close() resolves', async () => {
    const f = await open();
    f.fail('ENOSPC');
    await expect(f.store.putDevice(makeDevice())).rejects.toBeInstanceOf(FileWriteError);
    f.fail(null);
    const ok = makeDevice();
    await f.store.putDevice(ok);
    await f.store.close();
    expect((await f.onDisk()).devices.map((d) => d.id)).toEqual([ok.id]);
  });
});
