// The persistent store: one JSON document, <dataDir>/keyport.json (SPEC §11).
//
// lowdb's `Low` holds the document; the adapter is our own, not lowdb's JSONFile, because:
//  - JSONFile parses with JSON.parse and hands back whatever it finds; we must validate the
//    file (and name the problem) before Keyport uses it, and never write over a file we refused;
//  - JSONFile's writer (steno 4) writes `.keyport.json.tmp` with the default mode (0644 under the
//    usual umask), never fsyncs, and leaves the temp file behind when a write fails.
// writeFileAtomic below keeps steno's idea (temp file + rename, so a reader or a crash sees the old
// file or the new one, never half of one) and adds mode 0600, fsync of the file and its
// directory, and removal of the temp file on failure.
//
// Writes are serialised (never two in flight) and coalesced: every change made while a write is
// in flight (or in the same tick) goes out in the next write, and each put's promise resolves
// only after a write that includes its change has been renamed into place. Lazy puts (live
// bookkeeping, see PutOptions) ride along with the next write, or get one of their own after at
// most LAZY_WRITE_MS.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicWriteOptions } from '../shared/atomic-write.ts';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { MemoryStore, newApplicationId } from './memory-store.ts';
import { LAZY_WRITE_MS, STORE_VERSION, StoreFileError } from './store.ts';
import type { Store, StoreData } from './store.ts';
import { validateStoreData } from './validate-data.ts';

export const STORE_FILE = 'keyport.json';

/** Internal options, for tests: observe writes and inject failures. */
export interface LowdbStoreOptions {
  /** Called after each completed write of the store file. */
  onWrite?: (info: { bytes: number }) => void;
  /** Called after the temp file is written and synced, before it is renamed over the store file. */
  beforeRename?: (tempFile: string) => void | Promise<void>;
}

/** lowdb adapter for keyport.json: validating read, atomic 0600 write. */
class KeyportFile implements Adapter<StoreData> {
  /** Whether read() found a file. */
  existed = false;

  constructor(
    readonly file: string,
    private readonly options: LowdbStoreOptions,
  ) {}

  async read(): Promise<StoreData | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreFileError(this.file, `cannot be read: ${(err as Error).message}`);
    }
    this.existed = true;
    if (text.trim() === '') throw new StoreFileError(this.file, 'the file is empty (expected a Keyport JSON document)');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new StoreFileError(this.file, `not valid JSON: ${(err as Error).message}`);
    }
    const problem = validateStoreData(raw);
    if (problem) throw new StoreFileError(this.file, problem);
    return raw as StoreData;
  }

  async write(data: StoreData): Promise<void> {
    // Serialised here, synchronously, before any await: later changes cannot leak into this write.
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const atomic: AtomicWriteOptions = { mode: 0o600 };
    if (this.options.beforeRename) atomic.beforeRename = this.options.beforeRename;
    await writeFileAtomic(this.file, text, atomic);
    this.options.onWrite?.({ bytes: Buffer.byteLength(text) });
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * One write at a time; everything requested while one runs goes out together in the next.
 * Each write captures ALL of memory when it starts, so a lazy waiter is satisfied by any write
 * that starts after its change, whoever asked for it.
 */
export class WriteCoalescer {
  #waiters: Waiter[] = [];
  #lazy: Waiter[] = [];
  #lazyTimer: NodeJS.Timeout | null = null;
  #idle: Waiter[] = [];
  #running = false;
  /** Memory is ahead of the file because the last write failed. */
  #failed: { error: unknown } | null = null;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly lazyMs = LAZY_WRITE_MS,
  ) {}

  /** Resolves after a write that starts after this call has completed. */
  request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#start();
    });
  }

  /** Like request(), but the write may start up to `lazyMs` later (sooner if anything else writes). */
  requestLazy(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#lazy.push({ resolve, reject });
      this.#lazyTimer ??= setTimeout(() => {
        this.#lazyTimer = null;
        this.#promoteLazy();
      }, this.lazyMs);
    });
  }

  #start(): void {
    if (!this.#running) {
      this.#running = true;
      // A microtask, so the puts made in the same synchronous run share one write.
      queueMicrotask(() => void this.#drain());
    }
  }

  /** Lazy waiters become ordinary ones (their timer fired, or someone wants everything on disk). */
  #promoteLazy(): void {
    if (this.#lazyTimer) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
    }
    if (this.#lazy.length === 0) return;
    this.#waiters.push(...this.#lazy.splice(0));
    this.#start();
  }

  /** Resolves when memory is on disk: waits for writes in flight, retries after a failure. */
  flush(): Promise<void> {
    this.#promoteLazy();
    if (this.#failed && !this.#running) return this.request();
    if (!this.#running) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#idle.push({ resolve, reject }));
  }

  async #drain(): Promise<void> {
    while (this.#waiters.length > 0) {
      // The write below serialises memory before its first await, so it carries every lazy
      // change made so far too.
      const batch = this.#waiters.splice(0);
      if (this.#lazy.length > 0) {
        batch.push(...this.#lazy.splice(0));
        if (this.#lazyTimer) {
          clearTimeout(this.#lazyTimer);
          this.#lazyTimer = null;
        }
      }
      try {
        await this.write();
        this.#failed = null;
        for (const waiter of batch) waiter.resolve();
      } catch (err) {
        this.#failed = { error: err };
        for (const waiter of batch) waiter.reject(err);
      }
    }
    this.#running = false;
    const idle = this.#idle.splice(0);
    const failed = this.#failed;
    for (const waiter of idle) {
      if (failed) waiter.reject(failed.error);
      else waiter.resolve();
    }
  }
}

class LowdbStore extends MemoryStore {
  readonly #db: Low<StoreData>;
  readonly #writes: WriteCoalescer;

  constructor(db: Low<StoreData>) {
    super(db.data.applicationId, db.data);
    this.#db = db;
    this.#writes = new WriteCoalescer(() => {
      this.#db.data = this.state.toData(this.applicationId);
      return this.#db.write();
    });
  }

  protected override persist(lazy = false): Promise<void> {
    return lazy ? this.#writes.requestLazy() : this.#writes.request();
  }

  override async flush(): Promise<void> {
    await this.#writes.flush();
  }

  #closing: Promise<void> | undefined;

  /** Refuses new writes, then waits for the ones already made (rejects if they cannot be written). */
  override close(): Promise<void> {
    this.closed = true;
    this.#closing ??= this.#writes.flush();
    return this.#closing;
  }
}

/**
 * Opens (or creates) the store in `dir`. Creates `dir` (0700) and a fresh keyport.json (0600)
 * when absent. An existing file is validated first; if it is unusable this throws StoreFileError
 * naming the file and the problem, and the file is never written.
 * The caller must hold the data directory lock (lock.ts): two writers must never share a file.
 */
export async function openLowdbStore(dir: string, options: LowdbStoreOptions = {}): Promise<Store> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700); // whatever the umask did
  const adapter = new KeyportFile(join(dir, STORE_FILE), options);
  const fresh: StoreData = { version: STORE_VERSION, applicationId: newApplicationId(), devices: [], keys: [] };
  const db = new Low<StoreData>(adapter, fresh);
  await db.read();
  const store = new LowdbStore(db);
  if (!adapter.existed) await db.write();
  return store;
}
