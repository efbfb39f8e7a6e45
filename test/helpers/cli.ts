// The `keyport` command as a user runs it: `node bin/keyport.mjs …` in a child process with a
// given KEYPORT_DATA. `keyport()` resolves with {code, stdout, stderr} once the process exits;
// `startServe()` spawns `keyport serve --json` on port 0 and resolves with the parsed ready line.
// Every wait is on a process event or a line of output, never a sleep.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO, 'bin', 'keyport.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment for a child: KEYPORT_DATA set, nothing inherited that would pick another dir. */
function childEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KEYPORT_DATA: dataDir };
  delete env.NODE_OPTIONS; // vitest's loader hooks must not leak into the child
  return env;
}

/** Runs `keyport ...args` with KEYPORT_DATA=dataDir; never rejects on a non-zero exit. */
export function keyport(dataDir: string, args: string[], timeoutMs = 15_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: childEnv(dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyport ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed (exit 0) and parses its --json output. */
export async function keyportJson<T = unknown>(dataDir: string, args: string[]): Promise<T> {
  const r = await keyport(dataDir, [...args, '--json']);
  if (r.code !== 0) throw new Error(`keyport ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `keyport serve --json` ready line (docs/design.md §12). */
export interface ReadyLine {
  mqtt: number;
  ws: number;
  tls: number;
  http: number;
  applicationId: string;
  dataDir: string;
  uiUrl: string;
  adminTokenFile: string;
}

export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  ready: ReadyLine;
  /** The ready line exactly as printed (without the newline). */
  readyText: string;
  stderr(): string;
  stdout(): string;
  /** Sends `signal` and resolves with the exit once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  /** Resolves when the process exits (for whatever reason). */
  exited: Promise<CliResult>;
}

const running = new Set<ChildProcess>();

/**
 * Spawns `keyport serve --json --mqtt-port 0 --ws-port 0 --tls-port 0 --http-port 0 ...extra`.
 * Resolves with the parsed first stdout line; rejects if the process exits before printing it.
 */
export function startServe(dataDir: string, extra: string[] = [], timeoutMs = 15_000): Promise<ServeProcess> {
  const args = [
    'serve',
    '--json',
    '--mqtt-port',
    '0',
    '--ws-port',
    '0',
    '--tls-port',
    '0',
    '--http-port',
    '0',
    ...extra,
  ];
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: childEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((res) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      res({ code, signal, stdout, stderr });
    });
  });
  return new Promise<ServeProcess>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyport serve printed no ready line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      clearTimeout(timer);
      rl.close();
      let ready: ReadyLine;
      try {
        ready = JSON.parse(line) as ReadyLine;
      } catch (err) {
        child.kill('SIGKILL');
        return reject(
          new Error(
            `the first line of keyport serve --json is not a JSON document: ${line} (${(err as Error).message})`,
          ),
        );
      }
      resolvePromise({
        child,
        pid: child.pid ?? 0,
        ready,
        readyText: line,
        stderr: () => stderr,
        stdout: () => stdout,
        exited,
        stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`keyport serve exited (${r.code ?? r.signal}) before it was ready: ${r.stderr}`));
    });
  });
}

/** Kills (SIGKILL) every serve process still running: for afterAll, after a failed test. */
export async function killAllServes(): Promise<void> {
  const all = [...running];
  await Promise.all(
    all.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('close', () => res());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** A fresh temp data directory and its removal. */
export async function tempDir(prefix = 'keyport-cli-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Parses a `KEY=value` .env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
