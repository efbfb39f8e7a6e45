// Bounded harm from a client that stops reading (issue 13 bullet 1).
//
// aedes 1.2.0 (lib/write.js) calls client.waitForDrain(done) whenever a write to the socket
// returns false, and only calls `done` once the socket drains. Each delivery's `done` is what
// mqemitter waits for before it frees one of its `concurrency` (100) slots, so a subscriber that
// never reads holds slots until aedes' drainTimeout (60 s by default) ends it, and meanwhile every
// other client's messages queue behind it: PUBACKed, not delivered.
//
// Here each connection's waitForDrain is replaced: the write is already in the socket's own
// buffer, so `done` is called at once (nobody waits on this socket), and instead
//  - the bytes queued for the socket (writableLength) are bounded: past `maxQueuedBytes` the
//    client is closed at once;
//  - a socket that has not drained for `drainTimeoutMs` since it first filled is closed.
// Either way `onSlow` says why, with the bytes queued and the time waited.
import type { Client } from 'aedes';
import type { Duplex } from 'node:stream';
import { replaceWaitForDrain } from './aedes-internals.ts';

export interface SlowConsumerLimits {
  /** Close a client whose socket has not drained for this long (ms). 0 disables. */
  drainTimeoutMs: number;
  /** Close a client with more than this many bytes waiting to be written to it. */
  maxQueuedBytes: number;
}

export interface SlowVerdict {
  why: 'queue' | 'drain';
  queuedBytes: number;
  /** ms since the socket first stopped accepting writes without draining. */
  waitedMs: number;
  limits: SlowConsumerLimits;
}

/** What is told when a client is found slow (one function per broker, not per connection). */
export type SlowReporter = (client: Client, conn: Duplex, v: SlowVerdict) => void;

/**
 * One connection's watch: plain fields, the listeners shared by every connection (they find
 * their watch from the socket), so a connection costs one small object, not a set of closures
 * (issue 17 item 4).
 */
class SlowWatch {
  since = 0; // when the socket first filled without draining (0 = it is draining)
  timer: NodeJS.Timeout | null = null;
  done = false;
  constructor(
    readonly client: Client,
    readonly conn: Duplex,
    readonly limits: SlowConsumerLimits,
    readonly onSlow: SlowReporter,
  ) {}

  verdict(why: SlowVerdict['why']): void {
    if (this.done) return;
    this.done = true;
    const waitedMs = Date.now() - this.since;
    this.clear();
    this.onSlow(this.client, this.conn, { why, queuedBytes: this.conn.writableLength, waitedMs, limits: this.limits });
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.since = 0;
  }
}

const WATCHES = new WeakMap<object, SlowWatch>();

function onDrain(this: Duplex): void {
  WATCHES.get(this)?.clear();
}

function onClose(this: Duplex): void {
  const w = WATCHES.get(this);
  if (!w) return;
  w.done = true;
  w.clear();
}

function drainTimedOut(w: SlowWatch): void {
  w.verdict('drain');
}

/** Stands in for aedes' waitForDrain (called with `this` = the aedes Client). */
function waitForDrain(this: Client, cb: (err: Error | null, client: Client) => void): void {
  const w = WATCHES.get(this);
  if (w) {
    if (w.since === 0) w.since = Date.now();
    if (w.conn.writableLength > w.limits.maxQueuedBytes) w.verdict('queue');
    else if (!w.timer && w.limits.drainTimeoutMs > 0 && !w.done) {
      w.timer = setTimeout(drainTimedOut, w.limits.drainTimeoutMs, w);
      w.timer.unref();
    }
  }
  setImmediate(cb, null, this);
}

export function guardSlowConsumer(
  client: Client,
  conn: Duplex,
  limits: SlowConsumerLimits,
  onSlow: SlowReporter,
): void {
  const w = new SlowWatch(client, conn, limits, onSlow);
  WATCHES.set(conn, w);
  WATCHES.set(client, w);
  conn.on('drain', onDrain);
  conn.once('close', onClose);
  replaceWaitForDrain(client, waitForDrain);
}

/** "4,200,000 bytes queued for delivery (limit 4,194,304)" etc., for the decision's rule. */
export function describeSlow(v: SlowVerdict): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return v.why === 'queue'
    ? `client is not reading: ${n(v.queuedBytes)} bytes queued for delivery exceed the per-connection limit of ${n(v.limits.maxQueuedBytes)} (after ${n(v.waitedMs)} ms without a drain); closed so other clients' delivery does not wait on it`
    : `client is not reading: its socket did not drain for ${n(v.waitedMs)} ms (drain timeout ${n(v.limits.drainTimeoutMs)} ms) with ${n(v.queuedBytes)} bytes queued; closed so other clients' delivery does not wait on it`;
}
