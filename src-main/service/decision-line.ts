// One decision event as one line of the decision log (docs/design.md §8): exactly what
// `JSON.stringify(event) + '\n'` gives for a DecisionEvent, built faster. The broker records an
// event for every PUBLISH, tens of thousands a second (issue 17), and most of an event's strings
// repeat (the reason, the rule, the device, key, address and topic of one session), so each
// distinct string is JSON-quoted once and looked up after that; and DecisionLineEncoder, which
// the log writes with, encodes everything after `time` once for a run of events that share it.
import type { DecisionEvent } from '../core/decision-event.ts';

/** Distinct strings quoted before they are quoted again; the cache starts afresh past this. */
const QUOTED_MAX = 4096;
const quoted = new Map<string, string>();

function q(s: string): string {
  let v = quoted.get(s);
  if (v === undefined) {
    v = JSON.stringify(s);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(s, v);
  }
  return v;
}

/** Quotes a string seen once: a CONNECT's device, key and address come back per connection only. */
const quoteOnce = (s: string): string => JSON.stringify(s);

/** The first bytes of every line. */
const SEQ_PREFIX = Buffer.from('{"seq":', 'utf8');

/** The line up to `time` (without its quotes' cache: a time string repeats for one millisecond only). */
function head(e: DecisionEvent, quotedTime: string): string {
  // seq is a positive integer (the feed's counter): its JSON text is its decimal text.
  return `{"seq":${e.seq},"time":${quotedTime}`;
}

/** The line after `time`, with its closing brace and newline. */
function tail(e: DecisionEvent): string {
  // A connection's own strings (and its CONNECT rule, which may name the device) repeat on its
  // PUBLISHes, not across CONNECTs: a fleet of more than QUOTED_MAX / 2 devices connecting would
  // clear the cache again and again (a Map insert and a clear per string, slower than quoting:
  // 2.3 vs 0.8 µs a line for 2,000 devices; issue 17 item 1) and push out the strings that repeat.
  const per = e.action === 'connect' || e.action === 'disconnect' || e.action === 'auth' ? quoteOnce : q;
  let s = `,"transport":${q(e.transport)},"action":${q(e.action)},"result":${q(e.result)},"reason":${q(e.reason)},"rule":${per(e.rule)}`;
  if (e.deviceId !== undefined) s += `,"deviceId":${per(e.deviceId)}`;
  if (e.keyId !== undefined) s += `,"keyId":${per(e.keyId)}`;
  if (e.sourceAddress !== undefined) s += `,"sourceAddress":${per(e.sourceAddress)}`;
  if (e.forwardedFor !== undefined) s += `,"forwardedFor":${per(e.forwardedFor)}`;
  if (e.peerAddress !== undefined) s += `,"peerAddress":${per(e.peerAddress)}`;
  if (e.topic !== undefined) s += `,"topic":${q(e.topic)}`;
  return s + '}\n';
}

/**
 * The event's JSON line, with its newline: the keys in DecisionEvent's order (the order in which
 * every producer builds it: core/decision-event.ts), the optional ones only when present.
 */
export function decisionLine(e: DecisionEvent): string {
  return head(e, JSON.stringify(e.time)) + tail(e);
}

/**
 * Writes decision lines as UTF-8 straight into a buffer (the log's chunks, service/decision-log.ts),
 * byte for byte what decisionLine gives. A device's PUBLISHes are recorded as events that differ
 * only in seq and time (same transport, decision, device, key, address and topic), so the bytes
 * after `time` are kept from the last event and copied while they still fit; only the head is
 * encoded per event. No string outlives the call.
 */
export class DecisionLineEncoder {
  // The last event's fields after `time`: its tail's bytes are #tail[0, #tailBytes).
  #transport = '';
  #action = '';
  #result = '';
  #reason = '';
  #rule = '';
  #deviceId: string | undefined = undefined;
  #keyId: string | undefined = undefined;
  #sourceAddress: string | undefined = undefined;
  #forwardedFor: string | undefined = undefined;
  #peerAddress: string | undefined = undefined;
  #topic: string | undefined = undefined;
  #tail = Buffer.allocUnsafe(512);
  #tailBytes = -1;
  /** #tail[0, #tailBytes) as a view of its own, so copying it makes no view per line. */
  #tailView: Uint8Array = new Uint8Array(0);
  #time = '';
  #quotedTime = '""';
  /** `,"time":` and the quoted time as UTF-8 (made once per time, i.e. per millisecond). */
  #timeView: Uint8Array = new Uint8Array(0);

  /** Writes e's line at buf[off]; returns its length in bytes, or -1 (nothing written) if it may not fit. */
  encodeInto(e: DecisionEvent, buf: Buffer, off: number): number {
    if (e.action === 'connect' || e.action === 'disconnect' || e.action === 'auth')
      return this.#encodeOnce(e, buf, off);
    if (!this.#sameTail(e)) this.#remember(e);
    if (e.time !== this.#time) this.#quoted(e.time);
    const seq = e.seq;
    if (!Number.isSafeInteger(seq) || seq < 0) return this.#encodeText(e, buf, off);
    // The head written as bytes: `{"seq":`, the digits, then the time's bytes (no string per line).
    let digits = 1;
    for (let p = 10; p <= seq; p *= 10) digits++;
    const time = this.#timeView;
    const bytes = SEQ_PREFIX.length + digits + time.length + this.#tailBytes;
    if (off + bytes > buf.length) return -1;
    buf.set(SEQ_PREFIX, off);
    let at = off + SEQ_PREFIX.length + digits;
    for (let n = seq; at > off + SEQ_PREFIX.length; n = Math.floor(n / 10)) buf[--at] = 48 + (n % 10);
    at = off + SEQ_PREFIX.length + digits;
    buf.set(time, at);
    buf.set(this.#tailView, at + time.length);
    return bytes;
  }

  /**
   * A CONNECT's (a disconnect's, an HTTP authentication's) line. Its tail is that connection's own
   * and never comes again, so it is not kept (keeping it cost a copy into #tail and out again, and
   * pushed out the tail of the PUBLISHes around it): the line is one string written straight into
   * buf (issue 17 item 1). UTF-8 takes at most 3 bytes per UTF-16 unit, so a line with that much
   * room left is written without being measured first.
   */
  #encodeOnce(e: DecisionEvent, buf: Buffer, off: number): number {
    const line = head(e, this.#quoted(e.time)) + tail(e);
    const room = buf.length - off;
    if (line.length * 3 > room && Buffer.byteLength(line) > room) return -1;
    return buf.write(line, off, 'utf8');
  }

  /** encodeInto for a seq that is not a plain decimal integer (never from the feed): through a string. */
  #encodeText(e: DecisionEvent, buf: Buffer, off: number): number {
    const h = head(e, this.#quotedTime);
    const exact = Buffer.byteLength(h);
    if (off + exact + this.#tailBytes > buf.length) return -1;
    const n = buf.write(h, off, 'utf8');
    buf.set(this.#tailView, off + n);
    return n + this.#tailBytes;
  }

  /** The quoted time (and its bytes, #timeView), made once per time string, i.e. per millisecond. */
  #quoted(time: string): string {
    if (time !== this.#time) {
      this.#time = time;
      this.#quotedTime = JSON.stringify(time);
      this.#timeView = Buffer.from(`,"time":${this.#quotedTime}`, 'utf8');
    }
    return this.#quotedTime;
  }

  #sameTail(e: DecisionEvent): boolean {
    return (
      this.#tailBytes >= 0 &&
      e.topic === this.#topic &&
      e.rule === this.#rule &&
      e.deviceId === this.#deviceId &&
      e.keyId === this.#keyId &&
      e.sourceAddress === this.#sourceAddress &&
      e.action === this.#action &&
      e.result === this.#result &&
      e.reason === this.#reason &&
      e.transport === this.#transport &&
      e.forwardedFor === this.#forwardedFor &&
      e.peerAddress === this.#peerAddress
    );
  }

  #remember(e: DecisionEvent): void {
    const t = tail(e);
    const bytes = Buffer.byteLength(t);
    if (bytes > this.#tail.length) this.#tail = Buffer.allocUnsafe(bytes);
    this.#tailBytes = this.#tail.write(t, 0, 'utf8');
    this.#tailView = this.#tail.subarray(0, this.#tailBytes);
    this.#transport = e.transport;
    this.#action = e.action;
    this.#result = e.result;
    this.#reason = e.reason;
    this.#rule = e.rule;
    this.#deviceId = e.deviceId;
    this.#keyId = e.keyId;
    this.#sourceAddress = e.sourceAddress;
    this.#forwardedFor = e.forwardedFor;
    this.#peerAddress = e.peerAddress;
    this.#topic = e.topic;
  }
}
