// Every file Keyport writes goes through here: the store, pepper.key, the admin token, the TLS
// certificate and key, the lock file and the simulator's credentials.
//
// writeFileAtomic keeps steno's idea (temp file + rename, so a reader or a crash sees the old file
// or the new one, never half of one) and adds mode 0600, fsync of the file and its directory, and
// removal of the temp file on failure. createFileExclusive is the same for a file that must not
// exist yet (hard link instead of rename: link fails with EEXIST).
//
// Temp files are named `.<name>.<pid>.<n>.tmp` next to their target, so a temp file left by a
// process killed mid-write can be attributed to that process and removed once it is dead
// (temp-files.ts). Every failure is a FileWriteError naming the file and what went wrong.
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  mode?: number;
  beforeRename?: (tempFile: string) => void | Promise<void>;
}

/** Temp files this process has in flight (never swept, even though this pid is alive anyway). */
export const tempFilesInFlight = new Set<string>();

let tempCounter = 0;

/** `.<name>.<pid>.<n>.tmp` next to `file`. */
export function tempFileFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${++tempCounter}.tmp`);
}

/** The pid in a temp file name made by tempFileFor, or null when it is not one of ours. */
export function tempFilePid(name: string): number | null {
  const m = /^\.(.+)\.(\d{1,10})\.(\d{1,15})\.tmp$/.exec(name);
  if (!m) return null;
  const pid = Number(m[2]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

const WHAT: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EIO: 'I/O error',
  ENOENT: 'directory missing',
};

/**
 * A file could not be written (disk full, read-only, permission, I/O error). The file is as it
 * was before the write; `code` is the errno code (ENOSPC, EROFS, EACCES, EIO, …).
 */
export class FileWriteError extends Error {
  readonly code: string;
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
    const what = WHAT[code];
    super(
      what
        ? `${what} writing ${file} (${code})`
        : `cannot write ${file} (${code}: ${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.name = 'FileWriteError';
    this.code = code;
  }
}

function asWriteError(file: string, err: unknown): unknown {
  if (err instanceof FileWriteError) return err;
  // Errors thrown by a beforeRename hook that are not file-system errors pass through unchanged.
  return typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string' ? new FileWriteError(file, err) : err;
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  // Windows refuses to replace a file another process (an indexer, an antivirus) has open for a
  // moment; steno retries too. Elsewhere rename over an existing file is atomic and just works.
  for (let attempt = 1; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = process.platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY');
      if (!transient || attempt >= 10) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable. Not possible on every platform (Windows): best effort.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // ignored: the data itself was fsynced before the rename
  }
}

/**
 * What a file is written from: its whole text or bytes, or slices of text produced while it is
 * written (store-serializer.ts: a big store is serialised a few milliseconds at a time).
 */
export type FileData = string | Uint8Array | AsyncIterable<string>;

/** Writes a fresh temp file for `file` with `data`, fsynced, mode `mode`. Returns its path. */
async function writeTemp(file: string, data: FileData, mode: number): Promise<string> {
  const temp = tempFileFor(file);
  tempFilesInFlight.add(temp);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode); // the umask may have narrowed it; never widened past `mode`
      if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
      // Each writeFile on a handle goes on from where the last one stopped.
      else for await (const slice of data) await handle.writeFile(slice);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await removeTemp(temp);
    throw err;
  }
  return temp;
}

async function removeTemp(temp: string): Promise<void> {
  await rm(temp, { force: true }).catch(() => undefined); // best effort: the start-up sweep gets the rest
  tempFilesInFlight.delete(temp);
}

/**
 * Replaces `file` atomically: writes a uniquely named temp file next to it (created fresh, with
 * `mode`, default 0600), fsyncs it, renames it over `file`, fsyncs the directory. On failure the
 * temp file is removed, `file` is untouched, and a FileWriteError says what went wrong.
 */
export async function writeFileAtomic(file: string, data: FileData, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  let temp: string | undefined;
  try {
    temp = await writeTemp(file, data, mode);
    await options.beforeRename?.(temp);
    await renameWithRetry(temp, file);
    tempFilesInFlight.delete(temp);
  } catch (err) {
    if (temp !== undefined) await removeTemp(temp);
    throw asWriteError(file, err);
  }
  await syncDirectory(dirname(file));
}

/**
 * Creates `file` whole, with `data` and `mode` (default 0600), only if it does not exist yet:
 * false when it already exists. Nobody ever sees it half-written: the temp file is hard-linked to
 * `file`. Where hard links are unsupported it falls back to an exclusive create, then a write.
 */
export async function createFileExclusive(
  file: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<boolean> {
  const mode = options.mode ?? 0o600;
  let temp: string | undefined;
  try {
    temp = await writeTemp(file, data, mode);
    await link(temp, file);
    await syncDirectory(dirname(file));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (temp === undefined || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV'))
      throw asWriteError(file, err);
  } finally {
    if (temp !== undefined) await removeTemp(temp);
  }
  return createWithoutLink(file, data, mode);
}

async function createWithoutLink(file: string, data: string | Uint8Array, mode: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw asWriteError(file, err);
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(file, { force: true }).catch(() => undefined);
    throw asWriteError(file, err);
  }
  await handle.close();
  return true;
}
