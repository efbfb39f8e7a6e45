// The decision log on disk (docs/design.md §8): the feed's events appended as JSON lines to
// `decisions.jsonl` in the data directory, rotated to `decisions.1.jsonl` when it would pass
// `maxBytes` (so at most 2 × maxBytes on disk, 2 × 5 MB by default), and read back at start so the
// last decisions survive a restart. Events never hold a secret (core/decision-event.ts), so
// neither does the log. Writes are batched (one append per `flushMs`) and never block a PUBLISH;
// a write that fails is reported once and the log goes on without it (the feed in memory is
// unaffected). Queued lines wait as UTF-8 in reused buffers, not as one string per event: a string
// kept for the 250 ms until the next write outlived the young generation, for every PUBLISH
// (issue 17), and was copied into the old one.
import { existsSync } from 'node:fs';
import { appendFile, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ACTIONS, type DecisionEvent } from '../core/decision-event.ts';
import { REASON_CODES } from '../core/types.ts';
import { decisionLine } from './decision-line.ts';

export const DECISION_LOG_FILE = 'decisions.jsonl';
export const DECISION_LOG_ROTATED = 'decisions.1.jsonl';
export const DEFAULT_DECISION_LOG_BYTES = 5 * 1024 * 1024;

export interface DecisionLogOptions {
  /** Largest size of one file before it is rotated (default 5 MB). */
  maxBytes?: number;
  /** How often queued lines are written (default 250 ms). */
  flushMs?: number;
  /** At most this many lines wait for a write; older ones are dropped (and counted) past it. */
  maxQueued?: number;
  log?: (line: string) => void;
}

const TRANSPORTS = new Set(['tcp', 'ws', 'tls', 'http']);
const ACTION_SET = new Set<string>(ACTIONS);
const REASONS = new Set<string>(REASON_CODES);
const OPTIONAL = ['deviceId', 'keyId', 'sourceAddress', 'forwardedFor', 'peerAddress', 'topic'] as const;

/** One line of the log as a DecisionEvent, or null when it is not one (a line cut by a crash). */
export function parseDecisionLine(line: string): DecisionEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number' || !Number.isInteger(o.seq) || o.seq < 1) return null;
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time))) return null;
  if (typeof o.transport !== 'string' || !TRANSPORTS.has(o.transport)) return null;
  if (typeof o.action !== 'string' || !ACTION_SET.has(o.action)) return null;
  if (o.result !== 'allowed' && o.result !== 'denied') return null;
  if (typeof o.reason !== 'string' || !REASONS.has(o.reason)) return null;
  if (typeof o.rule !== 'string') return null;
  const e: DecisionEvent = {
    seq: o.seq,
    time: o.time,
    transport: o.transport as DecisionEvent['transport'],
    action: o.action as DecisionEvent['action'],
    result: o.result,
    reason: o.reason as DecisionEvent['reason'],
    rule: o.rule,
  };
  for (const k of OPTIONAL) {
    const x = o[k];
    if (x === undefined) continue;
    if (typeof x !== 'string') return null;
    e[k] = x;
  }
  return e;
}

/** Bytes of one queue buffer (a line longer than this gets a buffer of its own size). */
const CHUNK_BYTES = 64 * 1024;

/** Queued lines: whole lines only, in order; `rotateBefore`: the file is rotated before these. */
interface Chunk {
  buf: Buffer;
  used: number;
  lines: number;
  rotateBefore: boolean;
}

async function readLines(file: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l.length > 0);
}

export class DecisionLog {
  readonly file: string;
  readonly rotated: string;
  readonly maxBytes: number;
  readonly #log: (line: string) => void;
  readonly #maxQueued: number;
  readonly #timer: NodeJS.Timeout;
  #queue: Chunk[] = [];
  /** Lines in #queue. */
  #queuedLines = 0;
  /** Buffers written and free again (at most two kept). */
  #spare: Buffer[] = [];
  #dropped = 0;
  /** The current file's size on disk. */
  #size = 0;
  /** What the current file will hold once the queue is written: where appends decide to rotate. */
  #planned = 0;
  #writing: Promise<void> = Promise.resolve();
  #failed = false;
  #closed = false;

  private constructor(dataDir: string, size: number, opts: DecisionLogOptions) {
    this.file = join(dataDir, DECISION_LOG_FILE);
    this.rotated = join(dataDir, DECISION_LOG_ROTATED);
    this.maxBytes = opts.maxBytes ?? DEFAULT_DECISION_LOG_BYTES;
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.#maxQueued = opts.maxQueued ?? 20_000;
    this.#size = size;
    this.#planned = size;
    this.#timer = setInterval(() => void this.flush(), opts.flushMs ?? 250);
    this.#timer.unref();
  }

  /**
   * Opens the log in `dataDir` and reads what it holds: the rotated file, then the current one,
   * oldest first, at most `keep` of the newest events. Lines that are not decision events (the
   * last line of a crash) are skipped and counted in one log line.
   */
  static async open(
    dataDir: string,
    keep: number,
    opts: DecisionLogOptions = {},
  ): Promise<{ log: DecisionLog; events: DecisionEvent[] }> {
    const maxBytes = opts.maxBytes ?? DEFAULT_DECISION_LOG_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < 1024)
      throw new Error(`decision log size must be a whole number of bytes, at least 1024 (got ${maxBytes})`);
    const file = join(dataDir, DECISION_LOG_FILE);
    const lines = [...(await readLines(join(dataDir, DECISION_LOG_ROTATED))), ...(await readLines(file))];
    const events: DecisionEvent[] = [];
    let bad = 0;
    for (const line of lines) {
      const e = parseDecisionLine(line);
      if (!e) bad++;
      else events.push(e);
    }
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    if (bad > 0)
      log(
        `keyport: ${bad} line${bad === 1 ? '' : 's'} of ${file} (or its rotated file) were not decision events; skipped`,
      );
    const size = existsSync(file) ? (await stat(file)).size : 0;
    return { log: new DecisionLog(dataDir, size, { ...opts, log }), events: events.slice(-keep) };
  }

  /** Queues one event (written at the next flush). */
  append(e: DecisionEvent): void {
    if (this.#closed) return;
    const line = decisionLine(e);
    // Before a write would take the file past maxBytes it is rotated (at a line boundary): the
    // decision is made here, where the line's size is known, and kept with the queued lines.
    let chunk = this.#chunkFor(line.length * 3, false); // a UTF-16 unit is at most 3 UTF-8 bytes
    const n = chunk.buf.write(line, chunk.used);
    if (this.#planned + n > this.maxBytes && this.#planned > 0) {
      chunk = this.#chunkFor(n, true);
      chunk.buf.write(line, chunk.used);
      this.#planned = 0;
    }
    chunk.used += n;
    chunk.lines++;
    this.#planned += n;
    this.#queuedLines++;
    // Past maxQueued the oldest lines are not written (counted, and said at the next write).
    while (this.#queuedLines > this.#maxQueued && this.#queue.length > 1) {
      const old = this.#queue.shift() as Chunk;
      this.#queuedLines -= old.lines;
      this.#dropped += old.lines;
      if (old.rotateBefore) (this.#queue[0] as Chunk).rotateBefore = true;
    }
  }

  /** The buffer the next line goes to: the last one if `bytes` fit and no rotation starts here. */
  #chunkFor(bytes: number, rotateBefore: boolean): Chunk {
    const last = this.#queue[this.#queue.length - 1];
    if (!rotateBefore && last && last.buf.length - last.used >= bytes) return last;
    const spare = bytes <= CHUNK_BYTES ? this.#spare.pop() : undefined;
    const buf = spare ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    const chunk: Chunk = { buf, used: 0, lines: 0, rotateBefore };
    this.#queue.push(chunk);
    return chunk;
  }

  /** Writes what is queued (rotating first when it would pass maxBytes). Never rejects. */
  flush(): Promise<void> {
    if (this.#queue.length === 0) return this.#writing;
    const chunks = this.#queue;
    this.#queue = [];
    this.#queuedLines = 0;
    this.#writing = this.#writing.then(() => this.#write(chunks));
    return this.#writing;
  }

  async #write(chunks: Chunk[]): Promise<void> {
    try {
      if (this.#dropped > 0) {
        this.#log(`keyport: the decision log fell behind; ${this.#dropped} decisions were not written to ${this.file}`);
        this.#dropped = 0;
      }
      // Consecutive buffers without a rotation between them go out in one append.
      let run: Buffer[] = [];
      for (const c of chunks) {
        if (c.rotateBefore) {
          await this.#appendRun(run);
          run = [];
          if (this.#size > 0) {
            await rename(this.file, this.rotated).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            });
            this.#size = 0;
          }
        }
        if (c.used > 0) run.push(c.buf.subarray(0, c.used));
      }
      await this.#appendRun(run);
      this.#failed = false;
    } catch (err) {
      if (!this.#failed) this.#log(`keyport: could not write the decision log ${this.file}: ${(err as Error).message}`);
      this.#failed = true;
      // What is on disk is what counts for the next rotation (lines of this write may be missing).
      this.#planned = Math.min(this.#planned, this.#size + this.#queuedBytes());
    } finally {
      for (const c of chunks) if (c.buf.length === CHUNK_BYTES && this.#spare.length < 2) this.#spare.push(c.buf);
    }
  }

  #queuedBytes(): number {
    let n = 0;
    for (const c of this.#queue) n += c.used;
    return n;
  }

  async #appendRun(run: Buffer[]): Promise<void> {
    if (run.length === 0) return;
    const data = run.length === 1 ? (run[0] as Buffer) : Buffer.concat(run);
    await appendFile(this.file, data, { mode: 0o600 });
    this.#size += data.length;
  }

  /** Writes what is queued and stops. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    clearInterval(this.#timer);
    await this.flush();
    this.#closed = true;
  }
}
