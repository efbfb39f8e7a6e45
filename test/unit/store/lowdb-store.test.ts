// What only the file-backed store does: file and directory modes, no secrets on disk, refusing
// (and never touching) a bad file, coalesced and serialised atomic writes.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_FILE, openLowdbStore, STORE_FILE } from '../../../src-main/store/lowdb-store.ts';
import type { LowdbStoreOptions } from '../../../src-main/store/lowdb-store.ts';
import { StoreFileError } from '../../../src-main/store/store.ts';
import type { Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeKeyRecord, makeKeyWithSecret, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const posix = process.platform !== 'win32';
const dirs: string[] = [];
const stores: Store[] = [];

async function tempDir(): Promise<string> {
  const dir = await makeTempDir();
  dirs.push(dir);
  return dir;
}

async function open(dir: string, options?: LowdbStoreOptions): Promise<Store> {
  const store = await openLowdbStore(dir, options);
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

function mode(stats: { mode: number }): number {
  return stats.mode & 0o777;
}

describe('openLowdbStore: creating', () => {
  it('creates the directory (0700) and a fresh file (0600)', async () => {
    const dir = join(await tempDir(), 'nested', 'data');
    const store = await open(dir);
    const raw = JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8'));
    expect(raw).toEqual({ version: 1, applicationId: store.applicationId, journal: 0, devices: [], keys: [] });
    expect(await readFile(join(dir, JOURNAL_FILE), 'utf8')).toBe('{"keyportJournal":1,"generation":0}\n');
    if (posix) {
      expect(mode(await stat(dir))).toBe(0o700);
      expect(mode(await stat(join(dir, STORE_FILE)))).toBe(0o600);
      expect(mode(await stat(join(dir, JOURNAL_FILE)))).toBe(0o600);
    }
  });

  it.runIf(posix)('writes the file 0600 even when it was 0644 before', async () => {
    const dir = await tempDir();
    await (await open(dir)).close();
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, STORE_FILE), 0o644);
    const store = await open(dir);
    await store.putDevice(makeDevice());
    await store.close(); // folds the journal into keyport.json
    expect(mode(await stat(join(dir, STORE_FILE)))).toBe(0o600);
  });

  it('never writes a secret: the file holds verifiers only', async () => {
    const dir = await tempDir();
    const store = await open(dir);
    const made = Array.from({ length: 3 }, () => makeKeyWithSecret());
    for (const { record } of made) await store.putKey(record);
    expect(await readFile(join(dir, JOURNAL_FILE), 'utf8')).not.toMatch(/"secret"/);
    for (const { secret } of made) expect(await readFile(join(dir, JOURNAL_FILE), 'utf8')).not.toContain(secret);
    await store.close(); // folds the journal into keyport.json
    const text = await readFile(join(dir, STORE_FILE), 'utf8');
    const raw = JSON.parse(text) as { keys: Array<Record<string, unknown>> };
    expect(raw.keys).toHaveLength(3);
    for (const [i, { record, secret }] of made.entries()) {
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(text).not.toContain(secret);
      expect(raw.keys[i]).not.toHaveProperty('secret');
      expect(raw.keys[i]!.secretVerifier).toBe(record.secretVerifier);
    }
  });
});

describe('openLowdbStore: refusing a bad file', () => {
  const good = () => ({ version: 1, applicationId: 'c'.repeat(24), devices: [makeDevice()], keys: [makeKeyRecord()] });
  const dupId = () => {
    const d = makeDevice();
    return JSON.stringify({ ...good(), devices: [d, d] });
  };

  it.each([
    ['invalid JSON', () => 'this is not json', /not valid JSON: /],
    ['truncated JSON', () => JSON.stringify(good(), null, 2).slice(0, 120), /not valid JSON: /],
    ['an empty file', () => '', /the file is empty/],
    ['a blank file', () => '  \n', /the file is empty/],
    [
      'an unsupported version',
      () => JSON.stringify({ ...good(), version: 7 }),
      /version: unsupported version 7 \(this Keyport reads version 1\)/,
    ],
    [
      'a bad status',
      () => JSON.stringify({ ...good(), keys: [{ ...makeKeyRecord(), status: 'on' }] }),
      /keys\[0\]\.status: must be "active" or "inactive"/,
    ],
    ['a duplicate id', dupId, /devices\[1\]\.id: duplicate id/],
    [
      'a plaintext secret',
      () => JSON.stringify({ ...good(), keys: [{ ...makeKeyRecord(), secret: 'd'.repeat(64) }] }),
      /keys\[0\] has a plaintext secret field; Keyport never stores secrets/,
    ],
  ])('%s: StoreFileError naming the file and the problem; the file is untouched', async (_label, content, problem) => {
    const dir = await tempDir();
    const file = join(dir, STORE_FILE);
    await writeFile(file, content(), { mode: 0o644 });
    const before = await stat(file);
    const bytes = await readFile(file);

    const err = await openLowdbStore(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreFileError);
    expect((err as StoreFileError).file).toBe(file);
    expect((err as Error).message).toContain(file);
    expect((err as StoreFileError).problem).toMatch(problem);

    const after = await stat(file);
    expect(await readFile(file)).toEqual(bytes);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.mode).toBe(before.mode);
    expect(await readdir(dir)).toEqual([STORE_FILE]);
  });

  it('a store path that cannot be read gives StoreFileError', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, STORE_FILE));
    await expect(openLowdbStore(dir)).rejects.toThrow(StoreFileError);
  });
});

// The load checks a document in one pass (issue 17 item 4): the uniqueness checks are the build of
// the store's maps, and the prototype-key check is the walk that freezes the records. What that
// pass must still refuse, and name as before.
describe('openLowdbStore: the one-pass load still refuses what it must', () => {
  const doc = (devices: unknown[], keys: unknown[]) =>
    `${JSON.stringify({ version: 1, applicationId: 'c'.repeat(24), devices, keys })}\n`;
  async function problemOf(text: string): Promise<string> {
    const dir = await tempDir();
    await writeFile(join(dir, STORE_FILE), text, { mode: 0o600 });
    const err = await openLowdbStore(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreFileError);
    expect(await readdir(dir)).toEqual([STORE_FILE]); // nothing written, no journal started
    return (err as StoreFileError).problem;
  }

  it('a repeated key id, naming both places', async () => {
    const [a, b] = [makeKeyRecord(), makeKeyRecord()];
    const twin = makeKeyRecord({ id: a.id });
    expect(await problemOf(doc([makeDevice()], [a, b, twin]))).toBe(
      `keys[2].id: duplicate id ${JSON.stringify(a.id)} (also keys[0].id)`,
    );
  });

  it('a repeated public key, naming both places', async () => {
    const [a, b] = [makeKeyRecord(), makeKeyRecord()];
    const twin = makeKeyRecord({ key: b.key });
    expect(await problemOf(doc([], [a, b, twin]))).toBe(
      `keys[2].key: duplicate key ${JSON.stringify(b.key)} (also keys[1].key)`,
    );
  });

  it('a bad record before a repeated id: the record is named (shapes are checked first)', async () => {
    const d = makeDevice();
    expect(await problemOf(doc([d, d], [{ ...makeKeyRecord(), status: 'on' }]))).toMatch(
      /^keys\[0\]\.status: must be "active" or "inactive"/,
    );
  });

  it('a repeated device id after a repeated key id: the device is named (devices first)', async () => {
    const d = makeDevice();
    const k = makeKeyRecord();
    expect(await problemOf(doc([d, makeDevice(), d], [k, k]))).toBe(
      `devices[2].id: duplicate id ${JSON.stringify(d.id)} (also devices[0].id)`,
    );
  });

  it('a __proto__ key deep in a record, by path', async () => {
    const d = makeDevice();
    const text = doc([makeDevice(), { ...d, lastState: { time: d.creationDate, data: { t: 1 } } }], []).replace(
      '"data":{"t":1}',
      '"data":{"t":{"__proto__":{"x":1}}}',
    );
    expect(await problemOf(text)).toMatch(
      /^devices\[1\]\.lastState\.data\.t\.__proto__: the property name "__proto__"/,
    );
  });

  it('a "constructor" key at the top level', async () => {
    const text = doc([], []).replace('{"version"', '{"constructor":{},"version"');
    expect(await problemOf(text)).toMatch(/^constructor: the property name "constructor"/);
  });

  it('a journal replayed onto the document keeps the public-key index right, records frozen', async () => {
    const dir = await tempDir();
    const writer = await open(dir);
    const key = makeKeyRecord();
    await writer.putKey(key);
    await writer.putKey(makeKeyRecord());
    await writer.close(); // both in keyport.json now
    const appending = await open(dir);
    const moved = { ...key, key: makeKeyRecord().key, pubTopics: ['y'] };
    await appending.putKey(moved); // in keyport.journal only (no close: nothing folded)
    const reader = await open(dir);
    expect(reader.getKeyByKey(key.key)).toBeUndefined();
    expect(reader.getKeyByKey(moved.key)?.id).toBe(key.id);
    expect(reader.listKeys()).toHaveLength(2);
    expect(Object.isFrozen(reader.getKey(key.id)!.pubTopics)).toBe(true);
  });
});

describe('openLowdbStore: writing', () => {
  it('hands out records read from the file frozen all the way down (frozen in place at load)', async () => {
    const dir = await tempDir();
    const first = await open(dir);
    const device = makeDevice({ tags: [{ key: 'a', value: '1' }] });
    await first.putDevice({ ...device, lastState: { time: device.creationDate, data: { t: { c: 1 } } } });
    await first.putKey(makeKeyRecord({ pubTopics: ['x'] }));
    await first.close();
    const reopened = await open(dir);
    const read = reopened.getDevice(device.id)!;
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read.tags[0])).toBe(true);
    expect(Object.isFrozen((read.lastState!.data as { t: object }).t)).toBe(true);
    expect(Object.isFrozen(reopened.listKeys()[0]!.pubTopics)).toBe(true);
    expect(() => {
      (read.tags[0] as { value: string }).value = 'changed';
    }).toThrow(TypeError);
  });

  it('coalesces 200 rapid puts into fewer writes, and all survive reopen', async () => {
    const dir = await tempDir();
    let writes = 0;
    const store = await open(dir, { onWrite: () => writes++ });
    const before = writes;
    const keys = Array.from({ length: 200 }, () => makeKeyRecord());
    await Promise.all(keys.map((k) => store.putKey(k)));
    expect(writes - before).toBeGreaterThan(0);
    expect(writes - before).toBeLessThan(200);
    await store.close();
    const reopened = await open(dir);
    expect(reopened.listKeys().map((k) => k.id)).toEqual(keys.map((k) => k.id));
  });

  it('resolves each put only once its change is in the journal', async () => {
    const dir = await tempDir();
    const file = join(dir, JOURNAL_FILE);
    const store = await open(dir);
    const keys = Array.from({ length: 50 }, () => makeKeyRecord());
    const seen: boolean[] = [];
    const puts = keys.map((k) =>
      store.putKey(k).then(() => {
        seen.push(readFileSync(file, 'utf8').includes(k.id));
      }),
    );
    // Interleave more puts while the first writes are in flight.
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const device = makeDevice();
      puts.push(store.putDevice(device).then(() => void seen.push(readFileSync(file, 'utf8').includes(device.id))));
    }
    await Promise.all(puts);
    expect(seen).toHaveLength(70);
    expect(seen.every(Boolean)).toBe(true);
  });

  it('never has two writes in flight', async () => {
    const dir = await tempDir();
    let inFlight = 0;
    let maxInFlight = 0;
    const store = await open(dir, {
      beforeCommit: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      },
    });
    const puts: Array<Promise<void>> = [];
    for (let i = 0; i < 30; i++) {
      puts.push(store.putDevice(makeDevice()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(puts);
    expect(maxInFlight).toBe(1);
  });

  it('close() waits for writes not yet awaited', async () => {
    const dir = await tempDir();
    const store = await open(dir);
    const device = makeDevice();
    void store.putDevice(device);
    await store.close();
    const reopened = await open(dir);
    expect(reopened.getDevice(device.id)).toEqual(device);
  });

  it('a failed write leaves the files intact and no temp file; its change is taken back, never written later', async () => {
    const dir = await tempDir();
    const file = join(dir, JOURNAL_FILE);
    let fail = false;
    const store = await open(dir, {
      beforeCommit: () => {
        if (fail) throw new Error('injected failure');
      },
    });
    const kept = makeKeyRecord();
    await store.putKey(kept);
    const before = await readFile(file, 'utf8');

    fail = true;
    const lost = makeKeyRecord();
    await expect(store.putKey(lost)).rejects.toThrow('injected failure');
    expect(store.getKey(lost.id)).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]);

    fail = false;
    await store.flush();
    await store.putKey(makeKeyRecord());
    expect(await readFile(file, 'utf8')).not.toContain(lost.id);
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]);
  });
});
