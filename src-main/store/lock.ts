// One process owns a data directory at a time (docs/design.md §11). The owner holds <dataDir>/keyport.lock,
// a JSON document {pid, startedAt, httpPort?, url?, adminTokenFile?} (mode 0600) saying how to
// reach it, so a CLI command can go through the owning server's API instead of racing on the file.
//
// The lock is created exclusively and whole (createFileExclusive: a temp file hard-linked to
// keyport.lock, so nobody ever reads a half-written lock).
// A lock whose pid is no longer alive is stale and is replaced. A lock naming THIS process's pid
// that this process does not hold is stale too: in a container Keyport is often pid 1 on every
// run, so the lock left by a kill -9 of the previous run carries our own pid.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, writeFileAtomic } from '../shared/atomic-write.ts';
import { isProcessAlive } from '../shared/process-alive.ts';

export { isProcessAlive };

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
    // No address yet: a server that is still starting (it writes its URL once listening) or
    // another keyport command; either way the lock goes or gains an address within moments.
    const why = reach
      ? ` (${reach})`
      : ', which has no server address yet (a server still starting, or another keyport command): try again in a moment';
    super(`data directory ${dir} is in use by Keyport process ${lock.pid}${why}`);
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

/**
 * Locks this process holds or is taking ("file\nstartedAt" -> how many): our own pid in any other
 * lock means stale. Counted from before the create, so a concurrent acquire in this process never
 * takes a lock that is being made for mine as stale.
 */
const heldHere = new Map<string, number>();

function hold(key: string, delta: 1 | -1): void {
  const n = (heldHere.get(key) ?? 0) + delta;
  if (n > 0) heldHere.set(key, n);
  else heldHere.delete(key);
}

function holderAlive(file: string, holder: LockInfo): boolean {
  if (holder.pid === process.pid) return heldHere.has(`${file}\n${holder.startedAt}`);
  return isProcessAlive(holder.pid);
}

class HeldLock implements DataDirLock {
  #info: LockInfo;
  #released = false;

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
    if (this.#released) return;
    this.#released = true;
    hold(`${this.file}\n${this.#info.startedAt}`, -1);
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
    const key = `${file}\n${mine.startedAt}`;
    hold(key, 1);
    let created = false;
    try {
      created = await createFileExclusive(file, serialize(mine), { mode: 0o600 });
    } finally {
      if (!created) hold(key, -1);
    }
    if (created) return new HeldLock(dir, file, mine);
    const text = await readRaw(file);
    if (text === null) continue; // released meanwhile: try again
    const holder = parseLock(file, text);
    if (holderAlive(file, holder)) throw new DataDirLockedError(dir, holder);
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
