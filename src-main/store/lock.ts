// One process owns a data directory at a time (SPEC §11). The owner holds <dataDir>/keyport.lock,
// a JSON document {pid, startedAt, httpPort?, url?, adminTokenFile?} (mode 0600) saying how to
// reach it, so a CLI command can go through the owning server's API instead of racing on the file.
//
// The lock is created exclusively and whole: the content is written to a temp file which is then
// hard-linked to keyport.lock (link fails with EEXIST if a lock exists), so nobody ever reads a
// half-written lock. Where hard links are unsupported it falls back to open(..., 'wx').
// A lock whose pid is no longer alive is stale and is replaced.
import { readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../shared/atomic-write.ts';

export const LOCK_FILE = 'keyport.lock';

/** How to reach the owner of a data directory. */
export interface LockDetails {
  httpPort?: number;
  url?: string;
  adminTokenFile?: string;
}

export interface LockInfo extends LockDetails {
  pid: number;
  startedAt: string;
}

export interface DataDirLock {
  readonly dir: string;
  readonly file: string;
  /** What the lock file currently says. */
  readonly info: LockInfo;
  /** Merges `details` into the lock file (e.g. the HTTP port once listening). */
  update(details: LockDetails): Promise<void>;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

/** The data directory is owned by another live Keyport process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly lock: LockInfo,
  ) {
    const reach = lock.url ?? (lock.httpPort !== undefined ? `HTTP port ${lock.httpPort}` : undefined);
    super(`data directory ${dir} is in use by Keyport process ${lock.pid}${reach ? ` (${reach})` : ''}`);
    this.name = 'DataDirLockedError';
  }
}

/** A lock file that is not a Keyport lock. Left as it is: a person has to look at it. */
export class LockFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'LockFileError';
  }
}

function parseLock(file: string, text: string): LockInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LockFileError(file, `not a valid lock file: ${(err as Error).message}`);
  }
  const bad = (problem: string): never => {
    throw new LockFileError(file, `not a valid lock file: ${problem}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0) bad('pid: must be a positive integer');
  if (typeof o.startedAt !== 'string') bad('startedAt: must be a string');
  if (o.httpPort !== undefined && !Number.isSafeInteger(o.httpPort)) bad('httpPort: must be an integer');
  if (o.url !== undefined && typeof o.url !== 'string') bad('url: must be a string');
  if (o.adminTokenFile !== undefined && typeof o.adminTokenFile !== 'string') bad('adminTokenFile: must be a string');
  return raw as LockInfo;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function serialize(info: LockInfo): string {
  return `${JSON.stringify(info, null, 2)}\n`;
}

function pickDetails(details: LockDetails): LockDetails {
  const out: LockDetails = {};
  if (details.httpPort !== undefined) out.httpPort = details.httpPort;
  if (details.url !== undefined) out.url = details.url;
  if (details.adminTokenFile !== undefined) out.adminTokenFile = details.adminTokenFile;
  return out;
}

async function readRaw(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

let tempCounter = 0;

/** Creates `file` with `text` only if it does not exist. False when it already exists. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${++tempCounter}.tmp`;
  try {
    await writeFileAtomic(temp, text, { mode: 0o600 });
    await link(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
  } finally {
    await rm(temp, { force: true });
  }
  // No hard links on this file system: exclusive create, then write.
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

class HeldLock implements DataDirLock {
  #info: LockInfo;

  constructor(
    readonly dir: string,
    readonly file: string,
    info: LockInfo,
  ) {
    this.#info = info;
  }

  get info(): LockInfo {
    return { ...this.#info };
  }

  async #stillOurs(): Promise<boolean> {
    const text = await readRaw(this.file);
    if (text === null) return false;
    try {
      const current = parseLock(this.file, text);
      return current.pid === this.#info.pid && current.startedAt === this.#info.startedAt;
    } catch {
      return false;
    }
  }

  async update(details: LockDetails): Promise<void> {
    if (!(await this.#stillOurs())) {
      throw new LockFileError(this.file, `no longer held by this process (${this.#info.pid})`);
    }
    const next: LockInfo = { ...this.#info, ...pickDetails(details) };
    await writeFileAtomic(this.file, serialize(next), { mode: 0o600 });
    this.#info = next;
  }

  async release(): Promise<void> {
    if (await this.#stillOurs()) await rm(this.file, { force: true });
  }
}

/**
 * Takes the data directory lock (creating `dir`, 0700, if needed). Throws DataDirLockedError when
 * a live process holds it (this one included), LockFileError when the lock file is not a lock.
 * A stale lock (its process is gone) is replaced.
 */
export async function acquireLock(dir: string, details: LockDetails = {}): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), ...pickDetails(details) };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(file, serialize(mine))) return new HeldLock(dir, file, mine);
    const text = await readRaw(file);
    if (text === null) continue; // released meanwhile: try again
    const holder = parseLock(file, text);
    if (isProcessAlive(holder.pid)) throw new DataDirLockedError(dir, holder);
    // Stale. Remove it only if it is still the same stale lock: if another process replaced it
    // in the meantime we must not delete theirs. (A window remains between this read and the rm;
    // the exclusive create below still guarantees at most one winner among those who get there.)
    if ((await readRaw(file)) === text) await rm(file, { force: true });
  }
  const text = await readRaw(file);
  const holder = text === null ? null : parseLock(file, text);
  if (holder) throw new DataDirLockedError(dir, holder);
  throw new LockFileError(file, 'could not be created (it kept changing while trying)');
}

/**
 * Who owns `dir`, or null when nobody does (no lock file, or a stale one).
 * Throws LockFileError when the lock file is not a valid lock.
 */
export function readLock(dir: string): LockInfo | null {
  const file = join(dir, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const info = parseLock(file, text);
  return isProcessAlive(info.pid) ? info : null;
}
