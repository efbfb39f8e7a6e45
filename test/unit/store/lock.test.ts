// The data directory lock: one owner at a time, stale locks replaced, never someone else's removed.
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, DataDirLockedError, LOCK_FILE, LockFileError, readLock } from '../../../src-main/store/lock.ts';
import type { DataDirLock, LockInfo } from '../../../src-main/store/lock.ts';
import { makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
const locks: DataDirLock[] = [];

async function tempDir(): Promise<string> {
  const dir = await makeTempDir();
  dirs.push(dir);
  return dir;
}

async function acquire(dir: string, info: Parameters<typeof acquireLock>[1] = {}): Promise<DataDirLock> {
  const lock = await acquireLock(dir, info);
  locks.push(lock);
  return lock;
}

afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

/** The pid of a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

async function readLockFile(dir: string): Promise<LockInfo> {
  return JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
}

describe('acquireLock', () => {
  it('writes the lock file (0600) with pid, startedAt and how to reach the owner', async () => {
    const dir = await tempDir();
    const lock = await acquire(dir, { url: 'http://127.0.0.1:5555', adminTokenFile: '/x/token' });
    const onDisk = await readLockFile(dir);
    expect(onDisk).toEqual({
      pid: process.pid,
      startedAt: expect.any(String),
      url: 'http://127.0.0.1:5555',
      adminTokenFile: '/x/token',
    });
    expect(lock.info).toEqual(onDisk);
    expect(lock.file).toBe(join(dir, LOCK_FILE));
    if (process.platform !== 'win32') expect((await stat(lock.file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('creates a missing data directory', async () => {
    const dir = join(await tempDir(), 'new');
    await acquire(dir);
    expect(readLock(dir)?.pid).toBe(process.pid);
  });

  it('a second acquire while the owner lives fails with DataDirLockedError naming the pid', async () => {
    const dir = await tempDir();
    await acquire(dir, { url: 'http://127.0.0.1:5555' });
    const err = await acquireLock(dir, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).lock.pid).toBe(process.pid);
    expect((err as Error).message).toBe(
      `data directory ${dir} is in use by Keyport process ${process.pid} (http://127.0.0.1:5555)`,
    );
  });

  it('a holder with no address yet (starting, or a CLI command) is named as such, with what to do', async () => {
    const dir = await tempDir();
    await acquire(dir);
    await expect(acquireLock(dir, {})).rejects.toThrow(
      `data directory ${dir} is in use by Keyport process ${process.pid}, which has no server address yet (a server still starting, or another keyport command): try again in a moment`,
    );
  });

  it('replaces a stale lock left by a process that exited', async () => {
    const dir = await tempDir();
    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00.000Z' }));
    expect(readLock(dir)).toBeNull();
    const lock = await acquire(dir, { httpPort: 4000 });
    expect(lock.info.pid).toBe(process.pid);
    expect((await readLockFile(dir)).httpPort).toBe(4000);
  });

  it('replaces a lock with our own pid that this process does not hold (pid 1 again in a container after kill -9)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, startedAt: '2026-01-01T00:00:00.000Z' }));
    const lock = await acquire(dir);
    expect(lock.info.startedAt).not.toBe('2026-01-01T00:00:00.000Z');
    expect((await readLockFile(dir)).startedAt).toBe(lock.info.startedAt);
    await expect(acquireLock(dir)).rejects.toBeInstanceOf(DataDirLockedError); // but ours, held, stays ours
  });

  it('leaves no temp file behind, whoever wins', async () => {
    const dir = await tempDir();
    await Promise.allSettled(Array.from({ length: 4 }, () => acquire(dir)));
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('refuses a corrupt lock file with an error naming the file, and leaves it', async () => {
    const dir = await tempDir();
    const file = join(dir, LOCK_FILE);
    await writeFile(file, '{"pid": "twelve"');
    await expect(acquireLock(dir, {})).rejects.toThrow(LockFileError);
    await expect(acquireLock(dir, {})).rejects.toThrow(file);
    expect(() => readLock(dir)).toThrow(LockFileError);
    expect(await readFile(file, 'utf8')).toBe('{"pid": "twelve"');
  });

  it('only one of many concurrent acquires wins', async () => {
    const dir = await tempDir();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dir, {})));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    locks.push((won[0] as PromiseFulfilledResult<DataDirLock>).value);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DataDirLockedError);
    }
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });
});

describe('DataDirLock', () => {
  it('update() rewrites the lock, keeping pid and startedAt', async () => {
    const dir = await tempDir();
    const lock = await acquire(dir, { adminTokenFile: '/t' });
    const startedAt = lock.info.startedAt;
    await lock.update({ httpPort: 5555, url: 'http://127.0.0.1:5555' });
    const expected = {
      pid: process.pid,
      startedAt,
      adminTokenFile: '/t',
      httpPort: 5555,
      url: 'http://127.0.0.1:5555',
    };
    expect(await readLockFile(dir)).toEqual(expected);
    expect(lock.info).toEqual(expected);
    expect(readLock(dir)).toEqual(expected);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('release() removes the lock, and a new owner can take it', async () => {
    const dir = await tempDir();
    const lock = await acquire(dir);
    await lock.release();
    expect(readLock(dir)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
    await lock.release();
    await acquire(dir);
  });

  it('release() and update() leave a lock that is no longer ours alone', async () => {
    const dir = await tempDir();
    const lock = await acquire(dir);
    const other = { pid: process.pid, startedAt: 'someone else' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(other));
    await expect(lock.update({ httpPort: 1 })).rejects.toThrow(LockFileError);
    await lock.release();
    expect(await readLockFile(dir)).toEqual(other);
  });
});

describe('readLock', () => {
  it('returns null without a lock file, the owner while it lives', async () => {
    const dir = await tempDir();
    expect(readLock(dir)).toBeNull();
    await acquire(dir, { httpPort: 80 });
    expect(readLock(dir)).toMatchObject({ pid: process.pid, httpPort: 80 });
  });
});
