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

/** The limits and the reporter: one per broker, what an idle connection is watched with. */
class SlowPolicy {
  constructor(
    readonly limits: SlowConsumerLimits,
    readonly onSlow: SlowReporter,
  ) {}
}

/**
 * One connection's watch, made the first time its socket fills (an idle or draining connection
 * has only its broker's SlowPolicy: issue 17 item 4). Plain fields, the listeners shared by every
 * connection (they find their watch from the socket), not a set of closures.
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
    if (this.done || this.conn.destroyed) return;
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

/** Keyed by the aedes Client only; the listeners reach it through `conn.client` (aedes sets it). */
const WATCHES = new WeakMap<object, SlowWatch | SlowPolicy>();
/** The policy of each reporter (with its limits), shared by its broker's connections. */
const POLICIES = new WeakMap<SlowReporter, SlowPolicy>();

const watchOfConn = (conn: Duplex): SlowWatch | undefined => {
  const client = (conn as { client?: object }).client;
  const w = client === undefined ? undefined : WATCHES.get(client);
  return w instanceof SlowWatch ? w : undefined;
};

function onDrain(this: Duplex): void {
  watchOfConn(this)?.clear();
}

// No 'close' listener: a third one grows the socket's close-listener array (~300 bytes per
// connection with the once-wrapper, issue 17 item 4). A closed socket is told by `destroyed`
// instead: a drain timer that fires after the close gives no verdict, and aedes calls
// waitForDrain only for writes to an open connection.
function drainTimedOut(w: SlowWatch): void {
  if (w.conn.destroyed) {
    w.done = true;
    w.clear();
    return;
  }
  w.verdict('drain');
}

/** Stands in for aedes' waitForDrain (called with `this` = the aedes Client). */
function waitForDrain(this: Client, cb: (err: Error | null, client: Client) => void): void {
  const found = (this as unknown as { conn: Duplex }).conn.destroyed ? undefined : WATCHES.get(this);
  let w: SlowWatch | undefined;
  if (found instanceof SlowPolicy) {
    const conn = (this as unknown as { conn: Duplex }).conn;
    WATCHES.set(this, (w = new SlowWatch(this, conn, found.limits, found.onSlow)));
  } else w = found;
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
  const c = client as unknown as { conn?: unknown };
  if ((conn as { client?: object }).client !== client || c.conn !== conn)
    throw new Error('aedes did not link conn and client: the slow-consumer bound needs aedes 1.2.0');
  let p = POLICIES.get(onSlow);
  if (p?.limits !== limits) POLICIES.set(onSlow, (p = new SlowPolicy(limits, onSlow)));
  WATCHES.set(client, p);
  conn.on('drain', onDrain);
  replaceWaitForDrain(client, waitForDrain);
}

/** "4,200,000 bytes queued for delivery (limit 4,194,304)" etc., for the decision's rule. */
export function describeSlow(v: SlowVerdict): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return v.why === 'queue'
    ? `client is not reading: ${n(v.queuedBytes)} bytes queued for delivery exceed the per-connection limit of ${n(v.limits.maxQueuedBytes)} (after ${n(v.waitedMs)} ms without a drain); closed so other clients' delivery does not wait on it`
    : `client is not reading: its socket did not drain for ${n(v.waitedMs)} ms (drain timeout ${n(v.limits.drainTimeoutMs)} ms) with ${n(v.queuedBytes)} bytes queued; closed so other clients' delivery does not wait on it`;
}
