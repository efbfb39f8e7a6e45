// The journal (keyport.journal, store/journal-format.ts): what a crash can leave is loaded with
// every acknowledged change; an incomplete LAST line is the one thing dropped; anything else wrong
// stops the store naming the file and the line, and nothing is rewritten. Compaction's crash points
// are taken as copies of the data directory at the moment of the crash.
import { cpSync } from 'node:fs';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalFileError } from '../../../src-main/store/journal-reader.ts';
import { JOURNAL_FILE, openLowdbStore, readStoreDir, STORE_FILE } from '../../../src-main/store/lowdb-store.ts';
import type { LowdbStoreOptions } from '../../../src-main/store/lowdb-store.ts';
import { StoreFileError, type Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeKeyRecord, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];

async function tempDir(): Promise<string> {
  const dir = await makeTempDir();
  dirs.push(dir);
  return dir;
}

async function open(dir: string, options?: LowdbStoreOptions): Promise<Store> {
  const store = await openLowdbStore(dir, { log: () => {}, ...options });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

const journal = (dir: string) => join(dir, JOURNAL_FILE);
const ids = (records: { id: string }[]) => records.map((r) => r.id).sort();

/** A data directory with a document and a journal of `n` committed batches (the store left open, as if killed). */
async function withJournal(n: number): Promise<{ dir: string; devices: string[] }> {
  const dir = await tempDir();
  const store = await open(dir);
  const devices: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = makeDevice({ name: `device ${i}` });
    await store.putDevice(d);
    devices.push(d.id);
  }
  return { dir, devices: devices.sort() };
}

async function openError(dir: string): Promise<unknown> {
  return openLowdbStore(dir, { log: () => {} }).then(
    (s) => {
      stores.push(s);
      return undefined;
    },
    (e: unknown) => e,
  );
}

describe('journal replay', () => {
  it('a store that was never closed loads with every acknowledged change from the journal', async () => {
    const { dir, devices } = await withJournal(5);
    const key = makeKeyRecord();
    const store = await open(dir);
    await store.putKey(key);
    await store.deleteDevice(devices[0] as string);
    const text = await readFile(journal(dir), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(1 + 5 + 2); // header + one line per write
    expect(JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8')).devices).toEqual([]); // not compacted yet
    const onDisk = await readStoreDir(dir);
    expect(ids(onDisk?.devices ?? [])).toEqual(devices.slice(1));
    expect(ids(onDisk?.keys ?? [])).toEqual([key.id]);
  });

  it.each([
    ['no end of line', '{"devices":[{"id":"0123'],
    ['not JSON, with its end of line (a partly persisted page)', '{"devices":[{"id"\u0000\u0000\u0000\n'],
  ])('an incomplete last line (%s) is dropped, logged and cut off before the next append', async (_l, tail) => {
    const { dir, devices } = await withJournal(3);
    await appendFile(journal(dir), tail);
    const logs: string[] = [];
    const store = await open(dir, { log: (l) => logs.push(l) });
    expect(ids(store.listDevices())).toEqual(devices);
    expect(logs).toEqual([
      `keyport: ${journal(dir)}:5: dropped an incomplete last line (a write cut off by a crash; it was never acknowledged)`,
    ]);
    const later = makeDevice();
    await store.putDevice(later);
    // The next open reads a whole journal: the cut-off line did not become a middle line.
    const again = await readStoreDir(dir);
    expect(ids(again?.devices ?? [])).toEqual([...devices, later.id].sort());
  });

  it.each([
    ['not JSON', '{"devices": nope}\n', /:3: not valid JSON: /],
    ['an unknown field', '{"device":[]}\n', /:3: device: unknown field/],
    [
      'a bad record',
      () => `${JSON.stringify({ devices: [{ ...makeDevice(), name: 7 }] })}\n`,
      /:3: devices\[0\]\.name: /,
    ],
    [
      'a secret',
      () => `${JSON.stringify({ keys: [{ ...makeKeyRecord(), secret: 'd'.repeat(64) }] })}\n`,
      /:3: keys\[0\] has a plaintext secret field/,
    ],
    ['a prototype key', '{"devices":[],"__proto__":{}}\n', /:3: .*__proto__/],
    [
      'a public key used twice',
      () =>
        `${JSON.stringify({ keys: [makeKeyRecord({ key: 'same-public-key-000000000000' }), makeKeyRecord({ key: 'same-public-key-000000000000' })] })}\n`,
      /:3: keys\[1\]\.key: .* is already used by access key/,
    ],
  ])('a bad middle line (%s) stops the store naming file:line; nothing is rewritten', async (_l, bad, problem) => {
    const { dir } = await withJournal(1);
    const text = await readFile(journal(dir), 'utf8');
    const lines = text.split('\n');
    // header, line 2 (the device), then the bad line 3, then a good line after it
    const good = lines[1] as string;
    await writeFile(journal(dir), `${lines[0]}\n${good}\n${typeof bad === 'string' ? bad : bad()}${good}\n`);
    const before = await readFile(journal(dir));
    const docBefore = await readFile(join(dir, STORE_FILE));
    const err = await openError(dir);
    expect(err).toBeInstanceOf(JournalFileError);
    expect((err as Error).message).toMatch(new RegExp(`^${journal(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: `));
    expect((err as Error).message).toMatch(problem);
    expect(await readFile(journal(dir))).toEqual(before);
    expect(await readFile(join(dir, STORE_FILE))).toEqual(docBefore);
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]);
  });

  it('a journal whose header is wrong, or without its document, is refused naming the file', async () => {
    const { dir } = await withJournal(1);
    const text = await readFile(journal(dir), 'utf8');
    await writeFile(journal(dir), text.replace('"keyportJournal":1', '"keyportJournal":9'));
    expect(String(await openError(dir))).toMatch(/keyport\.journal:1: keyportJournal: unsupported journal format 9/);
    await writeFile(journal(dir), text);
    await writeFile(join(dir, STORE_FILE + '.away'), await readFile(join(dir, STORE_FILE)));
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, STORE_FILE));
    const err = await openError(dir);
    expect(err).toBeInstanceOf(StoreFileError);
    expect(String(err)).toMatch(/keyport\.json: missing, but .*keyport\.journal holds changes to it/);
    expect(await readFile(journal(dir), 'utf8')).toBe(text);
  });

  it('a hand-edited keyport.json is still refused as before, with a journal beside it untouched', async () => {
    const { dir } = await withJournal(2);
    const doc = JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8')) as { keys: unknown[] };
    doc.keys.push({ ...makeKeyRecord(), status: 'on' });
    await writeFile(join(dir, STORE_FILE), JSON.stringify(doc));
    const journalBefore = await readFile(journal(dir));
    const err = await openError(dir);
    expect((err as StoreFileError).file).toBe(join(dir, STORE_FILE));
    expect((err as StoreFileError).problem).toMatch(/keys\[0\]\.status: must be "active" or "inactive"/);
    expect(await readFile(journal(dir))).toEqual(journalBefore);
  });

  it('a failed append that left bytes behind is cut off: they are never replayed', async () => {
    const dir = await tempDir();
    let garbage = false;
    const store = await open(dir, {
      beforeCommit: async (file) => {
        if (!garbage) return;
        // What a write cut short by a full disk may leave: part of a batch, lines and all.
        await appendFile(file, `${JSON.stringify({ devices: [makeDevice({ name: 'never acknowledged' })] })}\n{"devi`);
        throw Object.assign(new Error('ENOSPC: simulated'), { code: 'ENOSPC' });
      },
    });
    const kept = makeDevice();
    await store.putDevice(kept);
    garbage = true;
    await expect(store.putDevice(makeDevice({ name: 'refused' }))).rejects.toThrow(
      /disk full writing .*keyport\.journal/,
    );
    garbage = false;
    const later = makeDevice();
    await store.putDevice(later);
    const onDisk = await readStoreDir(dir);
    expect(ids(onDisk?.devices ?? [])).toEqual([kept.id, later.id].sort());
    expect(await readFile(journal(dir), 'utf8')).not.toContain('never acknowledged');
  });
});

describe('compaction', () => {
  it('close() folds the journal into keyport.json and starts an empty journal of the next generation', async () => {
    const { dir, devices } = await withJournal(4);
    await (stores.pop() as Store).close();
    const doc = JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8')) as {
      journal: number;
      devices: { id: string }[];
    };
    expect(doc.journal).toBe(1);
    expect(ids(doc.devices)).toEqual(devices);
    expect(await readFile(journal(dir), 'utf8')).toBe('{"keyportJournal":1,"generation":1}\n');
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]);
  });

  it('a crash before or after the document is renamed into place loads every acknowledged change', async () => {
    const { dir, devices } = await withJournal(3);
    const before = join(await tempDir(), 'before-rename');
    const after = join(await tempDir(), 'after-rename');
    const store = await open(dir, {
      beforeRename: () => cpSync(dir, before, { recursive: true }),
      onWrite: (w) => {
        if (w.file === 'document') cpSync(dir, after, { recursive: true });
      },
    });
    const key = makeKeyRecord();
    await store.putKey(key);
    await (stores.splice(stores.indexOf(store), 1)[0] as Store).close();
    // Before: the old document, keyport.journal.0 (the rotated journal) and the new empty one.
    expect((await readdir(before)).filter((n) => !n.endsWith('.tmp')).sort()).toEqual([
      JOURNAL_FILE,
      `${JOURNAL_FILE}.0`,
      STORE_FILE,
    ]);
    // After: the new document ("journal": 1) and the old journal not yet removed.
    expect((await readdir(after)).sort()).toEqual([JOURNAL_FILE, `${JOURNAL_FILE}.0`, STORE_FILE]);
    for (const copy of [before, after]) {
      const reopened = await open(copy);
      expect(ids(reopened.listDevices())).toEqual(devices);
      expect(ids(reopened.listKeys())).toEqual([key.id]);
    }
    expect(await readdir(after)).not.toContain(`${JOURNAL_FILE}.0`); // removed at open: the document holds it
    await expect(stat(join(before, `${JOURNAL_FILE}.0`))).resolves.toBeTruthy(); // still needed there
  });

  it('compacts in the background when the journal passes its bound, while writes go on', async () => {
    const dir = await tempDir();
    let documents = 0;
    const store = await open(dir, {
      compactAtBytes: 2_000,
      onWrite: (w) => void (w.file === 'document' && documents++),
    });
    const made: string[] = [];
    for (let i = 0; i < 40; i++) {
      const d = makeDevice({ name: `device ${i}` });
      made.push(d.id);
      await store.putDevice(d);
      await store.putDevice({ ...d, description: `changed ${i}` });
    }
    expect(documents).toBeGreaterThan(0);
    const onDisk = await readStoreDir(dir);
    expect(ids(onDisk?.devices ?? [])).toEqual(made.sort());
    expect(onDisk?.devices.every((d) => d.description.startsWith('changed'))).toBe(true);
    await (stores.pop() as Store).close();
    expect((await readdir(dir)).sort()).toEqual([JOURNAL_FILE, STORE_FILE]);
  });
});

describe('bookkeeping parts (issue 17 item 1)', () => {
  const connected = (at: string) => ({
    status: 'connected' as const,
    connectedAt: at,
    ipAddress: '127.0.0.1',
    messagesFromClient: 0,
    messagesToClient: 0,
  });
  const lines = async (dir: string) =>
    (await readFile(journal(dir), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  /** A store with one device and one key written whole, then only their bookkeeping changed. */
  async function withParts(): Promise<{ dir: string; store: Store; deviceId: string; keyId: string }> {
    const dir = await tempDir();
    const store = await open(dir);
    const device = makeDevice();
    const key = makeKeyRecord();
    await store.putDevice(device);
    await store.putKey(key);
    // One lazy write carries all three.
    const status = store.putConnectionStatus(device.id, connected('2026-01-01T00:00:00.000Z'));
    const state = store.putLastState(device.id, { time: '2026-01-01T00:00:01.000Z', data: { t: 21 } });
    const used = store.putLastUsed(key.id, '2026-01-01T00:00:02.000Z');
    await store.flush();
    await Promise.all([status, state, used]);
    return { dir, store, deviceId: device.id, keyId: key.id };
  }

  it('a change of only connectionStatus, lastState or lastUsed journals that part, not the record', async () => {
    const { dir, store, deviceId, keyId } = await withParts();
    const written = (await lines(dir)).slice(3); // after the header, the device and the key
    expect(written).toEqual([
      {
        deviceParts: [
          {
            id: deviceId,
            connectionStatus: connected('2026-01-01T00:00:00.000Z'),
            lastState: { time: '2026-01-01T00:00:01.000Z', data: { t: 21 } },
          },
        ],
        keyParts: [{ id: keyId, lastUsed: '2026-01-01T00:00:02.000Z' }],
      },
    ]);
    // Replayed onto the records as the lines before left them.
    const onDisk = await readStoreDir(dir);
    expect(onDisk?.devices).toEqual([store.getDevice(deviceId)]);
    expect(onDisk?.keys).toEqual([store.getKey(keyId)]);
    const reopened = await open(dir);
    expect(reopened.getDevice(deviceId)).toEqual(store.getDevice(deviceId));
    expect(reopened.getKeyByKey((store.getKey(keyId) as { key: string }).key)).toEqual(store.getKey(keyId));
  });

  it('a record with anything else changed in the same batch is journalled whole', async () => {
    const dir = await tempDir();
    const store = await open(dir);
    const device = makeDevice();
    await store.putDevice(device);
    const status = store.putConnectionStatus(device.id, connected('2026-01-01T00:00:00.000Z'));
    const renamed = store.putDevice({ ...(store.getDevice(device.id) as typeof device), name: 'renamed' });
    await Promise.all([status, renamed]);
    const last = (await lines(dir)).at(-1) as { devices?: unknown[]; deviceParts?: unknown[] };
    expect(last.deviceParts).toBeUndefined();
    expect(last.devices).toEqual([store.getDevice(device.id)]);
  });

  it.each([
    [
      'a bad status',
      (d: string) => ({
        deviceParts: [{ id: d, connectionStatus: { ...connected('2026-01-01T00:00:00Z'), status: 'maybe' } }],
      }),
      /:3: deviceParts\[0\]\.connectionStatus\.status: must be "connected" or "disconnected"$/,
    ],
    [
      'a bad disconnect reason',
      (d: string) => ({
        deviceParts: [{ id: d, connectionStatus: { ...connected('2026-01-01T00:00:00Z'), disconnectReason: 'tired' } }],
      }),
      /:3: deviceParts\[0\]\.connectionStatus\.disconnectReason: must be one of /,
    ],
    [
      'an empty part',
      (d: string) => ({ deviceParts: [{ id: d }] }),
      /:3: deviceParts\[0\]: must have a connectionStatus, a lastState or both$/,
    ],
    [
      'another field',
      (d: string) => ({ deviceParts: [{ id: d, name: 'x', lastState: { time: '2026-01-01T00:00:00Z', data: {} } }] }),
      /:3: deviceParts\[0\]\.name: /,
    ],
    [
      'a part of no stored device',
      () => ({ deviceParts: [{ id: 'f'.repeat(24), lastState: { time: '2026-01-01T00:00:00Z', data: {} } }] }),
      new RegExp(`:3: deviceParts\\[0\\]\\.id: no device ${'f'.repeat(24)} to apply it to$`),
    ],
    [
      'a bad lastUsed',
      () => ({ keyParts: [{ id: 'f'.repeat(24), lastUsed: 'yesterday' }] }),
      /:3: keyParts\[0\]\.lastUsed: must be an ISO 8601 date string$/,
    ],
    [
      'a part of no stored key',
      () => ({ keyParts: [{ id: 'f'.repeat(24), lastUsed: '2026-01-01T00:00:00Z' }] }),
      /:3: keyParts\[0\]\.id: no access key f{24} to apply it to$/,
    ],
  ])(
    'a bad part (%s) stops the store naming file:line and the field; nothing is rewritten',
    async (_l, bad, problem) => {
      const { dir, devices } = await withJournal(1);
      const [header, good] = (await readFile(journal(dir), 'utf8')).split('\n') as [string, string];
      await writeFile(journal(dir), `${header}\n${good}\n${JSON.stringify(bad(devices[0] as string))}\n${good}\n`);
      const before = await readFile(journal(dir));
      const err = await openError(dir);
      expect(err).toBeInstanceOf(JournalFileError);
      expect((err as Error).message.startsWith(`${journal(dir)}:3: `)).toBe(true);
      expect((err as Error).message).toMatch(problem);
      expect(await readFile(journal(dir))).toEqual(before);
    },
  );

  it('a crash in the middle of a parts line drops that line only; the parts before it load', async () => {
    const { dir, store, deviceId } = await withParts();
    const expected = store.getDevice(deviceId);
    stores.splice(stores.indexOf(store), 1); // killed: never closed
    const cut = JSON.stringify({
      deviceParts: [{ id: deviceId, connectionStatus: connected('2026-02-01T00:00:00.000Z') }],
    });
    await appendFile(journal(dir), cut.slice(0, cut.length - 9));
    const logs: string[] = [];
    const reopened = await open(dir, { log: (l) => logs.push(l) });
    expect(reopened.getDevice(deviceId)).toEqual(expected);
    expect(logs).toEqual([
      `keyport: ${journal(dir)}:5: dropped an incomplete last line (a write cut off by a crash; it was never acknowledged)`,
    ]);
  });

  it('a connect burst journals parts a fraction of the records, so the compaction bound is reached later', async () => {
    const dir = await tempDir();
    const bytes: number[] = [];
    const store = await open(dir, { onWrite: (w) => void (w.file === 'journal' && bytes.push(w.bytes)) });
    const devices = Array.from({ length: 20 }, (_, i) =>
      makeDevice({
        name: `device ${i}`,
        description: 'a thermostat in the north wing',
        tags: [{ key: 'floor', value: '3' }],
      }),
    );
    for (const d of devices) await store.putDevice(d);
    const whole = bytes.reduce((a, b) => a + b, 0);
    bytes.length = 0;
    await Promise.all(devices.map((d) => store.putConnectionStatus(d.id, connected('2026-01-01T00:00:00.000Z'))));
    await store.flush();
    expect(bytes).toHaveLength(1);
    // The whole records again would be `whole` bytes or more (they now carry a status too).
    expect(bytes[0]).toBeLessThan(whole * 0.75);
    expect((await readStoreDir(dir))?.devices.every((d) => d.connectionStatus?.status === 'connected')).toBe(true);
  });
});
