// Lazy puts (PutOptions.lazy): live bookkeeping is visible at once, shares file writes with other
// changes, and still reaches the disk within LAZY_WRITE_MS, at flush() and at close().
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openLowdbStore, readStoreDir } from '../../../src-main/store/lowdb-store.ts';
import { WriteCoalescer } from '../../../src-main/store/write-coalescer.ts';
import { LAZY_WRITE_MS, type Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];

async function open(): Promise<{ dir: string; store: Store; writes: () => number }> {
  const dir = await makeTempDir();
  dirs.push(dir);
  let writes = 0;
  const store = await openLowdbStore(dir, { onWrite: () => void writes++ });
  stores.push(store);
  return { dir, store, writes: () => writes };
}

/** What the disk holds (document + journal replayed). */
const onDisk = async (dir: string) => (await readStoreDir(dir)) ?? { devices: [], keys: [] };

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

describe('lazy puts', () => {
  it('are visible at once and durable when their promise resolves, written when LAZY_WRITE_MS is up', async () => {
    const { dir, store, writes } = await open();
    const before = writes();
    // Only the window's timer is faked (file I/O and setImmediate stay real), so the test steps
    // the clock to the window's end instead of measuring wall time on a busy machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const d = makeDevice();
      const durable = store.putDevice(d, { lazy: true });
      expect(store.getDevice(d.id)?.id).toBe(d.id);
      vi.advanceTimersByTime(LAZY_WRITE_MS - 1);
      expect(writes() - before).toBe(0); // the window is not over: nothing written yet
      expect((await onDisk(dir)).devices).toHaveLength(0);
      vi.advanceTimersByTime(1);
      await durable;
      expect((await onDisk(dir)).devices.map((x) => x.id)).toEqual([d.id]);
      expect(writes() - before).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('putLastState: reports share one promise and one file write, durable when it resolves', async () => {
    const { dir, store, writes } = await open();
    const d = makeDevice();
    await store.putDevice(d);
    const before = writes();
    const first = store.putLastState(d.id, { time: '2026-03-01T12:00:00.000Z', data: { n: 1 } });
    const promises = [first];
    for (let n = 2; n <= 100; n++)
      promises.push(store.putLastState(d.id, { time: '2026-03-01T12:00:01.000Z', data: { n } }));
    // One promise for the whole batch, not one per report.
    expect(new Set(promises).size).toBe(1);
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(writes() - before).toBe(1);
    const file = await onDisk(dir);
    expect(file.devices[0]?.lastState?.data).toEqual({ n: 100 });
  });

  it('ride along with the next ordinary write: many lazy puts and one eager put, one file write', async () => {
    const { dir, store, writes } = await open();
    const before = writes();
    const lazy = Array.from({ length: 50 }, () => store.putDevice(makeDevice(), { lazy: true }));
    const eager = makeDevice();
    await store.putDevice(eager);
    await Promise.all(lazy);
    expect(writes() - before).toBe(1);
    expect((await onDisk(dir)).devices).toHaveLength(51);
  });

  it('are written at once by flush() and close()', async () => {
    const { dir, store } = await open();
    const a = makeDevice();
    void store.putDevice(a, { lazy: true });
    // The window's timer never fires here (faked, never advanced): flush() must write by itself.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await store.flush();
    } finally {
      vi.useRealTimers();
    }
    expect((await onDisk(dir)).devices.map((x) => x.id)).toEqual([a.id]);
    const b = makeDevice();
    void store.putDevice(b, { lazy: true });
    await store.close();
    expect((await onDisk(dir)).devices.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('a lazy change made while a write is in flight gets a later write', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const c = new WriteCoalescer(async () => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
    }, 50);
    const first = c.request();
    await new Promise((r) => setTimeout(r, 0)); // the first write has started
    const lazy = c.requestLazy();
    release();
    await first;
    expect(calls).toBe(1);
    await lazy;
    expect(calls).toBe(2);
  });
});
