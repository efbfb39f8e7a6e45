// connection-status.jsonl (store/status-journal.ts, docs/design.md §4): live status on disk
// without rewriting keyport.json; what a restart reads back; torn and bad lines; compaction; and
// the quick status check (store/status-check.ts) never accepting what the full check refuses.
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionStatus } from '../../../src-main/core/types.ts';
import { openLowdbStore } from '../../../src-main/store/lowdb-store.ts';
import { isCleanStatus } from '../../../src-main/store/status-check.ts';
import { readStatusFile, StatusJournal } from '../../../src-main/store/status-journal.ts';
import { StoreFileError, type Store } from '../../../src-main/store/store.ts';
import { validateConnectionStatus } from '../../../src-main/store/validate-data.ts';
import { makeDevice, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

async function open(dir?: string): Promise<{ dir: string; store: Store; writes: () => number }> {
  const d = dir ?? (await makeTempDir());
  if (!dir) dirs.push(d);
  let writes = 0;
  const store = await openLowdbStore(d, { onWrite: () => void writes++, log: () => {} });
  stores.push(store);
  return { dir: d, store, writes: () => writes };
}

const at = (s: number) => new Date(Date.UTC(2026, 4, 1, 10, 0, s)).toISOString();
const up = (s: number, extra: Partial<ConnectionStatus> = {}): ConnectionStatus => ({
  status: 'connected',
  connectedAt: at(s),
  ipAddress: '127.0.0.1',
  transport: 'tcp',
  messagesFromClient: 0,
  messagesToClient: 0,
  ...extra,
});
const down = (s: number, t: number): ConnectionStatus => ({
  ...up(s),
  status: 'disconnected',
  disconnectedAt: at(t),
  disconnectReason: 'client.disconnect',
});
const STATUS = 'connection-status.jsonl';

describe('connection status journal', () => {
  it('a status put resolves once its line is on disk, without a store write, and reads back after a restart', async () => {
    const { dir, store, writes } = await open();
    const d = makeDevice();
    await store.putDevice(d);
    const before = writes();
    await store.putConnectionStatus(d.id, up(1));
    expect(writes()).toBe(before);
    const text = await readFile(join(dir, STATUS), 'utf8');
    expect(JSON.parse(text.trim())).toEqual({ id: d.id, status: up(1) });
    expect((await stat(join(dir, STATUS))).mode & 0o777).toBe(0o600);
    await store.putConnectionStatus(d.id, down(1, 2));
    await store.close();
    const { store: again } = await open(dir);
    expect(again.getDevice(d.id)?.connectionStatus).toEqual(down(1, 2));
  });

  it('a clean close writes a pending status at once (no wait for the window)', async () => {
    const { dir, store } = await open();
    const d = makeDevice();
    await store.putDevice(d);
    void store.putConnectionStatus(d.id, down(3, 4));
    await store.close();
    expect((await readStatusFile(join(dir, STATUS))).statuses.get(d.id)).toEqual(down(3, 4));
  });

  it('the document wins when its status is newer than the journal line (written after it)', async () => {
    const { dir, store } = await open();
    const d = makeDevice();
    await store.putDevice(d);
    await store.putConnectionStatus(d.id, up(1));
    // A user edit writes the document with a newer status the journal has not got yet.
    const current = store.getDevice(d.id)!;
    await store.putDevice({ ...current, name: 'renamed', connectionStatus: down(1, 9) });
    await store.close();
    const { store: again } = await open(dir);
    expect(again.getDevice(d.id)?.connectionStatus).toEqual(down(1, 9));
    expect(again.getDevice(d.id)?.name).toBe('renamed');
  });

  it('a torn final append is ignored and cut off before the next one; lines of deleted devices are skipped', async () => {
    const { dir, store } = await open();
    const d = makeDevice();
    await store.putDevice(d);
    await store.putConnectionStatus(d.id, up(1));
    await store.close();
    await appendFile(join(dir, STATUS), `{"id":"${d.id}","status":{"status":"disconn`);
    await appendFile(join(dir, STATUS), '');
    const { store: again } = await open(dir);
    expect(again.getDevice(d.id)?.connectionStatus).toEqual(up(1));
    await again.putConnectionStatus(d.id, down(1, 5));
    await again.close();
    const lines = (await readFile(join(dir, STATUS), 'utf8')).split('\n');
    expect(lines).toHaveLength(3); // two whole lines and '' after the last newline
    await appendFile(join(dir, STATUS), `{"id":"0123456789abcdef01234567","status":${JSON.stringify(up(7))}}\n`);
    const { store: third } = await open(dir);
    expect(third.getDevice(d.id)?.connectionStatus).toEqual(down(1, 5));
    expect(third.getDevice('0123456789abcdef01234567')).toBeUndefined();
  });

  it('a bad whole line stops the store naming the file, the line and the field, and the file is kept', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const good = `{"id":"0123456789abcdef01234567","status":${JSON.stringify(up(1))}}\n`;
    const bad = `{"id":"0123456789abcdef01234567","status":${JSON.stringify({ ...up(1), messagesToClient: -1 })}}\n`;
    await writeFile(join(dir, STATUS), good + bad + good);
    const err = await openLowdbStore(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFileError);
    expect((err as Error).message).toMatch(/connection-status\.jsonl: line 2: status\.messagesToClient/);
    await writeFile(join(dir, STATUS), good + 'not json\n');
    await expect(openLowdbStore(dir)).rejects.toThrow(/connection-status\.jsonl: line 2: not valid JSON/);
    expect(await readFile(join(dir, STATUS), 'utf8')).toBe(good + 'not json\n');
  });

  it('compacts to the latest status per device once the file has doubled past the threshold', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const file = join(dir, STATUS);
    const current = new Map<string, ConnectionStatus>();
    const j = new StatusJournal(file, () => current.entries(), { bytes: 0, lazyMs: 5, compactMinBytes: 2000 });
    const ids = ['a', 'b', 'c'];
    for (let round = 0; round < 40; round++) {
      for (const id of ids) {
        const s = up(round, { messagesFromClient: round });
        current.set(id, s);
        void j.note(id, s);
      }
      await j.flush();
    }
    await j.close();
    const { statuses, bytes } = await readStatusFile(file);
    expect(bytes).toBeLessThan(2000 * 2 + 1000); // compacted along the way, not 40 rounds of lines
    for (const id of ids) expect(statuses.get(id)?.messagesFromClient).toBe(39);
  });
});

describe('the quick status check', () => {
  const samples: unknown[] = [
    up(1),
    down(1, 2),
    up(1, { scopeChangedSinceConnect: true }),
    { status: 'connected', messagesFromClient: 0, messagesToClient: 0 },
  ];
  const broken: [string, unknown][] = [
    ['status', 'online'],
    ['connectedAt', 'yesterday'],
    ['disconnectedAt', 12],
    ['disconnectReason', 'because'],
    ['ipAddress', 7],
    ['transport', 'udp'],
    ['messagesFromClient', -1],
    ['messagesToClient', 1.5],
    ['messagesToClient', Number.MAX_SAFE_INTEGER + 2],
    ['scopeChangedSinceConnect', 'yes'],
    ['extra', { nested: true }],
  ];

  it('accepts the statuses the broker makes, and everything it accepts the full check accepts', () => {
    for (const s of samples) {
      expect(isCleanStatus(s)).toBe(true);
      expect(validateConnectionStatus(s, 'x')).toBeNull();
    }
  });

  it('leaves every broken status to the full check (which refuses each)', () => {
    for (const base of samples)
      for (const [k, v] of broken) {
        const s = { ...(base as object), [k]: v };
        expect(isCleanStatus(s), `${k}=${String(v)}`).toBe(false);
        if (k !== 'extra') expect(validateConnectionStatus(s, 'x'), `${k}=${String(v)}`).not.toBeNull();
      }
    expect(isCleanStatus(null)).toBe(false);
    expect(isCleanStatus(Object.assign(Object.create({ inherited: 1 }) as object, up(1)))).toBe(false);
  });
});
