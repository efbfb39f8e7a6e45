// Crash leftovers: temp files of dead processes are removed at start (with a log line naming the
// file and its size); a live process's temp file, or one this process is writing, is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src-main/shared/atomic-write.ts';
import { removeLeftoverTempFiles } from '../../../src-main/shared/temp-files.ts';
import { makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await makeTempDir();
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid as number;
}

describe('removeLeftoverTempFiles', () => {
  it('removes a dead process temp file with a log line naming it and its size, and nothing else', async () => {
    const dir = await tempDir();
    const pid = deadPid();
    const leftover = join(dir, `.keyport.json.${pid}.3.tmp`);
    await writeFile(leftover, Buffer.alloc(2048, 1));
    await writeFile(join(dir, 'keyport.json'), '{}');
    await writeFile(join(dir, '.keyport.json.tmp'), 'steno'); // not ours to judge
    const lines: string[] = [];
    const removed = await removeLeftoverTempFiles([dir, join(dir, 'no-such-dir')], (l) => lines.push(l));
    expect(removed).toEqual([{ file: leftover, bytes: 2048, pid }]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(leftover);
    expect(lines[0]).toContain('2.0 KB');
    expect(lines[0]).toContain(`process ${pid}`);
    expect((await readdir(dir)).sort()).toEqual(['.keyport.json.tmp', 'keyport.json']);
  });

  it('keeps the temp file of a live process', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const live = join(dir, `.keyport.json.${child.pid}.1.tmp`);
      await writeFile(live, 'in flight');
      expect(await removeLeftoverTempFiles([dir], () => {})).toEqual([]);
      expect(await readdir(dir)).toEqual([`.keyport.json.${child.pid}.1.tmp`]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("this process's own pid: a write in flight is kept, a leftover from an earlier run (pid 1 in a container) goes", async () => {
    const dir = await tempDir();
    const old = join(dir, `.keyport.json.${process.pid}.999999.tmp`);
    await writeFile(old, 'previous run');
    let during: string[] = [];
    await writeFileAtomic(join(dir, 'keyport.json'), 'x', {
      beforeRename: async () => {
        during = (await removeLeftoverTempFiles([dir], () => {})).map((r) => r.file);
      },
    });
    expect(during).toEqual([old]);
    expect(await readdir(dir)).toEqual(['keyport.json']);
  });
});
