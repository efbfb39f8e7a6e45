// The decision log on disk (docs/design.md §8): the feed's events appended as JSON lines to
// `decisions.jsonl` in the data directory, rotated to `decisions.1.jsonl` when it would pass
// `maxBytes` (so at most 2 × maxBytes on disk, 2 × 5 MB by default), and read back at start so the
// last decisions survive a restart. Events never hold a secret (core/decision-event.ts), so
// neither does the log. Writes are batched (one append per `flushMs`) and never block a PUBLISH;
// a write that fails is reported once and the log goes on without it (the feed in memory is
// unaffected). Queued lines wait joined in batches of up to LINES_PER_BATCH, not as one string per
// event: a string kept for the 250 ms until the next write outlived the young generation, for
// every PUBLISH (issue 17), and was copied into the old one; now a line dies young.
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

/** Lines joined into one queued batch (fewer for a small maxBytes, see #batchChars). */
const LINES_PER_BATCH = 256;

/** Queued lines, joined: whole lines only, in order; `rotateBefore`: the file is rotated first. */
interface Batch {
  text: string;
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
  /** Lines not yet joined into a batch (young strings). */
  #lines: string[] = [];
  #linesChars = 0;
  /** At most this many UTF-16 units in a batch: its UTF-8 (≤ 3 bytes each) stays within maxBytes. */
  readonly #batchChars: number;
  #queue: Batch[] = [];
  /** Lines in #queue. */
  #queuedLines = 0;
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
    this.#batchChars = Math.max(1, Math.floor(this.maxBytes / 3));
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
    if (this.#linesChars + line.length > this.#batchChars && this.#lines.length > 0) this.#seal();
    this.#lines.push(line);
    this.#linesChars += line.length;
    if (this.#lines.length >= LINES_PER_BATCH) this.#seal();
  }

  /**
   * Joins the waiting lines into one batch. Before a write would take the file past maxBytes it
   * is rotated, between batches: decided here, where the batch's size is known.
   */
  #seal(): void {
    const text = this.#lines.join('');
    const lines = this.#lines.length;
    this.#lines = [];
    this.#linesChars = 0;
    const bytes = Buffer.byteLength(text);
    const rotateBefore = this.#planned + bytes > this.maxBytes && this.#planned > 0;
    if (rotateBefore) this.#planned = 0;
    this.#planned += bytes;
    this.#queue.push({ text, bytes, lines, rotateBefore });
    this.#queuedLines += lines;
    // Past maxQueued the oldest lines are not written (counted, and said at the next write).
    while (this.#queuedLines > this.#maxQueued && this.#queue.length > 1) {
      const old = this.#queue.shift() as Batch;
      this.#queuedLines -= old.lines;
      this.#dropped += old.lines;
      if (old.rotateBefore) (this.#queue[0] as Batch).rotateBefore = true;
    }
  }

  /** Writes what is queued (rotating first when it would pass maxBytes). Never rejects. */
  flush(): Promise<void> {
    if (this.#lines.length > 0) this.#seal();
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
      // What is on disk is what counts for the next rotation (lines of this write may be missing).
      let queued = 0;
      for (const b of this.#queue) queued += b.bytes;
      this.#planned = Math.min(this.#planned, this.#size + queued);
    }
  }

  async #appendRun(run: Batch[]): Promise<void> {
    if (run.length === 0) return;
    let bytes = 0;
    for (const b of run) bytes += b.bytes;
    await appendFile(this.file, run.length === 1 ? (run[0] as Batch).text : run.map((b) => b.text).join(''), {
      mode: 0o600,
    });
    this.#size += bytes;
  }

  /** Writes what is queued and stops. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    clearInterval(this.#timer);
    await this.flush();
    this.#closed = true;
  }
}
