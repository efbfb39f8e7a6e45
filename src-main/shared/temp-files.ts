// Crash leftovers: a process killed in the middle of writeFileAtomic leaves its temp file
// (`.<name>.<pid>.<n>.tmp`, up to the size of the store) behind. At start the owner of a data
// directory removes those of processes that are gone, and says so; a live process's temp file is
// never touched (it may be renaming it into place right now).
//
// This process's own pid counts as gone for temp files it does not have in flight: in a container
// Keyport is often pid 1 on every run, so a leftover from the previous run carries our pid.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tempFilePid, tempFilesInFlight } from './atomic-write.ts';
import { isProcessAlive } from './process-alive.ts';

export interface RemovedTempFile {
  file: string;
  bytes: number;
  pid: number;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function isLeftover(file: string, pid: number): boolean {
  if (pid === process.pid) return !tempFilesInFlight.has(file);
  return !isProcessAlive(pid);
}

/**
 * Removes the temp files of dead processes in `dirs` (a missing directory is skipped), logging one
 * line per file with its size. Returns what was removed. Never throws for a file it cannot remove:
 * that is logged and left.
 */
export async function removeLeftoverTempFiles(
  dirs: readonly string[],
  log: (line: string) => void,
): Promise<RemovedTempFile[]> {
  const removed: RemovedTempFile[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // no such directory (yet): nothing left over in it
    }
    for (const name of names) {
      const pid = tempFilePid(name);
      const file = join(dir, name);
      if (pid === null || !isLeftover(file, pid)) continue;
      try {
        const { size } = await stat(file);
        await rm(file);
        removed.push({ file, bytes: size, pid });
        log(
          `keyport: removed ${file} (${formatBytes(size)}), a temp file left by process ${pid} which stopped mid-write`,
        );
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') log(`keyport: could not remove leftover temp file ${file}: ${(err as Error).message}`);
      }
    }
  }
  return removed;
}
