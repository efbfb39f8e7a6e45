// Starts Debian's mosquitto as the outside baseline: its own temp directory, a password file made
// with `mosquitto_passwd -b`, `allow_anonymous false`, one listener on a free 127.0.0.1 port,
// persistence off. Killed by stop(), and also on process exit, error or SIGINT (cleanup.ts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface Mosquitto {
  port: number;
  pid: number;
  version: string;
  /** user + system CPU of the mosquitto process so far, in ms (from /proc/<pid>/stat). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (bounded). */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** user + system CPU time of a process in ms, read from /proc/<pid>/stat (Linux). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** "mosquitto version 2.0.11" (`mosquitto -h` prints it and exits 3). */
export function mosquittoVersion(): string {
  let out: string;
  try {
    out = execFileSync(MOSQUITTO, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = String((e as { stdout?: unknown }).stdout ?? '');
  }
  return out.split('\n')[0]?.trim() || 'mosquitto (version unknown)';
}

export async function startMosquitto(users: readonly { username: string; password: string }[]): Promise<Mosquitto> {
  if (users.length === 0) throw new Error('mosquitto needs at least one user');
  const dir = mkdtempSync(join(tmpdir(), 'keyport-bench-mosquitto-'));
  const passwd = join(dir, 'passwd');
  users.forEach((u, i) => {
    execFileSync(
      MOSQUITTO_PASSWD,
      i === 0 ? ['-c', '-b', passwd, u.username, u.password] : ['-b', passwd, u.username, u.password],
      { stdio: 'pipe' },
    );
  });
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // When run as root mosquitto drops to user "mosquitto", which could not read this 0700 dir.
      `user ${userInfo().username}`,
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${passwd}`,
      `listener ${port} 127.0.0.1`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const version = mosquittoVersion();
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const pid = child.pid;
  const unregister = onExit(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (pid === undefined) throw new Error('mosquitto did not start');
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`mosquitto exited at start: ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    unregister();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid,
    version,
    cpuMs: () => procCpuMs(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
      unregister();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
