// `npm run serve` under a supervisor: the supervisor's SIGTERM reaches npm only (npm exits 143
// without waiting for its child). The server must notice that its parent is gone, close cleanly
// and release the lock, instead of running on orphaned and holding the data directory.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from '../helpers/cli.ts';

const cleanups: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Whether `pid` still runs: exited processes waiting to be reaped (zombies) do not count. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

// Linux: the grandparent watch reads /proc (see src-main/cli/parent-watch.ts).
describe.runIf(process.platform === 'linux')('serve whose parent goes away', () => {
  // npm + tsx start-up on a busy 2-core machine, then the poll (500 ms) and the shutdown.
  it('npm run serve: SIGTERM to npm alone stops the server and removes the lock', async () => {
    const t = await tempDir('keyport-fault-parent-');
    cleanups.push(t.remove);
    const env: NodeJS.ProcessEnv = { ...process.env, KEYPORT_DATA: t.dir };
    delete env.NODE_OPTIONS; // vitest's loader hooks must not leak into the child
    const ports = ['--mqtt-port', '0', '--ws-port', '0', '--tls-port', '0', '--http-port', '0'];
    const npm = spawn('npm', ['run', '--silent', 'serve', '--', '--json', ...ports], {
      cwd: REPO,
      env,
      detached: true, // its own process group, as under a supervisor; we signal npm's pid only
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => {
      try {
        process.kill(-npm.pid!, 'SIGKILL'); // whatever is left of the group if the test failed
      } catch {
        // already gone
      }
    });
    let stderr = '';
    npm.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const outputClosed = new Promise<void>((resolve) => npm.stdout!.once('close', () => resolve()));
    // The ready line is the first stdout line that is JSON (npm may print its own lines first).
    const ready = await new Promise<{ http: number }>((resolve, reject) => {
      const rl = createInterface({ input: npm.stdout! });
      rl.on('line', (line) => {
        try {
          resolve(JSON.parse(line) as { http: number });
          rl.close();
        } catch {
          // not the ready line
        }
      });
      npm.once('exit', (code) => reject(new Error(`npm exited (${code}) before the server was ready: ${stderr}`)));
    });
    expect(ready.http).toBeGreaterThan(0);
    const lockFile = join(t.dir, 'keyport.lock');
    const serverPid = (JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number }).pid;
    expect(serverPid).not.toBe(npm.pid);

    const npmExit = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    process.kill(npm.pid!, 'SIGTERM');
    await npmExit;
    // The pipe closes once its last writer, the server, has exited.
    await outputClosed;
    expect(running(serverPid), 'the server still runs after its parent exited').toBe(false);
    expect(existsSync(lockFile), 'the lock is still there').toBe(false);
    expect(stderr).toContain('the parent process exited; stopping');
    console.log(`fault parent-death: npm ${npm.pid} got SIGTERM, server ${serverPid} exited and released the lock`);
    // 60 s: `npm run serve` starts npm, then Node with the server (a TLS key on first use), then
    // the server notices its parent is gone; a few seconds idle, far more on a loaded 2-core machine.
  }, 60_000);
});
