// Merged decisions (docs/design.md §8 "Clustered"): every node appends the decisions it makes to
// one bounded Redis stream, and reads that stream to add the other nodes' decisions to its own
// feed, so any node's Decisions view shows the whole cluster's, each naming its node.
//
// Appends are fire-and-forget: the feed's listener only queues the event (bounded; past the bound
// the oldest queued are dropped and a rate-limited warning says how many), and a flush pipelines
// them to Redis, up to 100 events of one node in one stream entry (fields `node` and `e`, a JSON
// array): one XADD per event cost about 38 µs of CPU per decision here, batched about 15 µs
// (50,000 decisions recorded and appended on a shared 2-core machine; recording alone is ~2 µs).
//
// The reader blocks on XREAD from the stream's last id as it was at start (so nothing appended
// after start is missed), then from the last id it saw: after a reconnect it resumes there, and
// an id at or before the last one is never added twice (dedupe by stream id).
import type { Redis } from 'ioredis';
import type { DecisionEvent } from '../core/decision-event.ts';
import { connectRedis, closeRedis, type Warn } from './cluster-redis.ts';
import type { DecisionFeed } from './decision-feed.ts';
import { parseDecisionObject } from './decision-log.ts';

export interface ClusterDecisionsOptions {
  url: string;
  nodeId: string;
  feed: DecisionFeed;
  /** The stream's key (default `keyport:decisions`). */
  key?: string;
  /**
   * The stream keeps about this many entries (XADD MAXLEN ~); default 1,000, so at most 100,000
   * events (under load, ten times the feed) and at least 1,000 (one event an entry when quiet).
   */
  maxLen?: number;
  /** Events waiting for Redis, at most (default 10,000). */
  maxQueue?: number;
  /** Events per stream entry (default 100). */
  perEntry?: number;
  /** Entries per pipeline (default 10). */
  batch?: number;
  warn: Warn;
}

/** Compares two stream ids `ms-seq`: negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

type Resolved = Required<Omit<ClusterDecisionsOptions, 'warn'>> & { warn: Warn };
type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

export class ClusterDecisions {
  readonly #o: Resolved;
  readonly #writer: Redis;
  readonly #reader: Redis;
  #queue: DecisionEvent[] = [];
  #dropped = 0;
  #flushing = false;
  #flushed: Promise<void> = Promise.resolve();
  #scheduled = false;
  #closed = false;
  #lastId: string;
  #reading: Promise<void> = Promise.resolve();
  #off: () => void = () => {};
  /** Entries appended by this node, and other nodes' events added to the feed (for tests and bench). */
  readonly counts = { appended: 0, merged: 0, dropped: 0, skipped: 0 };

  private constructor(o: Resolved, writer: Redis, reader: Redis, lastId: string) {
    this.#o = o;
    this.#writer = writer;
    this.#reader = reader;
    this.#lastId = lastId;
  }

  static async start(opts: ClusterDecisionsOptions): Promise<ClusterDecisions> {
    const o: Resolved = {
      key: 'keyport:decisions',
      maxLen: 1000,
      maxQueue: 10_000,
      perEntry: 100,
      batch: 10,
      ...opts,
    };
    const writer = await connectRedis({ url: o.url, nodeId: o.nodeId, role: 'decisions writer', warn: o.warn });
    let reader: Redis;
    try {
      reader = await connectRedis({
        url: o.url,
        nodeId: o.nodeId,
        role: 'decisions reader',
        warn: o.warn,
        offlineQueue: true,
      });
    } catch (err) {
      await closeRedis(writer);
      throw err;
    }
    // Where reading starts: the newest entry now (what `$` means, but fixed, so an entry appended
    // between here and the first XREAD is not missed).
    const newest = (await writer.xrevrange(o.key, '+', '-', 'COUNT', 1))[0];
    const self = new ClusterDecisions(o, writer, reader, newest?.[0] ?? '0-0');
    self.#off = o.feed.events.on('decision', (e) => self.#enqueue(e));
    writer.on('ready', () => self.#schedule());
    self.#reading = self.#readLoop();
    return self;
  }

  /** Events waiting to be appended. */
  get queued(): number {
    return this.#queue.length;
  }

  #enqueue(e: DecisionEvent): void {
    if (this.#closed || (e.node !== undefined && e.node !== this.#o.nodeId)) return; // another node's: already in the stream
    this.#queue.push(e);
    if (this.#queue.length > this.#o.maxQueue) {
      const n = this.#queue.length - this.#o.maxQueue;
      this.#queue.splice(0, n);
      this.#drop(n);
    }
    this.#schedule();
  }

  #drop(n: number): void {
    this.#dropped += n;
    this.counts.dropped += n;
    this.#o.warn(
      'decisions-dropped',
      `${this.#dropped} decisions not sent to the cluster stream so far (Redis unreachable or slow; at most ${this.#o.maxQueue} wait)`,
    );
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushed = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#writer.status !== 'ready') return; // 'ready' schedules the next one
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && this.#writer.status === 'ready') {
        const entries: DecisionEvent[][] = [];
        for (let i = 0; i < this.#o.batch && this.#queue.length > 0; i++)
          entries.push(this.#queue.splice(0, this.#o.perEntry));
        const p = this.#writer.pipeline();
        for (const events of entries)
          p.xadd(this.#o.key, 'MAXLEN', '~', this.#o.maxLen, '*', 'node', this.#o.nodeId, 'e', JSON.stringify(events));
        const results = (await p.exec()) ?? [];
        const failed = entries.filter((_, i) => results[i]?.[0] !== null).flat();
        this.counts.appended += entries.reduce((n, x) => n + x.length, 0) - failed.length;
        if (failed.length > 0) {
          this.#o.warn(
            'decisions-append',
            `appending decisions to the cluster stream failed: ${results.find((r) => r[0])?.[0]?.message ?? 'no reply'}`,
          );
          this.#queue = failed.concat(this.#queue);
          if (this.#queue.length > this.#o.maxQueue)
            this.#drop(this.#queue.splice(0, this.#queue.length - this.#o.maxQueue).length);
          break; // the connection's next 'ready' (or the next event) tries again
        }
      }
    } catch (err) {
      this.#o.warn('decisions-append', `appending decisions to the cluster stream failed: ${(err as Error).message}`);
    } finally {
      this.#flushing = false;
    }
  }

  async #readLoop(): Promise<void> {
    while (!this.#closed) {
      let reply: StreamReply;
      try {
        // BLOCK 5000: a bounded wait, so a reply lost with a dropped connection is retried within 5 s.
        reply = (await this.#reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          5000,
          'STREAMS',
          this.#o.key,
          this.#lastId,
        )) as StreamReply;
      } catch (err) {
        if (this.#closed) return;
        this.#o.warn('decisions-read', `reading the cluster decision stream failed: ${(err as Error).message}`);
        await this.#reconnected();
        continue;
      }
      for (const [, entries] of reply ?? []) for (const [id, fields] of entries) this.#take(id, fields);
    }
  }

  /** Resolves when the reader is ready again (or at once when it is, or closing). */
  #reconnected(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // A command that failed on a live connection: try again in a second, not in a hot loop.
    if (this.#reader.status === 'ready') return new Promise((r) => setTimeout(r, 1000).unref());
    return new Promise((resolve) => {
      const done = () => {
        this.#reader.off('ready', done);
        this.#reader.off('end', done);
        resolve();
      };
      this.#reader.on('ready', done);
      this.#reader.on('end', done);
    });
  }

  #take(id: string, fields: string[]): void {
    if (compareStreamIds(id, this.#lastId) <= 0) return; // seen already
    this.#lastId = id;
    const field = (name: string) => {
      const i = fields.indexOf(name);
      return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
    };
    const node = field('node');
    if (node === this.#o.nodeId) return; // ours: already in the feed
    let list: unknown;
    try {
      list = JSON.parse(field('e') ?? 'null');
    } catch {
      list = null;
    }
    if (node === undefined || !Array.isArray(list)) return this.#skip(id);
    for (const v of list) {
      const e = parseDecisionObject(v);
      if (!e || (e.node !== undefined && e.node !== node)) {
        this.#skip(id);
        continue;
      }
      e.node = node;
      this.#o.feed.merge(e);
      this.counts.merged++;
    }
  }

  #skip(id: string): void {
    this.counts.skipped++;
    this.#o.warn('decisions-entry', `skipped a cluster stream entry that is not decision events (${id})`);
  }

  /** Sends what is queued (at most one more flush), then closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#off();
    await this.#flushed; // one in flight finishes, then what is still queued goes
    await this.#flush();
    this.#closed = true;
    // It may be blocked in XREAD: QUIT would wait for the block to end. On a live connection the
    // disconnect fails that XREAD and the loop ends; while Redis is away, ioredis' disconnect()
    // settles nothing it holds for the reconnect (no socket is left to close), so the loop's last
    // read is left behind rather than awaited: it holds no socket and no timer.
    const live = this.#reader.status === 'ready';
    this.#reader.disconnect();
    if (live) await this.#reading;
    await closeRedis(this.#writer);
  }
}
