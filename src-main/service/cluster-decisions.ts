// Merged decisions (docs/design.md §8 "Clustered"): every node appends the decisions it makes to
// one bounded Redis stream, and reads that stream to add the other nodes' decisions to its own
// feed, so any node's Decisions view shows the whole cluster's, each naming its node.
//
// Appends are fire-and-forget: the feed's listener only queues the event (bounded; past the bound
// the oldest queued are dropped and a rate-limited warning says how many), and a flush pipelines
// them to Redis. With Redis away the queue waits for the connection to be ready again, so an
// outage costs at most `maxQueue` events and never holds up a PUBLISH.
//
// The reader blocks on XREAD from the stream's last id as it was at start (so nothing appended
// after start is missed), then from the last id it saw: after a reconnect it resumes there, and
// an id at or before the last one is never added twice (dedupe by stream id).
import type { Redis } from 'ioredis';
import type { DecisionEvent } from '../core/decision-event.ts';
import { connectRedis, closeRedis, type Warn } from './cluster-redis.ts';
import type { DecisionFeed } from './decision-feed.ts';
import { parseDecisionLine } from './decision-log.ts';

export interface ClusterDecisionsOptions {
  url: string;
  nodeId: string;
  feed: DecisionFeed;
  /** The stream's key (default `keyport:decisions`). */
  key?: string;
  /** The stream keeps about this many entries (XADD MAXLEN ~); default the feed's capacity. */
  maxLen?: number;
  /** Events waiting for Redis, at most (default 10,000). */
  maxQueue?: number;
  /** Entries per pipeline (default 500). */
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
      maxLen: opts.feed.capacity,
      maxQueue: 10_000,
      batch: 500,
      ...opts,
    };
    const writer = await connectRedis({ url: o.url, nodeId: o.nodeId, role: 'decisions writer', warn: o.warn });
    let reader: Redis;
    try {
      reader = await connectRedis({ url: o.url, nodeId: o.nodeId, role: 'decisions reader', warn: o.warn, offlineQueue: true });
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
        const batch = this.#queue.splice(0, this.#o.batch);
        const p = this.#writer.pipeline();
        for (const e of batch)
          p.xadd(
            this.#o.key,
            'MAXLEN',
            '~',
            this.#o.maxLen,
            '*',
            'e',
            JSON.stringify(e.node === undefined ? { ...e, node: this.#o.nodeId } : e),
          );
        const results = (await p.exec()) ?? [];
        const failed = batch.filter((_, i) => results[i]?.[0]);
        this.counts.appended += batch.length - failed.length;
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
    const json = fields[fields.indexOf('e') + 1];
    const e = json === undefined ? null : parseDecisionLine(json);
    if (!e || e.node === undefined) {
      this.counts.skipped++;
      this.#o.warn('decisions-entry', `skipped a cluster stream entry that is not a decision event (${id})`);
      return;
    }
    if (e.node === this.#o.nodeId) return; // ours: already in the feed
    this.#o.feed.merge(e);
    this.counts.merged++;
  }

  /** Sends what is queued (at most one more flush), then closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#off();
    await this.#flushed; // one in flight finishes, then what is still queued goes
    await this.#flush();
    this.#closed = true;
    this.#reader.disconnect(); // it may be blocked in XREAD: QUIT would wait for the block to end
    await this.#reading;
    await closeRedis(this.#writer);
  }
}
