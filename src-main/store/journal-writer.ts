// Appending to the journal (format: journal-format.ts). One batch line per store write, written at
// the end of what is known to be good and fsynced before the write resolves ("acknowledged means
// on disk"). A failed append is cut off again (ftruncate to the last good byte), so a refused batch
// never stays in the file to be replayed; if even that fails, the next append tries again first and
// fails the same way until it can.
//
// The file is opened for each append and closed after it (two system calls beside the fsync): a
// file held open for writing would keep an administrator from remounting the disk read-only.
//
// rotate() starts a new generation for compaction: the current file is renamed to
// keyport.journal.<generation> (fsynced directory), and a fresh keyport.journal with the next
// generation's header is created whole (temp file + rename, shared/atomic-write.ts).
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileWriteError, syncDirectory, writeFileAtomic } from '../shared/atomic-write.ts';
import { JOURNAL_FILE, journalHeader, rotatedJournalName } from './journal-format.ts';

export type CommitHook = (file: string) => void | Promise<void>;

function asWriteError(file: string, err: unknown): unknown {
  if (err instanceof FileWriteError) return err;
  return typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string' ? new FileWriteError(file, err) : err;
}

export class JournalWriter {
  /** The file appended to: keyport.journal (or, after a rotation that could not finish, the renamed file). */
  #file: string;
  /** Bytes known to be good (header + whole acknowledged lines). */
  #size: number;
  readonly #headerBytes: number;
  /** A failed append may have left bytes past #size. */
  #dirty = false;

  private constructor(
    file: string,
    size: number,
    readonly generation: number,
  ) {
    this.#file = file;
    this.#size = size;
    this.#headerBytes = Buffer.byteLength(journalHeader(generation));
  }

  /** A fresh keyport.journal of `generation` in `dir` (replacing any there). */
  static async create(dir: string, generation: number): Promise<JournalWriter> {
    const file = join(dir, JOURNAL_FILE);
    const header = journalHeader(generation);
    await writeFileAtomic(file, header, { mode: 0o600 });
    return new JournalWriter(file, Buffer.byteLength(header), generation);
  }

  /**
   * The existing journal `file`, appended to from `validBytes` (journal-reader.ts): an incomplete
   * last line a crash left there is cut off now, before anything is appended after it.
   */
  static async reopen(file: string, generation: number, validBytes: number): Promise<JournalWriter> {
    if ((await fileBytes(file)) > validBytes) {
      let handle: FileHandle | undefined;
      try {
        handle = await open(file, 'r+');
        await handle.truncate(validBytes);
        await handle.sync();
      } catch (err) {
        throw asWriteError(file, err);
      } finally {
        await handle?.close();
      }
    }
    return new JournalWriter(file, validBytes, generation);
  }

  get file(): string {
    return this.#file;
  }

  /** Bytes of batches in this file (header excluded). */
  get batchBytes(): number {
    return this.#size - this.#headerBytes;
  }

  /** Appends one batch line and fsyncs it. `beforeCommit` (tests) runs first and may throw. */
  async append(line: string, beforeCommit?: CommitHook): Promise<number> {
    const bytes = Buffer.from(line, 'utf8');
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.#file, 'r+');
      if (this.#dirty) {
        await handle.truncate(this.#size);
        this.#dirty = false;
      }
      await beforeCommit?.(this.#file);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, this.#size + done);
        done += bytesWritten;
      }
      await handle.datasync();
      this.#size += bytes.length;
      return bytes.length;
    } catch (err) {
      // Whatever part of the line reached the file is cut off again (or before the next append).
      if (handle) {
        this.#dirty = true;
        await handle.truncate(this.#size).then(
          () => void (this.#dirty = false),
          () => undefined,
        );
      }
      throw asWriteError(this.#file, err);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /**
   * Closes this generation: renames it keyport.journal.<generation> and returns the writer of the
   * next generation. If the new file cannot be created, appends go on in the renamed file (it is
   * still the newest journal, so a load replays it last) and this rejects.
   */
  async rotate(): Promise<JournalWriter> {
    const dir = dirname(this.#file);
    const rotated = join(dir, rotatedJournalName(this.generation));
    if (this.#file !== rotated) {
      try {
        await rename(this.#file, rotated);
      } catch (err) {
        throw asWriteError(this.#file, err);
      }
      this.#file = rotated;
      await syncDirectory(dir);
    }
    return JournalWriter.create(dir, this.generation + 1);
  }
}

/** Size of `file` in bytes, or 0 when it cannot be read. */
export async function fileBytes(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}
