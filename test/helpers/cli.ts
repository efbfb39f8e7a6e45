// The `keyport` command in two forms.
//  - In this process (most tests): `keyport()` / `keyportJson()` / `startServe()` call the CLI's
//    main(argv, io) with captured stdout/stderr, an environment holding only KEYPORT_DATA (plus what
//    the test adds) and an emitter standing in for SIGINT/SIGTERM. No process start-up, so nothing
//    here waits on module loading; commands on different data directories may overlap.
//  - As a user runs it (the smoke tests): `keyportProcess()` / `startServeProcess()` spawn
//    `node bin/keyport.mjs ...`, which runs the built CLI in out/cli.
// Every wait is on a process event, a promise or a line of output, never a sleep.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { main } from '../../src-main/cli/main.ts';
import type { CliIo } from '../../src-main/cli/io.ts';

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

/** What an in-process run gets besides its arguments. */
export interface RunOptions {
  /** Added to the environment (which otherwise holds only KEYPORT_DATA). */
  env?: Record<string, string>;
  /** The whole of stdin. */
  stdin?: string;
  /**
   * For commands that run until a signal (simulate, serve): once stdout satisfies this, SIGTERM is
   * sent, once. They listen before they print anything (cli/stop-request.ts), so it is never lost.
   * The way to end a run on an event instead of a timer.
   */
  until?: (stdout: string) => boolean;
}

function captureIo(dataDir: string, opts: RunOptions, onStdout?: (text: string) => void) {
  const out = { stdout: '', stderr: '' };
  const signals = new EventEmitter();
  let sent = false;
  const io: CliIo = {
    stdout: {
      write: (t: string) => {
        out.stdout += t;
        onStdout?.(t);
        if (!sent && opts.until?.(out.stdout)) {
          sent = true;
          setImmediate(() => signals.emit('SIGTERM'));
        }
        return true;
      },
    },
    stderr: { write: (t: string) => ((out.stderr += t), true) },
    stdin: Readable.from(opts.stdin !== undefined ? [opts.stdin] : []),
    env: { KEYPORT_DATA: dataDir, ...opts.env },
    signals,
  };
  return { io, out, signals };
}

/** Runs `keyport ...args` in this process with KEYPORT_DATA=dataDir; never rejects on a non-zero exit. */
export async function keyport(dataDir: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const { io, out } = captureIo(dataDir, opts);
  const code = await main(args, io);
  return { code, signal: null, ...out };
}

/**
 * Runs the real `node bin/keyport.mjs ...args` with KEYPORT_DATA=dataDir; never rejects on a
 * non-zero exit. 15 s: a spawn of the built CLI takes about 0.3 s (1 s on a loaded machine); the
 * bound sits under the 20 s test timeout so a hung child is killed and reported with its stderr
 * instead of leaking. A caller that runs the tsx fallback passes more (see cli-smoke.test.ts).
 */
export function keyportProcess(
  dataDir: string,
  args: string[],
  opts: {
    env?: Record<string, string>;
    stdin?: string;
    cwd?: string;
    bin?: string;
    /** Once stdout satisfies this, the child gets SIGTERM, once. */
    until?: (stdout: string) => boolean;
  } = {},
  timeoutMs = 15_000,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...childEnv(dataDir), ...opts.env },
      stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      // Once: the command stops listening for signals while it shuts down, so a second SIGTERM
      // would end it by the default action instead of its own exit code.
      if (!signalled && opts.until?.(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
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

/** Runs a command in this process that must succeed (exit 0) and parses its --json output. */
export async function keyportJson<T = unknown>(dataDir: string, args: string[], opts: RunOptions = {}): Promise<T> {
  const r = await keyport(dataDir, [...args, '--json'], opts);
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

/** A running `keyport serve --json`, in this process or a child. */
export interface ServeRun {
  /** The pid that owns the data directory (this process, for an in-process serve). */
  pid: number;
  ready: ReadyLine;
  /** The ready line exactly as printed (without the newline). */
  readyText: string;
  stderr(): string;
  stdout(): string;
  /** True until the command has returned / the process has exited. */
  running(): boolean;
  /** Sends `signal` and resolves with the exit once serve has finished. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  /** Resolves when serve ends (for whatever reason). */
  exited: Promise<CliResult>;
}

// Limits off as in every harness: tests publish fast and use retain (a test of limits passes --limits losant).
const SERVE_ARGS = [
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
  '--limits',
  'off',
];

function parseReady(line: string): ReadyLine {
  try {
    return JSON.parse(line) as ReadyLine;
  } catch (err) {
    throw new Error(
      `the first line of keyport serve --json is not a JSON document: ${line} (${(err as Error).message})`,
      { cause: err },
    );
  }
}

const inProcess = new Set<ServeRun>();

/**
 * `keyport serve --json` on port 0 in this process (main(argv, io)), stopped through the io's
 * signal emitter. Resolves with the parsed first stdout line; rejects if serve returns before it.
 * No timeout of its own: serve either prints the line or returns (an error), and the test's timeout
 * bounds a hang.
 */
export function startServe(dataDir: string, extra: string[] = []): Promise<ServeRun> {
  let firstLine: (line: string) => void = () => {};
  const gotLine = new Promise<string>((res) => (firstLine = res));
  let buffered = '';
  const { io, out, signals } = captureIo(dataDir, {}, (t) => {
    buffered += t;
    const nl = buffered.indexOf('\n');
    if (nl >= 0) firstLine(buffered.slice(0, nl));
  });
  let done = false;
  const exited = main([...SERVE_ARGS, ...extra], io).then((code): CliResult => {
    done = true;
    return { code, signal: null, ...out };
  });
  return Promise.race([
    gotLine.then((line): ServeRun => {
      const run: ServeRun = {
        pid: process.pid,
        ready: parseReady(line),
        readyText: line,
        stderr: () => out.stderr,
        stdout: () => out.stdout,
        running: () => !done,
        stop(signal = 'SIGTERM') {
          if (!done) signals.emit(signal);
          return exited;
        },
        exited,
      };
      inProcess.add(run);
      void exited.then(() => inProcess.delete(run));
      return run;
    }),
    exited.then((r): never => {
      throw new Error(`keyport serve returned ${r.code} before it was ready: ${r.stderr}`);
    }),
  ]);
}

const children = new Set<ChildProcess>();

/**
 * Spawns `node bin/keyport.mjs serve --json` on port 0 and resolves with the parsed ready line;
 * rejects if the process exits before printing it. 30 s: about 1 s idle, but `npm test` starts these
 * while Playwright's browsers and the other vitest fork share 2 cores, and beside two busy loops a
 * start was seen to pass 15 s (sigterm-burst, cluster-kill9 with three at once); 30 s is stuck.
 */
export function startServeProcess(dataDir: string, extra: string[] = [], timeoutMs = 30_000): Promise<ServeRun> {
  const child = spawn(process.execPath, [BIN, ...SERVE_ARGS, ...extra], {
    cwd: REPO,
    env: childEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((res) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      res({ code, signal, stdout, stderr });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return new Promise<ServeRun>((resolvePromise, reject) => {
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
        ready = parseReady(line);
      } catch (err) {
        child.kill('SIGKILL');
        return reject(err as Error);
      }
      resolvePromise({
        pid: child.pid ?? 0,
        ready,
        readyText: line,
        stderr: () => stderr,
        stdout: () => stdout,
        running: alive,
        exited,
        stop(signal = 'SIGTERM') {
          if (alive()) child.kill(signal);
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

/** Ends every serve still running (after a failed test): in-process ones by SIGTERM, children by SIGKILL. */
export async function killAllServes(): Promise<void> {
  await Promise.all([...inProcess].map((s) => s.stop('SIGTERM')));
  await Promise.all(
    [...children].map(
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
