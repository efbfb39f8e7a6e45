// What a CLI command reads and writes, passed down from main() instead of reaching for
// `process`: the bin passes the real process; tests pass captured streams, their own environment
// and an emitter for signals, so a command runs in the test's process like it runs in its own.
import type { Readable } from 'node:stream';

export interface Out {
  write(text: string): unknown;
}

/** Where SIGINT/SIGTERM/SIGHUP come from (`process` in the bin). */
export interface SignalSource {
  once(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', listener: () => void): unknown;
}

export interface CliIo {
  stdout: Out;
  stderr: Out;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  signals: SignalSource;
  /** Stop `serve` when the parent process goes away (parent-watch.ts); only the real process does. */
  watchParent?: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signals: process,
    watchParent: true,
  };
}

/** Human output: aligned tables. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Machine output (--json): one JSON document on stdout. */
export function printJson(out: Out, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n');
}
