// What only the Redis store does: several instances (nodes) on one Redis see each other's writes
// in order, concurrent writers converge without lost updates, a bad record in Redis refuses the
// open, and the cluster's pepper and admin token are agreed in Redis. Real redis-server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRedisStore, type RedisStore } from '../../src-main/store/redis-store.ts';
import type { ExternalChange } from '../../src-main/store/store.ts';
import { StoreFileError, StoreRecordError } from '../../src-main/store/store.ts';
import { loadClusterSecrets } from '../../src-main/service/cluster-secrets.ts';
import { makeDevice, makeKeyRecord, makeTempDir, removeTempDir } from '../helpers/fixtures.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';

let server: RedisServer;
let raw: Redis;
let n = 0;
const stores: RedisStore[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.url);
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await removeTempDir(d);
});
afterAll(async () => {
  raw?.disconnect();
  await server?.stop();
});

async function open(prefix: string, log?: (l: string) => void): Promise<RedisStore> {
  const s = await openRedisStore(server.url, { prefix, ...(log ? { log } : {}) });
  stores.push(s);
  return s;
}

/** Two nodes on one fresh prefix. */
async function pair(): Promise<{ a: RedisStore; b: RedisStore; prefix: string }> {
  const prefix = `t${++n}:`;
  return { a: await open(prefix), b: await open(prefix), prefix };
}

const noLog = () => undefined;
const CONNECTED = { status: 'connected', messagesFromClient: 0, messagesToClient: 0 } as const;

describe('two Redis stores on one Redis', () => {
  it('share the application id and see each other’s puts and deletes, announced as external changes', async () => {
    const { a, b } = await pair();
    expect(b.applicationId).toBe(a.applicationId);
    const seenByB: ExternalChange[] = [];
    const seenByA: ExternalChange[] = [];
    b.onExternalChange((c) => seenByB.push(c));
    a.onExternalChange((c) => seenByA.push(c));
    const d = makeDevice({ tags: [{ key: 'floor', value: '1' }] });
    const k = makeKeyRecord();
    await a.putDevice(d);
    await a.putKey(k);
    await b.caughtUp();
    expect(b.getDevice(d.id)).toEqual(d);
    expect(b.getKeyByKey(k.key)?.id).toBe(k.id);
    expect([...b.devicesTagged({ key: 'floor' })]).toEqual([d.id]);

    await a.putKey({ ...k, status: 'inactive' });
    await a.deleteDevice(d.id);
    await b.caughtUp();
    expect(b.getKey(k.id)?.status).toBe('inactive');
    expect(b.getDevice(d.id)).toBeUndefined();
    expect([...b.devicesTagged({ key: 'floor' })]).toEqual([]);
    expect(seenByB.map((c) => [c.kind, c.before?.id ?? null, c.after?.id ?? null])).toEqual([
      ['device', null, d.id],
      ['key', null, k.id],
      ['key', k.id, k.id],
      ['device', d.id, null],
    ]);
    await a.caughtUp();
    expect(seenByA).toEqual([]); // its own writes are not "external"
  });

  it('lazy bookkeeping on one node never undoes an edit made on another', async () => {
    const { a, b } = await pair();
    const d = makeDevice({ tags: [{ key: 'site', value: 'lab' }] });
    const k = makeKeyRecord();
    await a.putDevice(d);
    await a.putKey(k);
    await b.caughtUp();
    // B: CONNECT bookkeeping, waiting for its lazy window. A meanwhile edits both records.
    const status = b.putConnectionStatus(d.id, { ...CONNECTED, connectedAt: '2026-03-01T00:00:00.000Z' });
    const used = b.putLastUsed(k.id, '2026-03-01T00:00:00.000Z');
    await a.putDevice({ ...a.getDevice(d.id)!, tags: [{ key: 'site', value: 'home' }] });
    await a.putKey({ ...a.getKey(k.id)!, status: 'inactive' });
    await b.caughtUp(); // B applies A's edits at once, its own unwritten parts kept
    expect(b.getKey(k.id)).toMatchObject({ status: 'inactive', lastUsed: '2026-03-01T00:00:00.000Z' });
    await b.flush();
    expect(await status).toBe(true);
    await used;
    await a.caughtUp();
    await b.caughtUp();
    for (const s of [a, b]) {
      expect(s.getDevice(d.id)).toMatchObject({
        tags: [{ key: 'site', value: 'home' }],
        connectionStatus: { status: 'connected' },
      });
      expect(s.getKey(k.id)).toMatchObject({ status: 'inactive', lastUsed: '2026-03-01T00:00:00.000Z' });
    }
  });

  it('a lazy write sends only the live part it changed, whatever the node’s view holds of the rest', async () => {
    const { a, prefix } = await pair();
    const d = makeDevice();
    const k = makeKeyRecord();
    await a.putDevice(d);
    await a.putKey(k);
    // Another writer's edits that A has not seen yet (written behind its back, no change entry).
    const { connectionStatus: _c, lastState: _l, ...rec } = { ...d, name: 'edited elsewhere' };
    await raw.hset(`${prefix}device:${d.id}`, 'rec', JSON.stringify(rec));
    const { lastUsed: _u, ...keyRec } = { ...k, status: 'inactive' as const };
    await raw.hset(`${prefix}key:${k.id}`, 'rec', JSON.stringify(keyRec));
    const status = a.putConnectionStatus(d.id, { ...CONNECTED });
    const state = a.putLastState(d.id, { time: '2026-03-01T00:00:00.000Z', data: { t: 1 } });
    const used = a.putLastUsed(k.id, '2026-03-01T00:00:00.000Z');
    await a.flush();
    await Promise.all([status, state, used]);
    const device = await raw.hgetall(`${prefix}device:${d.id}`);
    expect(JSON.parse(device.rec!)).toMatchObject({ name: 'edited elsewhere' });
    expect(JSON.parse(device.cs!)).toEqual(CONNECTED);
    expect(JSON.parse(device.ls!)).toEqual({ time: '2026-03-01T00:00:00.000Z', data: { t: 1 } });
    const key = await raw.hgetall(`${prefix}key:${k.id}`);
    expect(JSON.parse(key.rec!)).toMatchObject({ status: 'inactive' });
    expect(JSON.parse(key.lu!)).toBe('2026-03-01T00:00:00.000Z');
  });

  it('concurrent writers converge: both views end equal to what a fresh open reads', async () => {
    const { a, b, prefix } = await pair();
    const shared = Array.from({ length: 20 }, () => makeDevice());
    await Promise.all(shared.map((d) => a.putDevice(d)));
    await b.caughtUp();
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      for (const d of shared) {
        writes.push(a.putDevice({ ...a.getDevice(d.id)!, name: `a${round}` }));
        // Both nodes edit the same record too: the last write of a part wins, everywhere alike.
        writes.push(b.putDevice({ ...b.getDevice(d.id)!, description: `b${round}` }));
        writes.push(b.putConnectionStatus(d.id, { ...CONNECTED, messagesFromClient: round }));
      }
      writes.push(a.putKey(makeKeyRecord()), b.putKey(makeKeyRecord()));
    }
    await Promise.all(writes);
    await Promise.all([a.flush(), b.flush()]);
    await a.caughtUp();
    await b.caughtUp();
    const fresh = await open(prefix);
    const sorted = <T extends { id: string }>(xs: T[]) => [...xs].sort((x, y) => x.id.localeCompare(y.id));
    expect(sorted(a.listDevices())).toEqual(sorted(fresh.listDevices()));
    expect(sorted(b.listDevices())).toEqual(sorted(fresh.listDevices()));
    expect(sorted(a.listKeys())).toEqual(sorted(fresh.listKeys()));
    expect(sorted(b.listKeys())).toEqual(sorted(fresh.listKeys()));
    expect(fresh.listKeys()).toHaveLength(10);
    for (const d of fresh.listDevices()) {
      // The live part written by B alone was never undone by A's edits of the record.
      expect(d.connectionStatus).toMatchObject({ messagesFromClient: 4 });
      expect([d.name, d.description]).toContainEqual(expect.stringMatching(/^[ab]4$/));
    }
  });

  it('a public key taken on another node is refused by Redis, and the refused put is taken back', async () => {
    const { a, b } = await pair();
    const k1 = makeKeyRecord();
    const k2 = makeKeyRecord({ key: k1.key });
    // Neither node has seen the other's key yet: only Redis can tell.
    const [r1, r2] = await Promise.allSettled([a.putKey(k1), b.putKey(k2)]);
    expect(r1.status).toBe('fulfilled');
    expect(r2.status).toBe('rejected');
    expect((r2 as PromiseRejectedResult).reason).toBeInstanceOf(StoreRecordError);
    expect(String((r2 as PromiseRejectedResult).reason)).toContain(`is already used by access key ${k1.id}`);
    await b.caughtUp();
    expect(b.getKey(k2.id)).toBeUndefined();
    expect(b.getKeyByKey(k1.key)?.id).toBe(k1.id);
  });

  it('after its connections are cut, a node resumes the stream where it was: nothing is missed', async () => {
    const { a, b } = await pair();
    const first = makeDevice({ name: 'before the cut' });
    await a.putDevice(first);
    await b.caughtUp();
    // Every connection but this test's own is dropped by Redis; ioredis reconnects them.
    await raw.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    const during = Array.from({ length: 5 }, (_, i) => makeDevice({ name: `after the cut ${i}` }));
    await Promise.all(during.map((d) => a.putDevice(d)));
    await b.caughtUp();
    expect(b.listDevices().map((d) => d.name)).toEqual(['before the cut', ...during.map((d) => d.name)]);
  });

  it('a node that missed changes (the stream trimmed past it) reloads and catches up', async () => {
    const logs: string[] = [];
    const prefix = `t${++n}:`;
    const a = await open(prefix);
    const b = await open(prefix, (l) => logs.push(l));
    const missed = makeDevice({ name: 'missed' });
    // What B missed: a record written with its change entries gone from the stream.
    const { name: _n, ...rec } = missed;
    await raw.hset(`${prefix}device:${missed.id}`, 'rec', JSON.stringify({ ...rec, name: 'missed' }));
    await raw.zadd(`${prefix}devices`, 999, missed.id);
    await raw.incrby(`${prefix}seq`, 3);
    const next = makeDevice({ name: 'next' });
    await a.putDevice(next);
    await b.caughtUp();
    expect(b.getDevice(missed.id)?.name).toBe('missed');
    expect(b.getDevice(next.id)?.name).toBe('next');
    expect(logs.join('\n')).toMatch(/no longer in the stream; reloading/);
  });
});

describe('a bad record in Redis', () => {
  async function refused(prefix: string): Promise<string> {
    const err = await openRedisStore(server.url, { prefix, log: noLog }).then(
      (s) => {
        stores.push(s);
        throw new Error('opened');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreFileError);
    return (err as Error).message;
  }

  it('refuses the open, naming the Redis key and field, and changes nothing', async () => {
    const prefix = `bad${++n}:`;
    const good = await open(prefix);
    const d = makeDevice();
    await good.putDevice(d);
    await good.close();
    await raw.hset(`${prefix}device:${d.id}`, 'rec', JSON.stringify({ ...d, deviceClass: 'toaster' }));
    const before = await raw.hgetall(`${prefix}device:${d.id}`);
    expect(await refused(prefix)).toMatch(
      new RegExp(`^Redis key ${prefix}device:${d.id}: field "rec": device\\.deviceClass: must be`),
    );
    await raw.hset(`${prefix}device:${d.id}`, 'rec', JSON.stringify(d), 'cs', '{"status":');
    expect(await refused(prefix)).toMatch(`Redis key ${prefix}device:${d.id}: field "cs": not valid JSON`);
    await raw.hset(`${prefix}device:${d.id}`, 'cs', JSON.stringify({ ...CONNECTED, status: 'sleeping' }));
    expect(await refused(prefix)).toMatch(`field "cs": device.connectionStatus.status`);
    expect((await raw.hgetall(`${prefix}device:${d.id}`)).rec).toBe(JSON.stringify(d));
    expect(before.rec).toContain('toaster');
  });

  it('refuses a key record holding a secret without repeating it', async () => {
    const prefix = `bad${++n}:`;
    const k = makeKeyRecord();
    const secret = 'f'.repeat(64);
    await raw.hset(`${prefix}key:${k.id}`, 'rec', JSON.stringify({ ...k, secret }), 'pk', k.key);
    await raw.zadd(`${prefix}keys`, 1, k.id);
    const message = await refused(prefix);
    expect(message).toBe(
      `Redis key ${prefix}key:${k.id}: field "rec": key has a plaintext secret field; Keyport never stores secrets`,
    );
    expect(message).not.toContain(secret);
  });
});

describe('loadClusterSecrets', () => {
  it('the first node offers its data directory’s pepper and token; later nodes get the same ones', async () => {
    const prefix = `sec${++n}:`;
    const first = await makeTempDir();
    const second = await makeTempDir();
    dirs.push(first, second);
    const pepper = Buffer.alloc(32, 9);
    const token = 'ab'.repeat(24);
    await writeFile(join(first, 'pepper.key'), pepper, { mode: 0o600 });
    await writeFile(join(first, 'admin-token'), token + '\n', { mode: 0o600 });
    const logs: string[] = [];
    const log = (l: string) => logs.push(l);
    const a = await loadClusterSecrets(raw, first, { prefix, log });
    expect(a).toEqual({ pepper, adminToken: token, imported: { pepper: true, adminToken: true } });
    const b = await loadClusterSecrets(raw, second, { prefix, log });
    expect(b).toEqual({ pepper, adminToken: token, imported: { pepper: false, adminToken: false } });
    // A node with its own, different pepper is told (by file name), and gets the cluster's.
    await writeFile(join(second, 'pepper.key'), Buffer.alloc(32, 1), { mode: 0o600 });
    expect((await loadClusterSecrets(raw, second, { prefix, log })).pepper).toEqual(pepper);
    expect(logs).toEqual([expect.stringContaining(`${join(second, 'pepper.key')} differs from the cluster's pepper`)]);
    expect(logs.join('')).not.toContain(pepper.toString('hex'));
  });

  it('fresh nodes starting together agree on one pepper; a damaged one in Redis is refused', async () => {
    const prefix = `sec${++n}:`;
    const dir = await makeTempDir();
    dirs.push(dir);
    const all = await Promise.all([1, 2, 3].map(() => loadClusterSecrets(raw, dir, { prefix, log: noLog })));
    expect(new Set(all.map((s) => s.pepper.toString('hex'))).size).toBe(1);
    expect(all[0]!.pepper).toHaveLength(32);
    await raw.set(`${prefix}pepper`, 'short');
    await expect(loadClusterSecrets(raw, dir, { prefix, log: noLog })).rejects.toThrow(
      `Redis key ${prefix}pepper: the cluster pepper is damaged`,
    );
  });
});
