// The one module every Keyport file write goes through: atomic replace, exclusive create, temp
// files named after their pid, and a FileWriteError that says what went wrong and where.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createFileExclusive,
  FileWriteError,
  tempFilePid,
  tempFilesInFlight,
  writeFileAtomic,
} from '../../../src-main/shared/atomic-write.ts';
import { makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const posix = process.platform !== 'win32';
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await makeTempDir();
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('writeFileAtomic', () => {
  it('writes through a temp file named .<name>.<pid>.<n>.tmp, mode 0600, and leaves only the file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'keyport.json');
    let seen = '';
    await writeFileAtomic(file, 'hello\n', {
      beforeRename: (temp) => {
        seen = temp;
        expect(tempFilesInFlight.has(temp)).toBe(true);
      },
    });
    expect(basename(seen)).toMatch(new RegExp(`^\\.keyport\\.json\\.${process.pid}\\.\\d+\\.tmp$`));
    expect(tempFilePid(basename(seen))).toBe(process.pid);
    expect(tempFilesInFlight.has(seen)).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('hello\n');
    expect(await readdir(dir)).toEqual(['keyport.json']);
    if (posix) expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('a failed write leaves the old file byte-identical, removes its temp file and names file and cause', async () => {
    const dir = await tempDir();
    const file = join(dir, 'keyport.json');
    await writeFile(file, 'old');
    const err = await writeFileAtomic(file, 'new', {
      beforeRename: () => {
        throw errno('ENOSPC');
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileWriteError);
    expect((err as FileWriteError).code).toBe('ENOSPC');
    expect((err as Error).message).toBe(`disk full writing ${file} (ENOSPC)`);
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['keyport.json']);
  });

  it('a directory that does not exist is a FileWriteError too, not a raw errno', async () => {
    const file = join(await tempDir(), 'missing', 'x.json');
    await expect(writeFileAtomic(file, 'x')).rejects.toThrow(`directory missing writing ${file} (ENOENT)`);
  });

  it.each([
    ['EROFS', 'read-only file system'],
    ['EACCES', 'permission denied'],
    ['EIO', 'I/O error'],
    ['EDQUOT', 'disk quota exceeded'],
  ])('%s reads as "%s writing FILE (%s)"', (code, what) => {
    expect(new FileWriteError('/d/keyport.json', errno(code)).message).toBe(
      `${what} writing /d/keyport.json (${code})`,
    );
  });

  it('an unknown code keeps the original message', () => {
    expect(new FileWriteError('/d/f', errno('EWEIRD')).message).toBe('cannot write /d/f (EWEIRD: EWEIRD: simulated)');
  });
});

describe('createFileExclusive', () => {
  it('creates a missing file whole, and refuses (false) to touch an existing one', async () => {
    const dir = await tempDir();
    const file = join(dir, 'pepper.key');
    expect(await createFileExclusive(file, Buffer.from('first'))).toBe(true);
    expect(await createFileExclusive(file, Buffer.from('second'))).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['pepper.key']);
    if (posix) expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('of many concurrent creates exactly one wins and its content is the file', async () => {
    const file = join(await tempDir(), 'admin-token');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => createFileExclusive(file, `v${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`v${results.indexOf(true)}`);
  });
});

describe('tempFilePid', () => {
  it('reads the pid from our temp names only', () => {
    expect(tempFilePid('.keyport.json.1234.7.tmp')).toBe(1234);
    expect(tempFilePid('.keyport.lock.1.1.tmp')).toBe(1);
    expect(tempFilePid('.keyport.json.tmp')).toBeNull(); // steno's name: not attributable
    expect(tempFilePid('keyport.json')).toBeNull();
    expect(tempFilePid('.x.0.1.tmp')).toBeNull();
  });
});
