// The clustered store: devices and keys (verifiers only) in Redis, shared by every Keyport node
// (issue 18 item 2; docs/design.md §11, "Clustered (Redis)").
//
// Reads are synchronous, from an in-memory view (the StoreState of memory-store.ts, kept by
// redis-view.ts). A put changes the view at once, like every store, and resolves once Redis has
// acknowledged it: each write is one Lua script (redis-scripts.ts) that changes the record, checks
// and moves the public-key index where that matters, and appends the change to a stream, all
// atomically. Every node follows that stream (redis-changes.ts) and applies other nodes' changes
// to its view in order; onExternalChange() tells the service (service/cluster-sync.ts).
//
// Lazy puts (connection status, lastUsed, state reports; see PutOptions) are collected for up to
// LAZY_WRITE_MS and then written together (ioredis auto-pipelining sends them as one pipeline);
// they write only the live part they changed, so they never undo another node's edit.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AccessKeyRecord, ConnectionStatus, Device, DeviceState } from '../core/types.ts';
import { MemoryStore } from './memory-store.ts';
import { ChangeFollower } from './redis-changes.ts';
import { connectRedis, redactRedisUrl, reportErrors } from './redis-connect.ts';
import {
  changedParts,
  DEFAULT_PREFIX,
  deviceParts,
  keyParts,
  redisKeys,
  type Kind,
  type RedisKeys,
} from './redis-layout.ts';
import { loadSnapshot, readAll, streamPosition } from './redis-load.ts';
import { defineScripts, type StoreScripts } from './redis-scripts.ts';
import { RedisView, type ExternalChange } from './redis-view.ts';
import { LAZY_WRITE_MS, StoreClosedError, StoreRecordError, type PutOptions } from './store.ts';

export type { ExternalChange };

export interface RedisStoreOptions {
  /** Where connection trouble is reported (default: stderr). Never given a secret. */
  log?: (line: string) => void;
  /** Prefix of every Redis key (default "keyport:"): several installs can share one Redis. */
  prefix?: string;
}

interface LazyWrite {
  kind: Kind;
  id: string;
  parts: Set<string>;
}

export class RedisStore extends MemoryStore {
  readonly #redis: Redis;
  readonly #scripts: StoreScripts;
  readonly #keys: RedisKeys;
  readonly #origin = randomUUID();
  readonly #view: RedisView;
  readonly #listeners = new Set<(c: ExternalChange) => void>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #log: (line: string) => void;
  #follower: ChangeFollower | null = null;
  #writeNo = 0;
  #lazy = new Map<string, LazyWrite>();
  #lazyTimer: NodeJS.Timeout | null = null;
  #lazyShared: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null;
  #closing: Promise<void> | undefined;

  /** Use openRedisStore. */
  constructor(
    redis: Redis,
    keys: RedisKeys,
    snapshot: Awaited<ReturnType<typeof loadSnapshot>>,
    log: (l: string) => void,
  ) {
    super(snapshot.applicationId, snapshot, true);
    this.#redis = redis;
    this.#keys = keys;
    this.#log = log;
    this.#scripts = defineScripts(redis);
    const emit = (c: ExternalChange) => {
      for (const l of this.#listeners) {
        try {
          l(c);
        } catch (err) {
          log(`keyport: a cluster change listener failed: ${(err as Error).message}`);
        }
      }
    };
    const hashKey = (kind: Kind, id: string) => (kind === 'device' ? keys.device(id) : keys.key(id));
    this.#view = new RedisView(this.state, this.#origin, emit, log, hashKey);
  }

  /** Starts following the other nodes' changes from where the snapshot was read. */
  async follow(from: { fromId: string; n: number }, connection: Redis): Promise<void> {
    const follower = new ChangeFollower(connection, this.#keys.changes, from, {
      apply: (e) => this.#view.apply(e),
      reload: () => this.#reload(),
      log: this.#log,
    });
    this.#follower = follower;
    await follower.catchUp();
    follower.start();
  }

  async #reload(): Promise<{ fromId: string; n: number }> {
    const position = await streamPosition(this.#redis, this.#keys);
    this.#view.reconcile('device', await readAll(this.#redis, this.#keys, 'device'));
    this.#view.reconcile('key', await readAll(this.#redis, this.#keys, 'key'));
    return position;
  }

  /**
   * Devices and keys changed by ANOTHER node, after this node's view took the change. Returns the
   * unsubscribe. A listener that throws is logged.
   */
  onExternalChange(listener: (c: ExternalChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once this node's view has taken every change Redis had when this was called. */
  async caughtUp(): Promise<void> {
    const target = Number((await this.#redis.get(this.#keys.seq)) ?? 0);
    await this.#follower?.reached(target);
  }

  #assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Runs one write script; settles the view's tracking unless an entry for it will come. */
  #issue(kind: Kind, id: string, mode: 'put' | 'patch' | 'del', parts: Record<string, string>, pk = ''): Promise<void> {
    const k = this.#keys;
    const w = String(++this.#writeNo);
    const pairs = Object.entries(parts).flat();
    let run: Promise<number | string>;
    if (mode === 'del') {
      const keys =
        kind === 'device'
          ? [k.device(id), k.devices, k.changes, k.seq]
          : [k.key(id), k.keys, k.changes, k.seq, k.keyIndex];
      run = this.#scripts.deleteRecord(keys, [this.#origin, w, id, kind === 'device' ? 'd' : 'k']);
    } else if (kind === 'device') {
      run = this.#scripts.putDevice(
        [k.device(id), k.devices, k.order, k.changes, k.seq],
        [this.#origin, w, id, mode, ...pairs],
      );
    } else {
      run = this.#scripts.putKey(
        [k.key(id), k.keys, k.order, k.changes, k.seq, k.keyIndex],
        [this.#origin, w, id, mode, pk, ...pairs],
      );
    }
    const done = run.then(
      (r) => {
        if (r === 1) return; // settled when its entry comes back through the stream
        this.#view.settle(kind, id);
        if (typeof r === 'string' && r.startsWith('taken:'))
          throw new StoreRecordError(
            `key.key: ${JSON.stringify(this.getKey(id)?.key ?? '')} is already used by access key ${r.slice(6)}`,
          );
      },
      (err: unknown) => {
        this.#view.settle(kind, id);
        throw err;
      },
    );
    this.#inflight.add(done);
    void done.catch(() => undefined).finally(() => this.#inflight.delete(done));
    return done;
  }

  /** A user change: written now (lazy bookkeeping waiting for its window goes first, in order). */
  #writeNow(kind: Kind, id: string, before: ReturnType<RedisView['get']>, pk = ''): Promise<void> {
    const after = this.#view.get(kind, id);
    this.#flushLazy();
    if (!after) {
      this.#view.track(kind, id, before, ['*']);
      return this.#issue(kind, id, 'del', {});
    }
    const parts = changedParts(kind, before, after);
    if (Object.keys(parts).length === 0) return Promise.resolve();
    this.#view.track(kind, id, before, before ? Object.keys(parts) : ['*']);
    return this.#issue(kind, id, 'put', parts, pk);
  }

  /** Bookkeeping: joins this window's lazy write, which shares one promise. */
  #writeLazy(kind: Kind, id: string, before: ReturnType<RedisView['get']>, parts: string[]): Promise<void> {
    const name = `${kind}:${id}`;
    const entry = this.#lazy.get(name);
    if (entry) {
      for (const p of parts) entry.parts.add(p);
      this.#view.widen(kind, id, parts);
    } else {
      this.#lazy.set(name, { kind, id, parts: new Set(parts) });
      this.#view.track(kind, id, before, before ? parts : ['*']);
    }
    this.#lazyTimer ??= setTimeout(() => this.#flushLazy(), LAZY_WRITE_MS);
    if (!this.#lazyShared) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.#lazyShared = { promise, resolve, reject };
    }
    return this.#lazyShared.promise;
  }

  #flushLazy(): void {
    if (this.#lazyTimer) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = null;
    const shared = this.#lazyShared;
    const batch = [...this.#lazy.values()];
    this.#lazy.clear();
    this.#lazyShared = null;
    if (!shared) return;
    // Issued in one synchronous run: ioredis sends them as one pipeline.
    const writes = batch.map((e) => {
      const now = this.#view.get(e.kind, e.id);
      if (!now) {
        this.#view.settle(e.kind, e.id); // deleted here meanwhile; that delete writes it
        return Promise.resolve();
      }
      const all = e.kind === 'device' ? deviceParts(now as Device) : keyParts(now as AccessKeyRecord);
      const parts = Object.fromEntries([...e.parts].filter((p) => p !== '*').map((p) => [p, all[p] ?? '']));
      const full = e.parts.has('*') || e.parts.has('rec');
      const pk = e.kind === 'key' && full ? (now as AccessKeyRecord).key : '';
      return this.#issue(e.kind, e.id, full ? 'put' : 'patch', e.parts.has('*') ? all : parts, pk);
    });
    Promise.all(writes).then(shared.resolve, shared.reject);
  }

  override async putDevice(device: Device, options?: PutOptions): Promise<void> {
    this.#assertOpen();
    const before = this.state.devices.get(device.id);
    this.state.putDevice(device);
    if (options?.lazy !== true) return this.#writeNow('device', device.id, before);
    const after = this.state.devices.get(device.id) as Device;
    return this.#writeLazy('device', device.id, before, Object.keys(changedParts('device', before, after)));
  }

  override async putConnectionStatus(id: string, status: ConnectionStatus): Promise<boolean> {
    this.#assertOpen();
    const before = this.state.devices.get(id);
    if (!this.state.putConnectionStatus(id, status)) return false;
    await this.#writeLazy('device', id, before, ['cs']);
    return true;
  }

  override putLastState(id: string, state: DeviceState): Promise<void> | false {
    this.#assertOpen();
    const before = this.state.devices.get(id);
    if (!this.state.putLastState(id, state)) return false;
    return this.#writeLazy('device', id, before, ['ls']);
  }

  override putLastUsed(id: string, lastUsed: string): Promise<void> | false {
    this.#assertOpen();
    const before = this.state.keys.get(id);
    if (!this.state.putLastUsed(id, lastUsed)) return false;
    return this.#writeLazy('key', id, before, ['lu']);
  }

  override async deleteDevice(id: string): Promise<boolean> {
    this.#assertOpen();
    const before = this.state.devices.get(id);
    if (!this.state.deleteDevice(id)) return false;
    await this.#writeNow('device', id, before);
    return true;
  }

  override async putKey(key: AccessKeyRecord): Promise<void> {
    this.#assertOpen();
    const before = this.state.keys.get(key.id);
    this.state.putKey(key);
    return this.#writeNow('key', key.id, before, before?.key === key.key ? '' : key.key);
  }

  override async deleteKey(id: string): Promise<boolean> {
    this.#assertOpen();
    const before = this.state.keys.get(id);
    if (!this.state.deleteKey(id)) return false;
    await this.#writeNow('key', id, before);
    return true;
  }

  /** Resolves when every write so far is acknowledged by Redis; rejects if one failed. */
  override async flush(): Promise<void> {
    this.#flushLazy();
    const results = await Promise.allSettled([...this.#inflight]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Refuses new writes, writes what is pending, then stops following and disconnects. */
  override close(): Promise<void> {
    this.closed = true;
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        await this.#follower?.stop();
        await this.#redis.quit().catch(() => this.#redis.disconnect());
      }
    })();
    return this.#closing;
  }
}

/**
 * Opens the store kept in the Redis at `url` (redis://[user:password@]host:port[/db]). Reads and
 * checks every record first: a record that fails the checks keyport.json's records pass refuses
 * the open with a StoreFileError naming the Redis key and hash field. Redis is never written then.
 */
export async function openRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const redis = await connectRedis(url, log);
  try {
    const keys = redisKeys(opts.prefix ?? DEFAULT_PREFIX);
    const snapshot = await loadSnapshot(redis, keys);
    const store = new RedisStore(redis, keys, snapshot, log);
    await store.follow(snapshot, reportErrors(redis.duplicate(), `${redactRedisUrl(url)} (change stream)`, log));
    return store;
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
