// Atomic file replacement (temp file + fsync + rename + directory fsync), shared by every file
// Keyport writes. Moved here from store/lowdb-store.ts unchanged.
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  mode?: number;
  beforeRename?: (tempFile: string) => void | Promise<void>;
}

let tempCounter = 0;

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

async function syncDirectory(dir: string): Promise<void> {
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
 * Replaces `file` atomically: writes a uniquely named temp file next to it (created fresh, with
 * `mode`, default 0600), fsyncs it, renames it over `file`, fsyncs the directory. On failure the
 * temp file is removed and `file` is untouched.
 */
export async function writeFileAtomic(file: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode); // the umask may have narrowed it; never widened past `mode`
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.(temp);
    await renameWithRetry(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(file));
}
