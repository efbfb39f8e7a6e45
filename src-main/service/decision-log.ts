// The decision log on disk (docs/design.md §8): the feed's events appended as JSON lines to
// `decisions.jsonl` in the data directory, rotated to `decisions.1.jsonl` when it would pass
// `maxBytes` (so at most 2 × maxBytes on disk, 2 × 5 MB by default), and read back at start so the
// last decisions survive a restart. Events never hold a secret (core/decision-event.ts), so
// neither does the log. Writes are batched (one append per `flushMs`) and never block a PUBLISH;
// a write that fails is reported once and the log goes on without it (the feed in memory is
// unaffected). Queued lines wait as UTF-8 in reused buffers (chunks of up to CHUNK_BYTES, at most
// LINES_PER_BATCH lines each), written there by DecisionLineEncoder: no string per event is kept
// (one kept for the 250 ms until the next write outlived the young generation, for every PUBLISH,
// issue 17), and the chunks live outside the JS heap, so the collector never copies them. The file
// is kept open between writes (one descriptor, opened at the first write): closed before a
// rotation and reopened after it, closed after a failed write (the next write opens it afresh),
// reopened when it was removed under the log, and closed by close() after the last write.
import { existsSync } from 'node:fs';
import { type FileHandle, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ACTIONS, type DecisionEvent } from '../core/decision-event.ts';
import { REASON_CODES } from '../core/types.ts';
import { decisionLine, DecisionLineEncoder } from './decision-line.ts';

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
const OPTIONAL = ['deviceId', 'keyId', 'sourceAddress', 'forwardedFor', 'peerAddress', 'topic', 'node'] as const;

/** One line of the log as a DecisionEvent, or null when it is not one (a line cut by a crash). */
export function parseDecisionLine(line: string): DecisionEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  return parseDecisionObject(v);
}

/** A parsed JSON value as a DecisionEvent, or null when it is not one (the cluster stream's entries too). */
export function parseDecisionObject(v: unknown): DecisionEvent | null {
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

/** Lines in one queued batch at most (the unit in which maxQueued drops the oldest). */
const LINES_PER_BATCH = 256;
/** The size of a chunk (smaller for a small maxBytes: a batch never passes maxBytes). */
const CHUNK_BYTES = 64 * 1024;
/** Written chunks kept for reuse (a quarter second of a busy broker's lines fits in about 40). */
const POOL_CHUNKS = 64;

/**
 * Queued lines: whole lines only, in order, as UTF-8 in `chunk[0, bytes)` (a line larger than a
 * chunk has a buffer of its own); `rotateBefore`: the file is rotated first.
 */
interface Batch {
  chunk: Buffer;
  bytes: number;
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
  readonly #encoder = new DecisionLineEncoder();
  /** Lines not yet in a batch: #chunk[0, #chunkBytes), #chunkLines of them. */
  #chunk: Buffer | null = null;
  #chunkBytes = 0;
  #chunkLines = 0;
  readonly #chunkSize: number;
  /** Written chunks of #chunkSize bytes, for reuse. */
  readonly #pool: Buffer[] = [];
  #queue: Batch[] = [];
  /** Lines in #queue. */
  #queuedLines = 0;
  #dropped = 0;
  /** The current file's size on disk. */
  #size = 0;
  /** What the current file will hold once the queue is written: where appends decide to rotate. */
  #planned = 0;
  #writing: Promise<void> = Promise.resolve();
  /** The current file, open for appending between writes (null: opened by the next write). */
  #fh: FileHandle | null = null;
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
    this.#chunkSize = Math.min(CHUNK_BYTES, this.maxBytes);
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
    if (this.#chunk === null) this.#chunk = this.#pool.pop() ?? Buffer.allocUnsafeSlow(this.#chunkSize);
    let n = this.#encoder.encodeInto(e, this.#chunk, this.#chunkBytes);
    if (n < 0 && this.#chunkLines > 0) {
      this.#seal();
      this.#chunk = this.#pool.pop() ?? Buffer.allocUnsafeSlow(this.#chunkSize);
      n = this.#encoder.encodeInto(e, this.#chunk, 0);
    }
    if (n < 0) {
      // A line larger than a chunk: a batch of its own.
      const own = Buffer.from(decisionLine(e));
      this.#queueBatch(own, own.length, 1);
      return;
    }
    this.#chunkBytes += n;
    if (++this.#chunkLines >= LINES_PER_BATCH) this.#seal();
  }

  /** Makes the waiting lines a batch (the chunk goes with it). */
  #seal(): void {
    const chunk = this.#chunk;
    if (chunk === null || this.#chunkLines === 0) return;
    this.#queueBatch(chunk, this.#chunkBytes, this.#chunkLines);
    this.#chunk = null;
    this.#chunkBytes = 0;
    this.#chunkLines = 0;
  }

  /**
   * Queues a batch. Before a write would take the file past maxBytes it is rotated, between
   * batches: decided here, where the batch's size is known.
   */
  #queueBatch(chunk: Buffer, bytes: number, lines: number): void {
    const rotateBefore = this.#planned + bytes > this.maxBytes && this.#planned > 0;
    if (rotateBefore) this.#planned = 0;
    this.#planned += bytes;
    this.#queue.push({ chunk, bytes, lines, rotateBefore });
    this.#queuedLines += lines;
    // Past maxQueued the oldest lines are not written (counted, and said at the next write).
    while (this.#queuedLines > this.#maxQueued && this.#queue.length > 1) {
      const old = this.#queue.shift() as Batch;
      this.#queuedLines -= old.lines;
      this.#dropped += old.lines;
      if (old.rotateBefore) (this.#queue[0] as Batch).rotateBefore = true;
      this.#release(old);
    }
  }

  /** A batch's chunk back to the pool once it is written (or dropped). */
  #release(b: Batch): void {
    if (b.chunk.length === this.#chunkSize && this.#pool.length < POOL_CHUNKS) this.#pool.push(b.chunk);
  }

  /** Writes what is queued (rotating first when it would pass maxBytes). Never rejects. */
  flush(): Promise<void> {
    this.#seal();
    if (this.#queue.length === 0) return this.#writing;
    const batches = this.#queue;
    this.#queue = [];
    this.#queuedLines = 0;
    this.#writing = this.#writing.then(() => this.#write(batches));
    return this.#writing;
  }

  async #write(batches: Batch[]): Promise<void> {
    try {
      if (this.#dropped > 0) {
        this.#log(`keyport: the decision log fell behind; ${this.#dropped} decisions were not written to ${this.file}`);
        this.#dropped = 0;
      }
      // Consecutive batches without a rotation between them go out in one append.
      let run: Batch[] = [];
      for (const b of batches) {
        if (b.rotateBefore) {
          await this.#appendRun(run);
          run = [];
          if (this.#size > 0) {
            await this.#closeFile();
            await rename(this.file, this.rotated).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            });
            this.#size = 0;
          }
        }
        run.push(b);
      }
      await this.#appendRun(run);
      this.#failed = false;
    } catch (err) {
      if (!this.#failed) this.#log(`keyport: could not write the decision log ${this.file}: ${(err as Error).message}`);
      this.#failed = true;
      // The next write opens the file afresh (the disk may have room again, the file be replaced).
      await this.#closeFile().catch(() => {});
      // What is on disk is what counts for the next rotation (lines of this write may be missing).
      let queued = 0;
      for (const b of this.#queue) queued += b.bytes;
      this.#planned = Math.min(this.#planned, this.#size + queued);
    } finally {
      for (const b of batches) this.#release(b);
    }
  }

  async #appendRun(run: Batch[]): Promise<void> {
    if (run.length === 0) return;
    let bytes = 0;
    for (const b of run) bytes += b.bytes;
    // One writev of the chunks as they are: copying a quarter second of a busy broker's lines
    // into one buffer first (Buffer.concat) cost the broker 0.5 µs per PUBLISH (issue 17 item 1).
    const fh = await this.#openFile();
    const { bytesWritten } = await fh.writev(run.map((b) => b.chunk.subarray(0, b.bytes)));
    if (bytesWritten !== bytes) throw new Error(`wrote ${bytesWritten} of ${bytes} bytes`);
    this.#size += bytes;
  }

  /**
   * The current file, open for appending: the one kept open, unless it was removed meanwhile (a
   * line written to it would be lost), else opened (and created) now.
   */
  async #openFile(): Promise<FileHandle> {
    if (this.#fh !== null && (await this.#fh.stat()).nlink > 0) return this.#fh;
    await this.#closeFile();
    this.#fh = await open(this.file, 'a', 0o600);
    return this.#fh;
  }

  async #closeFile(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    if (fh !== null) await fh.close();
  }

  /** Writes what is queued and stops. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    clearInterval(this.#timer);
    await this.flush();
    this.#closed = true;
    // After the last write (it is chained on #writing): nothing is written after this.
    this.#writing = this.#writing.then(() => this.#closeFile().catch(() => {}));
    return this.#writing;
  }
}
