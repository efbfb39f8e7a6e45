// Follows the Redis store's change stream (redis-scripts.ts) on a connection of its own: a
// blocking XREAD from the last entry seen, so entries arrive in the order Redis applied them, and
// after a reconnect the read resumes from that same entry: nothing is skipped. When the change
// numbers show a gap (the bounded stream was trimmed past this node while it was away), the
// follower asks for a reload instead (docs/design.md §11, "Clustered (Redis)").
import type { Redis } from 'ioredis';
import type { Kind, Parts } from './redis-layout.ts';

/** One entry of the change stream. */
export interface ChangeEntry {
  origin: string;
  write: number;
  n: number;
  kind: Kind;
  id: string;
  /** The record's stored parts after the change; null when it was deleted. */
  parts: Parts | null;
}

type RawEntry = [id: string, fields: string[]];
type XReadReply = Array<[stream: string, entries: RawEntry[]]> | null;

export function parseEntry(fields: readonly string[]): ChangeEntry | null {
  const f: Record<string, string> = {};
  const parts: Parts = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name.startsWith('p:')) parts[name.slice(2)] = value;
    else f[name] = value;
  }
  if (!f.o || !f.id || (f.t !== 'd' && f.t !== 'k') || !f.n) return null;
  return {
    origin: f.o,
    write: Number(f.w),
    n: Number(f.n),
    kind: f.t === 'd' ? 'device' : 'key',
    id: f.id,
    parts: f.del === '1' ? null : parts,
  };
}

export interface FollowerHooks {
  apply(entry: ChangeEntry): void;
  /** Entries were missed: load everything again, then follow from `fromId`/`n`. */
  reload(): Promise<{ fromId: string; n: number }>;
  log(line: string): void;
}

/** How long to wait before reading again after a failed read (Redis away, ioredis gave up). */
const RETRY_MS = 250;

export class ChangeFollower {
  #lastId: string;
  #lastN: number;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    from: { fromId: string; n: number },
    private readonly hooks: FollowerHooks,
  ) {
    this.#lastId = from.fromId;
    this.#lastN = from.n;
  }

  /** Reads what is there now without blocking (catch-up at open). */
  async catchUp(): Promise<void> {
    for (;;) {
      const reply = (await this.redis.xread('COUNT', 1000, 'STREAMS', this.stream, this.#lastId)) as XReadReply;
      if (!reply || (await this.#take(reply)) < 1000) return;
    }
  }

  /** Resolves once the change numbered `n` (and all before it) has been applied. */
  reached(n: number): Promise<void> {
    if (this.#lastN >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  #wake(): void {
    const due = this.#waiters.filter((w) => w.n <= this.#lastN);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.n > this.#lastN);
    for (const w of due) w.resolve();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        // BLOCK 0: wait for the next entry as long as it takes; stop() ends the connection.
        const reply = (await this.redis.xread(
          'COUNT',
          1000,
          'BLOCK',
          0,
          'STREAMS',
          this.stream,
          this.#lastId,
        )) as XReadReply;
        if (reply) await this.#take(reply);
      } catch (err) {
        if (this.#stopped) return;
        this.hooks.log(`keyport: reading the cluster change stream failed (${(err as Error).message}); retrying`);
        // A pause, not a sleep in a test: without it a Redis that is away would be asked in a busy loop.
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Applies the entries of one reply; returns how many there were. */
  async #take(reply: NonNullable<XReadReply>): Promise<number> {
    let count = 0;
    for (const [, entries] of reply) {
      for (const [id, fields] of entries) {
        count++;
        const entry = parseEntry(fields);
        if (!entry) {
          this.hooks.log(`keyport: cluster change ${id} is not a Keyport change entry; skipped`);
          this.#lastId = id;
          continue;
        }
        if (entry.n > this.#lastN + 1) {
          this.hooks.log(
            `keyport: cluster changes ${this.#lastN + 1}..${entry.n - 1} are no longer in the stream; reloading`,
          );
          const from = await this.hooks.reload();
          this.#lastId = from.fromId;
          this.#lastN = from.n;
          this.#wake();
          return count;
        }
        this.#lastId = id;
        if (entry.n > this.#lastN) this.#lastN = entry.n;
        this.hooks.apply(entry);
      }
    }
    this.#wake();
    return count;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.redis.disconnect();
    await this.#loop?.catch(() => undefined);
  }
}
