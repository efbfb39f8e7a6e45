// The store's tag index (store/tag-index.ts): Store.devicesTagged answers from an index kept on
// every put, delete, load and undo, and the sets it hands out are snapshots.
import { afterEach, describe, expect, it } from 'vitest';
import { tagMatchesItem } from '../../../src-main/core/device-scope.ts';
import type { Device, Tag, TagMatch } from '../../../src-main/core/types.ts';
import { openLowdbStore } from '../../../src-main/store/lowdb-store.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import type { Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

async function lowdb(
  dir?: string,
  options?: Parameters<typeof openLowdbStore>[1],
): Promise<{ store: Store; dir: string }> {
  const d = dir ?? (await makeTempDir());
  if (!dir) dirs.push(d);
  const store = await openLowdbStore(d, options);
  stores.push(store);
  return { store, dir: d };
}

const t = (key: string, value: string): Tag => ({ key, value });
const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** What the index must answer: a scan of every device. */
function bruteForce(store: Store, item: TagMatch): string[] {
  return sorted(store.listDevices().flatMap((d) => (d.tags.some((tag) => tagMatchesItem(item, tag)) ? [d.id] : [])));
}

const ITEMS: TagMatch[] = [
  { key: 'type', value: 'thermostat' },
  { key: 'type' },
  { value: 'thermostat' },
  { key: 'floor', value: '2' },
  { value: '2' },
  {},
];

function expectIndexMatchesScan(store: Store, items: readonly TagMatch[] = ITEMS): void {
  for (const item of items)
    expect(sorted(store.devicesTagged(item)), JSON.stringify(item)).toEqual(bruteForce(store, item));
}

describe.each([
  ['memory', async () => ({ store: createMemoryStore() })],
  ['lowdb', async () => lowdb()],
])('Store.devicesTagged (%s)', (_name, make) => {
  it('answers {key, value}, {key}, {value} and {} items across create, update and delete', async () => {
    const { store } = await make();
    const a = makeDevice({ tags: [t('type', 'thermostat'), t('floor', '2')] });
    const b = makeDevice({ tags: [t('type', 'sensor')] });
    const c = makeDevice({ tags: [t('room', '2')] });
    const untagged = makeDevice();
    for (const d of [a, b, c, untagged]) await store.putDevice(d);
    expect(sorted(store.devicesTagged({ key: 'type', value: 'thermostat' }))).toEqual([a.id]);
    expect(sorted(store.devicesTagged({ key: 'type' }))).toEqual(sorted([a.id, b.id]));
    expect(sorted(store.devicesTagged({ value: '2' }))).toEqual(sorted([a.id, c.id]));
    expect(sorted(store.devicesTagged({}))).toEqual(sorted([a.id, b.id, c.id]));
    expect(store.devicesTagged({ key: 'nothing' }).size).toBe(0);

    // Tag removed, tag added.
    await store.putDevice({ ...a, tags: [t('floor', '2')] });
    await store.putDevice({ ...b, tags: [t('type', 'sensor'), t('type', 'thermostat')] });
    expect(sorted(store.devicesTagged({ key: 'type', value: 'thermostat' }))).toEqual([b.id]);
    expect(sorted(store.devicesTagged({ key: 'type' }))).toEqual([b.id]);
    expect(sorted(store.devicesTagged({ value: '2' }))).toEqual(sorted([a.id, c.id]));

    // All tags removed, then the device deleted.
    await store.putDevice({ ...c, tags: [] });
    expect(sorted(store.devicesTagged({ value: '2' }))).toEqual([a.id]);
    expect(sorted(store.devicesTagged({}))).toEqual(sorted([a.id, b.id]));
    await store.deleteDevice(b.id);
    expect(store.devicesTagged({ key: 'type' }).size).toBe(0);
    expectIndexMatchesScan(store);
  });

  it('hands out snapshots: a set already returned never follows later changes', async () => {
    const { store } = await make();
    const a = makeDevice({ tags: [t('type', 'thermostat')] });
    const b = makeDevice({ tags: [t('type', 'thermostat')] });
    await store.putDevice(a);
    await store.putDevice(b);
    const before = store.devicesTagged({ key: 'type', value: 'thermostat' });
    const again = store.devicesTagged({ key: 'type', value: 'thermostat' });
    expect(again).toBe(before); // nothing changed in between: the same set, no copy

    await store.putDevice({ ...b, tags: [t('type', 'sensor')] });
    const c = makeDevice({ tags: [t('type', 'thermostat')] });
    await store.putDevice(c);
    await store.deleteDevice(a.id);
    expect(sorted(before)).toEqual(sorted([a.id, b.id]));
    expect(sorted(store.devicesTagged({ key: 'type', value: 'thermostat' }))).toEqual([c.id]);
  });

  it('an update that keeps the tags (connection status, name) leaves the index alone', async () => {
    const { store } = await make();
    const a = makeDevice({ tags: [t('type', 'thermostat')] });
    await store.putDevice(a);
    const held = store.devicesTagged({ key: 'type' });
    await store.putDevice({ ...a, name: 'renamed', tags: [t('type', 'thermostat')] });
    expect(store.devicesTagged({ key: 'type' })).toBe(held);
  });

  it('matches a brute-force scan on random data through random changes', async () => {
    const { store } = await make();
    // A small deterministic PRNG (mulberry32), so a failure can be replayed.
    let seed = 0x5eed17;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const KEYS = ['type', 'floor', 'room', 'zone'];
    const VALUES = ['thermostat', 'sensor', '1', '2', 'kitchen'];
    const randomTags = (): Tag[] => Array.from({ length: Math.floor(rand() * 4) }, () => t(pick(KEYS), pick(VALUES)));
    const items: TagMatch[] = [
      {},
      ...KEYS.map((key) => ({ key })),
      ...VALUES.map((value) => ({ value })),
      ...KEYS.flatMap((key) => VALUES.map((value) => ({ key, value }))),
    ];
    const live: Device[] = [];
    const held: Array<{ item: TagMatch; ids: ReadonlySet<string>; expected: string[] }> = [];
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.45 || live.length === 0) {
        const d = makeDevice({ tags: randomTags() });
        live.push(d);
        await store.putDevice(d);
      } else if (r < 0.85) {
        const i = Math.floor(rand() * live.length);
        const next = { ...(live[i] as Device), tags: randomTags() };
        live[i] = next;
        await store.putDevice(next);
      } else {
        const [gone] = live.splice(Math.floor(rand() * live.length), 1);
        await store.deleteDevice((gone as Device).id);
      }
      if (step % 20 === 0) {
        const item = pick(items);
        held.push({ item, ids: store.devicesTagged(item), expected: bruteForce(store, item) });
      }
      if (step % 50 === 0) expectIndexMatchesScan(store, items);
    }
    expectIndexMatchesScan(store, items);
    // Every snapshot taken along the way still holds what matched when it was taken.
    for (const h of held) expect(sorted(h.ids)).toEqual(h.expected);
  });
});

describe('the tag index of the lowdb store', () => {
  it('is rebuilt when the store is reopened', async () => {
    const { store, dir } = await lowdb();
    const a = makeDevice({ tags: [t('type', 'thermostat'), t('floor', '2')] });
    const b = makeDevice({ tags: [t('type', 'sensor')] });
    await store.putDevice(a);
    await store.putDevice(b);
    await store.putDevice({ ...a, tags: [t('floor', '2')] });
    await store.close();
    const { store: reopened } = await lowdb(dir);
    expect(sorted(reopened.devicesTagged({ key: 'type' }))).toEqual([b.id]);
    expect(sorted(reopened.devicesTagged({ value: '2' }))).toEqual([a.id]);
    expectIndexMatchesScan(reopened);
  });

  it('is taken back with the records when a write fails', async () => {
    let fail = false;
    const { store } = await lowdb(undefined, {
      beforeCommit: () => {
        if (fail) throw new Error('injected: disk full');
      },
      log: () => {},
    });
    const a = makeDevice({ tags: [t('type', 'thermostat')] });
    await store.putDevice(a);
    fail = true;
    const b = makeDevice({ tags: [t('type', 'thermostat')] });
    const changes = Promise.allSettled([store.putDevice({ ...a, tags: [t('type', 'sensor')] }), store.putDevice(b)]);
    // Visible at once, as every put is ...
    expect(sorted(store.devicesTagged({ value: 'thermostat' }))).toEqual([b.id]);
    expect((await changes).every((r) => r.status === 'rejected')).toBe(true);
    // ... and gone again with the refused write.
    expect(sorted(store.devicesTagged({ value: 'thermostat' }))).toEqual([a.id]);
    expect(store.devicesTagged({ value: 'sensor' }).size).toBe(0);
    expectIndexMatchesScan(store);
  });
});
