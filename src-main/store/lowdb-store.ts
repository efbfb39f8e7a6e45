// The persistent store: the document <dataDir>/keyport.json plus the append-only journal
// <dataDir>/keyport.journal of the changes committed since (docs/design.md §11; journal-format.ts).
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
// A store write appends ONE line to the journal, the changed records whole, and fsyncs it
// (journal-writer.ts): its cost follows the change, not the store. Writes are serialised (never
// two in flight) and coalesced (write-coalescer.ts): every change made while a write is in flight
// (or in the same tick) goes out in the next one, and each put's promise resolves only after a
// line that includes its change is on disk. Lazy puts (live bookkeeping, see PutOptions) ride
// along with the next write, or get one of their own after at most LAZY_WRITE_MS.
//
// When the journals hold more than max(1 MiB, 1/8 of the document) the store compacts: it rotates
// the journal (between two appends) and writes the document as the disk then has it, through lowdb,
// in slices (store-serializer.ts), while appends go on in the new journal. close() compacts too,
// so a cleanly stopped store is all in keyport.json. Load = the document + the journals' replay.
//
// A write that fails (disk full, read-only, I/O error) is taken back: memory returns to what the
// disk holds (UndoJournal), every put waiting on it or queued behind it rejects with the
// FileWriteError, and nothing of it is written later (the journal is cut back to its last good
// line). A compaction that fails loses nothing: the journals stay and are replayed; it is logged.
import { chmod, mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { writeFileAtomic, type AtomicWriteOptions } from '../shared/atomic-write.ts';
import { JournaledStore, type JournaledStoreOptions } from './journal-store.ts';
import { JournalWriter } from './journal-writer.ts';
import { orphanJournalError, readJournals, removeStale, replayJournals } from './journal-replay.ts';
import { newApplicationId } from './memory-store.ts';
import { STORE_VERSION, StoreFileError } from './store.ts';
import { readStoreLines, serializeStoreData } from './store-serializer.ts';
import type { Store, StoreData } from './store.ts';
import { checkStoreData, type RecordIndex } from './validate-data.ts';

export const STORE_FILE = 'keyport.json';
/** Documents this big or bigger are read line by line (smaller ones are quicker to read whole). */
const LINES_FROM_BYTES = 1 << 20;
export { JOURNAL_FILE } from './journal-format.ts';

export interface LowdbStoreOptions extends JournaledStoreOptions {
  /**
   * For tests: called after the document's temp file is written and synced, before it is renamed
   * over keyport.json (a compaction, or the first write of a new store).
   */
  beforeRename?: (tempFile: string) => void | Promise<void>;
}

/** lowdb adapter for keyport.json: validating read, atomic 0600 write. */
class KeyportFile implements Adapter<StoreData> {
  /** Whether read() found a file. */
  existed = false;
  /** Size of the document last read or written. */
  bytes = 0;
  /** The records of the document last read, indexed while they were checked (validate-data.ts). */
  index: RecordIndex | null = null;

  /**
   * `owned`: what read() returns is handed to the store alone, so its records are frozen while
   * they are checked (readStoreDir's caller gets plain objects).
   */
  constructor(
    readonly file: string,
    private readonly options: LowdbStoreOptions,
    private readonly owned = false,
  ) {}

  async read(): Promise<StoreData | null> {
    let raw: unknown = null;
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreFileError(this.file, `cannot be read: ${(err as Error).message}`);
    }
    this.existed = true;
    try {
      const size = (await handle.stat()).size;
      this.bytes = size;
      // A big document in Keyport's own format is read line by line (store-serializer.ts);
      // anything else, or anything that fails to read that way, is read whole.
      if (size >= LINES_FROM_BYTES) raw = await readStoreLines(handle);
    } catch (err) {
      throw new StoreFileError(this.file, `cannot be read: ${(err as Error).message}`);
    } finally {
      await handle.close();
    }
    if (raw === null) raw = await this.#readWhole();
    const checked = checkStoreData(raw, this.owned);
    if (checked.problem !== null) throw new StoreFileError(this.file, checked.problem);
    this.index = checked.index;
    return raw as StoreData;
  }

  async #readWhole(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new StoreFileError(this.file, `cannot be read: ${(err as Error).message}`);
    }
    if (text.trim() === '') throw new StoreFileError(this.file, 'the file is empty (expected a Keyport JSON document)');
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new StoreFileError(this.file, `not valid JSON: ${(err as Error).message}`);
    }
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
    this.bytes = bytes;
    this.options.onWrite?.({ bytes, file: 'document' });
  }
}

/**
 * Opens (or creates) the store in `dir`. Creates `dir` (0700) and a fresh keyport.json (0600)
 * when absent. An existing file is validated first, then the journals are read and replayed; if
 * anything is unusable this throws StoreFileError naming the file (and the journal line) and the
 * problem, and nothing is written. The one thing dropped is an incomplete last journal line left
 * by a crash (never acknowledged; journal-reader.ts), and that is logged.
 * The caller must hold the data directory lock (lock.ts): two writers must never share a file.
 */
export async function openLowdbStore(dir: string, options: LowdbStoreOptions = {}): Promise<Store> {
  const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700); // whatever the umask did
  const adapter = new KeyportFile(join(dir, STORE_FILE), options, true);
  const fresh: StoreData = {
    version: STORE_VERSION,
    applicationId: newApplicationId(),
    journal: 0,
    devices: [],
    keys: [],
  };
  const db = new Low<StoreData>(adapter, fresh);
  await db.read();
  const docGeneration = db.data.journal ?? 0;
  const journals = await readJournals(dir, docGeneration);
  if (!adapter.existed) {
    const orphan = orphanJournalError(dir, journals);
    if (orphan) throw orphan;
  }
  // The document's index, brought up to date by the replay, is what the store is built on.
  const index = adapter.index ?? undefined;
  adapter.index = null;
  replayJournals(db.data, journals, index);
  const newest = journals.replayed[journals.replayed.length - 1];
  if (newest?.contents.droppedLine != null) {
    log(
      `keyport: ${newest.file}:${newest.contents.droppedLine}: dropped an incomplete last line ` +
        '(a write cut off by a crash; it was never acknowledged)',
    );
    // Cut off now, so that nothing is ever appended after it (which would make it a middle line).
    if (newest !== journals.current) await truncate(newest.file, newest.contents.validBytes);
  }
  if (!adapter.existed) await db.write();
  const current = journals.current;
  let lastGeneration = docGeneration - 1;
  for (const j of journals.replayed) lastGeneration = j.contents.generation ?? lastGeneration;
  const writer =
    current && current.contents.generation !== null
      ? await JournalWriter.reopen(current.file, current.contents.generation, current.contents.validBytes)
      : await JournalWriter.create(dir, Math.max(docGeneration, lastGeneration + 1));
  await removeStale(journals.stale);
  let unfolded = 0;
  for (const j of journals.replayed) if (j.contents.batches.length > 0) unfolded += j.contents.validBytes;
  const document = {
    write: async (data: StoreData): Promise<void> => {
      db.data = data;
      await db.write();
    },
    get bytes(): number {
      return adapter.bytes;
    },
  };
  return new JournaledStore({ dir, data: db.data, index, document, writer, unfoldedBytes: unfolded, log, options });
}

/**
 * What the disk holds in `dir` (document + journals replayed), read without writing anything:
 * refused like openLowdbStore would refuse it; null when there is no keyport.json. For tests and
 * tools; a running owner may be appending meanwhile (read the lock first).
 */
export async function readStoreDir(dir: string): Promise<StoreData | null> {
  const adapter = new KeyportFile(join(dir, STORE_FILE), {});
  const data = await adapter.read();
  if (!data) return null;
  replayJournals(data, await readJournals(dir, data.journal ?? 0));
  return data;
}
