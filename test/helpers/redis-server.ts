// A real redis-server for cluster tests (Debian's redis-server; .ci/run installs it): its own temp
// directory, a free loopback port, no persistence to disk unless asked. Resolves once Redis says it
// accepts connections; stop() ends it (SIGTERM, then SIGKILL) and removes the directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** A port free right now (Redis cannot be told to pick one: `--port 0` disables TCP). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function startOnce(port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume(); // keep draining so Redis never blocks on a full pipe
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', (err) =>
      reject(new Error(`cannot start redis-server (apt-get install -y redis-server): ${err.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code} before it was ready:\n${out}`)));
  });
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-redis-'));
  let lastErr: unknown;
  // The free port may be taken between freePort() and Redis binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      const child = await startOnce(port, dir, extraArgs);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        dir,
        process: child,
        stop: () => stopRedis(child, dir),
      };
    } catch (err) {
      lastErr = err;
      if (!String(err).includes('Address already in use')) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

function stopRedis(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
    // Redis exits on SIGTERM at once with no persistence configured; 5 s means it is stuck.
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
