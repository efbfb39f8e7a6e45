// Live connection status on disk without rewriting the store (issue 17 item 1, docs/design.md §4):
// <dataDir>/connection-status.jsonl, one line per status change, `{"id":…,"status":{…}}`.
// Every CONNECT and DISCONNECT changes a status; rewriting keyport.json for them cost a
// whole-file write per second of a connect burst (≈ 1.5 s of work at 100k devices). Here the
// changes of one window (LAZY_WRITE_MS) are appended in ONE write + fdatasync, the latest per
// device only, and every put of the window shares one promise, resolved when that append is on
// disk. keyport.json still carries a device's status as of its own last write.
//
// Compaction: once the file has grown past COMPACT_MIN_BYTES and twice its size after the last
// compaction, it is rewritten atomically (temp file, fsync, rename, dir sync; shared/atomic-write)
// with the current status of every device, built in slices that yield to the event loop.
//
// Reading (at open): the last line per device wins. A final fragment without its newline is a
// torn append (a crash mid-write, never acknowledged) and is ignored; any other bad line stops
// the store with StoreFileError naming the file, the line and the problem — never overwritten.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { ConnectionStatus } from '../core/types.ts';
import { FileWriteError, writeFileAtomic } from '../shared/atomic-write.ts';
import { isPlainObject } from '../core/plain-object.ts';
import { LAZY_WRITE_MS, StoreFileError } from './store.ts';
import { validateConnectionStatus } from './validate-data.ts';

export const STATUS_FILE = 'connection-status.jsonl';
/** Below this the file is never compacted (a few thousand lines cost nothing to read). */
export const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
/** Lines serialised between turns of the event loop while compacting. */
const SLICE_LINES = 2000;

export type StatusEntries = Iterable<readonly [string, ConnectionStatus]>;

const line = (id: string, status: ConnectionStatus): string =>
  `{"id":${JSON.stringify(id)},"status":${JSON.stringify(status)}}\n`;

/** The statuses in `file` (latest per device) and its size; an absent file is empty. */
export async function readStatusFile(
  file: string,
): Promise<{ statuses: Map<string, ConnectionStatus>; bytes: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { statuses: new Map(), bytes: 0 };
    throw new StoreFileError(file, `cannot be read: ${(err as Error).message}`);
  }
  const statuses = new Map<string, ConnectionStatus>();
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a torn final append (never acknowledged)
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    let entry: unknown;
    try {
      entry = JSON.parse(lines[i] as string);
    } catch {
      throw new StoreFileError(file, `${where}: not valid JSON`);
    }
    if (!isPlainObject(entry) || typeof entry.id !== 'string' || entry.id === '')
      throw new StoreFileError(file, `${where}: must be an object {id, status} with a device id`);
    const problem = validateConnectionStatus(entry.status, `${where}: status`);
    if (problem) throw new StoreFileError(file, problem);
    statuses.set(entry.id, entry.status as ConnectionStatus);
  }
  // Bytes up to the last newline: a torn tail is cut off before the next append.
  return { statuses, bytes: Buffer.byteLength(text) - Buffer.byteLength(text.slice(text.lastIndexOf('\n') + 1)) };
}

/** When a status happened: its connect, or its disconnect once it has one. */
export function statusTime(s: ConnectionStatus | undefined): number {
  if (!s) return -Infinity;
  const t = s.status === 'disconnected' && s.disconnectedAt ? s.disconnectedAt : s.connectedAt;
  return t === undefined ? -Infinity : Date.parse(t);
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface StatusJournalOptions {
  /** Whole lines already in the file (from readStatusFile); anything after them is cut off. */
  bytes: number;
  lazyMs?: number;
  compactMinBytes?: number;
}

export class StatusJournal {
  readonly #file: string;
  /** Every device's status now (memory): what a compaction writes. */
  readonly #current: () => StatusEntries;
  readonly #lazyMs: number;
  readonly #compactMin: number;
  #pending = new Map<string, ConnectionStatus>();
  #waiters: Waiter[] = [];
  #shared: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  #handle: FileHandle | null = null;
  #bytes: number;
  #compactedBytes = 0;

  constructor(file: string, current: () => StatusEntries, opts: StatusJournalOptions) {
    this.#file = file;
    this.#current = current;
    this.#bytes = opts.bytes;
    this.#lazyMs = opts.lazyMs ?? LAZY_WRITE_MS;
    this.#compactMin = opts.compactMinBytes ?? COMPACT_MIN_BYTES;
  }

  /** Notes a status (already validated and frozen). Resolves once a line holding it is on disk. */
  note(id: string, status: ConnectionStatus): Promise<void> {
    this.#pending.set(id, status);
    this.#shared ??= new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        void this.#startBatch();
      }, this.#lazyMs);
    });
    return this.#shared;
  }

  /** Writes what is pending now and waits for every write so far. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch = this.#startBatch();
    await this.#chain;
    await batch;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.#closeHandle();
    }
  }

  /** Takes the window's changes and queues their append behind earlier writes. */
  #startBatch(): Promise<void> {
    if (this.#pending.size === 0) return this.#chain;
    const entries = this.#pending;
    const waiters = this.#waiters;
    this.#pending = new Map();
    this.#waiters = [];
    this.#shared = null;
    const run = this.#chain.then(() => this.#append(entries));
    this.#chain = run.then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
    return this.#chain;
  }

  async #append(entries: Map<string, ConnectionStatus>): Promise<void> {
    let text = '';
    for (const [id, s] of entries) text += line(id, s);
    try {
      const handle = await this.#open();
      await handle.write(text);
      await handle.datasync();
    } catch (err) {
      await this.#closeHandle();
      throw err instanceof FileWriteError ? err : new FileWriteError(this.#file, err);
    }
    this.#bytes += Buffer.byteLength(text);
    if (this.#bytes > this.#compactMin && this.#bytes > 2 * this.#compactedBytes) await this.#compact();
  }

  async #compact(): Promise<void> {
    await this.#closeHandle();
    const current = this.#current;
    let bytes = 0;
    const slices = async function* (): AsyncGenerator<string> {
      let text = '';
      let n = 0;
      for (const [id, s] of current()) {
        text += line(id, s);
        if (++n % SLICE_LINES === 0) {
          bytes += Buffer.byteLength(text);
          yield text;
          text = '';
          await new Promise<void>((r) => setImmediate(r)); // let MQTT clients in between slices
        }
      }
      bytes += Buffer.byteLength(text);
      yield text;
    };
    await writeFileAtomic(this.#file, slices());
    this.#bytes = bytes;
    this.#compactedBytes = bytes;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    // A new file is created whole first (its directory entry synced), then appended to.
    if (this.#bytes === 0) await writeFileAtomic(this.#file, '');
    const handle = await open(this.#file, 'a', 0o600);
    try {
      await handle.truncate(this.#bytes); // drops a torn final append left by a crash
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    this.#handle = handle;
    return handle;
  }

  async #closeHandle(): Promise<void> {
    const h = this.#handle;
    this.#handle = null;
    await h?.close().catch(() => undefined);
  }
}
