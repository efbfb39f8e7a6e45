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

export function guardSlowConsumer(
  client: Client,
  conn: Duplex,
  limits: SlowConsumerLimits,
  onSlow: (v: SlowVerdict) => void,
): void {
  let since = 0; // when the socket first filled without draining (0 = it is draining)
  let timer: NodeJS.Timeout | null = null;
  let done = false;
  const verdict = (why: SlowVerdict['why']): void => {
    if (done) return;
    done = true;
    const waitedMs = Date.now() - since;
    clear();
    onSlow({ why, queuedBytes: conn.writableLength, waitedMs, limits });
  };
  const clear = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    since = 0;
  };
  conn.on('drain', clear);
  conn.once('close', () => {
    done = true;
    clear();
  });
  replaceWaitForDrain(client, (cb) => {
    if (since === 0) since = Date.now();
    if (conn.writableLength > limits.maxQueuedBytes) verdict('queue');
    else if (!timer && limits.drainTimeoutMs > 0 && !done) {
      timer = setTimeout(() => verdict('drain'), limits.drainTimeoutMs);
      timer.unref();
    }
    setImmediate(cb, null, client);
  });
}

/** "4,200,000 bytes queued for delivery (limit 4,194,304)" etc., for the decision's rule. */
export function describeSlow(v: SlowVerdict): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return v.why === 'queue'
    ? `client is not reading: ${n(v.queuedBytes)} bytes queued for delivery exceed the per-connection limit of ${n(v.limits.maxQueuedBytes)} (after ${n(v.waitedMs)} ms without a drain); closed so other clients' delivery does not wait on it`
    : `client is not reading: its socket did not drain for ${n(v.waitedMs)} ms (drain timeout ${n(v.limits.drainTimeoutMs)} ms) with ${n(v.queuedBytes)} bytes queued; closed so other clients' delivery does not wait on it`;
}
