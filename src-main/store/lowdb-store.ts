// The persistent store: one JSON document, <dataDir>/keyport.json (docs/design.md §11).
//
// lowdb's `Low` holds the document; the adapter is our own, not lowdb's JSONFile, because:
//  - JSONFile parses with JSON.parse and hands back whatever it finds; we must validate the
//    file (and name the problem) before Keyport uses it, and never write over a file we refused;
//  - JSONFile's writer (steno 4) writes `.keyport.json.tmp` with the default mode (0644 under the
//    usual umask), never fsyncs, and leaves the temp file behind when a write fails.
// writeFileAtomic (shared/atomic-write.ts) keeps steno's idea (temp file + rename, so a reader or
// a crash sees the old file or the new one, never half of one) and adds mode 0600, fsync of the
// file and its directory, and removal of the temp file on failure.
//
// Writes are serialised (never two in flight) and coalesced (write-coalescer.ts): every change
// made while a write is in flight (or in the same tick) goes out in the next write, and each put's
// promise resolves only after a write that includes its change has been renamed into place. Lazy
// puts (live bookkeeping, see PutOptions) ride along with the next write, or get one of their own
// after at most LAZY_WRITE_MS.
//
// A write that fails (disk full, read-only, I/O error) is taken back: memory returns to what the
// file holds (UndoJournal), every put waiting on it or queued behind it rejects with the
// FileWriteError, and nothing of it is written later. Memory never runs ahead of the file for
// longer than one write.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { writeFileAtomic, type AtomicWriteOptions } from '../shared/atomic-write.ts';
import { MemoryStore, newApplicationId } from './memory-store.ts';
import { STORE_VERSION, StoreFileError } from './store.ts';
import { serializeStoreData } from './store-serializer.ts';
import { readStatusFile, STATUS_FILE, StatusJournal, statusTime, type StatusEntries } from './status-journal.ts';
import { UndoJournal } from './undo-journal.ts';
import { WriteCoalescer } from './write-coalescer.ts';
import type { ConnectionStatus } from '../core/types.ts';
import type { Store, StoreData } from './store.ts';
import { validateStoreData } from './validate-data.ts';

export const STORE_FILE = 'keyport.json';

export interface LowdbStoreOptions {
  /** Where a failed write is reported (default: stderr). Never given a secret. */
  log?: (line: string) => void;
  // For tests: observe writes and inject failures.
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
    // `data` was built synchronously when this write started (its arrays are fresh, its records
    // frozen), so later changes cannot leak into this write even though it is serialised slice by
    // slice while the event loop goes on (store-serializer.ts). Low.write() calls this before its
    // own first await.
    let bytes = 0;
    const slices = async function* (): AsyncGenerator<string> {
      for await (const slice of serializeStoreData(data)) {
        bytes += Buffer.byteLength(slice);
        yield slice;
      }
    };
    const atomic: AtomicWriteOptions = { mode: 0o600 };
    if (this.options.beforeRename) atomic.beforeRename = this.options.beforeRename;
    await writeFileAtomic(this.file, slices(), atomic);
    this.options.onWrite?.({ bytes });
  }
}

class LowdbStore extends MemoryStore {
  readonly #db: Low<StoreData>;
  readonly #writes: WriteCoalescer;
  readonly #log: (line: string) => void;
  /** Connection status changes go here, not into a whole-document write (status-journal.ts). */
  readonly #statuses: StatusJournal;

  constructor(
    db: Low<StoreData>,
    log: (line: string) => void,
    status: { file: string; statuses: Map<string, ConnectionStatus>; bytes: number },
  ) {
    // db.data was just parsed from the file (or made fresh): nobody else holds it.
    super(db.data.applicationId, db.data, true);
    this.#db = db;
    this.#log = log;
    // The status journal's line wins unless the document's status is newer (written after it).
    for (const [id, s] of status.statuses) {
      const d = this.state.devices.get(id);
      if (d && statusTime(s) >= statusTime(d.connectionStatus)) this.state.putConnectionStatus(id, s);
    }
    this.state.journal = new UndoJournal();
    this.#writes = new WriteCoalescer(() => this.#write());
    this.#statuses = new StatusJournal(status.file, () => this.#currentStatuses(), { bytes: status.bytes });
  }

  *#currentStatuses(): StatusEntries {
    for (const d of this.state.devices.values()) if (d.connectionStatus) yield [d.id, d.connectionStatus] as const;
  }

  protected override persistStatus(id: string, status: ConnectionStatus): Promise<void> {
    return this.#statuses.note(id, status);
  }

  /** Writes all of memory; on failure puts memory back to what the file holds, then rejects. */
  async #write(): Promise<void> {
    // Everything changed so far rides in this write (serialised before the first await below);
    // changes made while it is in flight are journalled afresh, for the next one.
    const covered = this.state.journal ?? new UndoJournal();
    this.state.journal = new UndoJournal();
    this.#db.data = this.state.toData(this.applicationId);
    try {
      await this.#db.write();
    } catch (err) {
      const queued = this.state.journal;
      const undo = UndoJournal.merge(covered, queued);
      this.state.restore(undo);
      this.state.journal = new UndoJournal();
      const what = err instanceof Error ? err.message : String(err);
      this.#log(`keyport: ${what}; ${undo.size} changed record(s) taken back, the store file is unchanged`);
      throw err;
    }
  }

  protected override persist(lazy = false): Promise<void> {
    return lazy ? this.#writes.requestLazy() : this.#writes.request();
  }

  override async flush(): Promise<void> {
    await Promise.all([this.#writes.flush(), this.#statuses.flush()]);
  }

  #closing: Promise<void> | undefined;

  /** Refuses new writes, then waits for the ones already made (rejects if they cannot be written). */
  override close(): Promise<void> {
    this.closed = true;
    this.#closing ??= Promise.all([this.#writes.flush(), this.#statuses.close()]).then(() => undefined);
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
  if (!adapter.existed) await db.write();
  const statusFile = join(dir, STATUS_FILE);
  const status = { file: statusFile, ...(await readStatusFile(statusFile)) };
  const store = new LowdbStore(db, options.log ?? ((l) => process.stderr.write(l + '\n')), status);
  return store;
}
