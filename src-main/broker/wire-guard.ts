// Checks on the raw bytes a client sends, made BEFORE mqtt-packet buffers or decodes them
// (issue 12 bullet 1, issue 13 bullet 1). A small framer follows the packet boundaries from each
// fixed header (type byte + remaining-length varint, MQTT 3.1.1 section 2.2) across socket reads and:
//  - refuses a packet whose remaining length exceeds the cap as soon as the varint is complete,
//    so `10 ff ff ff 7f` + 32 MB of junk costs one read, not 32 MB (mqtt-packet would append
//    everything to its buffer list until the claimed length arrived);
//  - checks the bytes of every topic name and filter (PUBLISH, the CONNECT will topic,
//    SUBSCRIBE, UNSUBSCRIBE) as UTF-8 [MQTT-1.5.3-1], [MQTT-1.5.3-2], because mqtt-packet decodes
//    them with U+FFFD and no later check can tell `tv/` + C3 28 from `tv/\uFFFD(`.
// It reads only what it must: for a PUBLISH just the topic (the payload is skipped), for the
// other three the body (bounded by the cap). Packets before a bad one in the same read still
// reach aedes; nothing from the bad one on does. Malformed packets the framer cannot follow are
// passed through for mqtt-packet to refuse as it always did.
import { describeBadUtf8, firstBadUtf8, printableWithBadBytes, type Utf8Problem } from './wire-utf8.ts';

export type InspectedPacket = 'CONNECT' | 'PUBLISH' | 'SUBSCRIBE' | 'UNSUBSCRIBE';

export type WireViolation =
  | {
      kind: 'utf8';
      packet: InspectedPacket;
      field: 'will topic' | 'topic name' | 'topic filter';
      problem: Utf8Problem;
      /** The string with its bad bytes shown as \xNN (for the decision's topic field). */
      printable: string;
    }
  | {
      kind: 'size';
      /** MQTT control packet type name, e.g. PUBLISH; "type N" when reserved. */
      packet: string;
      /** The remaining length the fixed header claims (bytes after the fixed header). */
      claimed: number;
      /** True when the varint itself was longer than MQTT allows (4 bytes, [MQTT-2.2.3]). */
      malformedLength: boolean;
      cap: number;
      /**
       * Which cap refused it: `connect` the pre-login cap on the first packet (the CONNECT,
       * [MQTT-3.1.0-1]); `pre-login` what is left of the pre-login budget for packets sent
       * behind an unanswered CONNECT; `packet` the per-packet limit (--max-packet).
       */
      limit: 'connect' | 'pre-login' | 'packet';
      /** True when the client had not logged in yet. */
      beforeConnect: boolean;
    };

/**
 * The first packet (the CONNECT) may claim at most `maxPacketBeforeConnect`. Clients such as
 * mosquitto_pub send their PUBLISH right behind the CONNECT without waiting for CONNACK, so a
 * packet after it may claim up to `maxPacket` even before login, but everything framed before
 * login together never exceeds maxPacketBeforeConnect + maxPacket: that is the most an
 * unauthenticated socket can make the broker hold.
 */
export interface WireCaps {
  /** Largest remaining length of the CONNECT, and the pre-login budget beyond one packet. */
  maxPacketBeforeConnect: number;
  /** Largest remaining length of any packet. */
  maxPacket: number;
}

const TYPE_NAMES = [
  'type 0',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'type 15',
] as const;
const CONNECT = 1;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
/** Largest remaining length MQTT can express (4 varint bytes). */
const MAX_REMAINING = 268_435_455;

const enum State {
  Header,
  Length,
  Body,
}

/**
 * The bytes a length-prefixed field at src[p] takes (its 2-byte length + the string), or -1 when
 * its prefix is past `end`. A function, not a closure in #check: one closure per CONNECT showed
 * in the CONNECT profile (issue 17 item 1).
 */
function prefixed(src: Buffer, p: number, end: number): number {
  return p + 2 <= end ? 2 + (((src[p] as number) << 8) | (src[p + 1] as number)) : -1;
}

export class WireFramer {
  #state = State.Header;
  #type = 0;
  #len = 0;
  #mul = 1;
  #lenBytes = 0;
  /** Body bytes of the current packet not yet seen. */
  #remaining = 0;
  /** How many bytes from the start of the body must be looked at (0 = nothing to check). */
  #need = 0;
  /** Bytes of that prefix copied so far, when it straddles reads. */
  #got = 0;
  #buf: Buffer | null = null;
  #packets = 0;
  /** Bytes of the packets framed before login (fixed headers included). */
  #preLogin = 0;
  violation: WireViolation | null = null;
  /** Set by installWireGuard: aedes' parse and the reporter (shared by every connection). */
  guarded: Guarded | null = null;
  /** Whether the violation was reported (installWireGuard reports it once). */
  reported = false;

  constructor(
    readonly caps: WireCaps,
    /** Whether CONNECT was accepted: a function, or the aedes Client itself (its `connected`). */
    private readonly loggedIn: (() => boolean) | { readonly connected: boolean },
  ) {}

  /**
   * Follows `chunk`; returns how many of its leading bytes may go on to the parser: all of them,
   * or fewer once a violation is found (then `violation` says what, and later chunks return 0).
   */
  feed(chunk: Buffer): number {
    if (this.violation) return 0;
    const n = chunk.length;
    let i = 0;
    let packetStart = 0; // where the current packet began in this chunk (0: in an earlier one)
    while (i < n) {
      if (this.#state === State.Header) {
        packetStart = i;
        this.#type = (chunk[i++] as number) >> 4;
        this.#len = 0;
        this.#mul = 1;
        this.#lenBytes = 0;
        this.#state = State.Length;
      } else if (this.#state === State.Length) {
        const b = chunk[i++] as number;
        this.#len += (b & 0x7f) * this.#mul;
        this.#mul *= 128;
        this.#lenBytes++;
        const more = (b & 0x80) !== 0;
        if (more && this.#lenBytes < 4) continue;
        const before = !(typeof this.loggedIn === 'function' ? this.loggedIn() : this.loggedIn.connected);
        const size = 1 + this.#lenBytes + this.#len;
        let cap = this.caps.maxPacket;
        let limit: 'connect' | 'pre-login' | 'packet' = 'packet';
        if (before && this.#packets === 0) {
          cap = this.caps.maxPacketBeforeConnect;
          limit = 'connect';
        } else if (before && this.#len <= cap) {
          const budget = this.caps.maxPacketBeforeConnect + this.caps.maxPacket - this.#preLogin - (size - this.#len);
          if (this.#len > budget) [cap, limit] = [Math.max(0, budget), 'pre-login'];
        }
        if (more || this.#len > cap) {
          this.violation = {
            kind: 'size',
            packet: TYPE_NAMES[this.#type] ?? `type ${this.#type}`,
            claimed: more ? MAX_REMAINING + 1 : this.#len,
            malformedLength: more,
            cap,
            limit,
            beforeConnect: before,
          };
          return packetStart;
        }
        this.#packets++;
        if (before) this.#preLogin += size;
        this.#startBody();
      } else {
        const avail = Math.min(this.#remaining, n - i);
        if (this.#need > 0 && !this.#inspect(chunk, i, avail)) return packetStart;
        i += avail;
        this.#remaining -= avail;
        if (this.#remaining === 0) this.#endPacket();
      }
    }
    return n;
  }

  #startBody(): void {
    this.#remaining = this.#len;
    const t = this.#type;
    // PUBLISH: first the 2-byte topic length, then the topic. Others: the whole (capped) body.
    this.#need = t === PUBLISH ? 2 : t === CONNECT || t === SUBSCRIBE || t === UNSUBSCRIBE ? this.#len : 0;
    if (this.#need > this.#len) this.#need = 0; // too short to hold it: mqtt-packet will refuse it
    this.#got = 0;
    this.#buf = null;
    this.#state = State.Body;
    if (this.#len === 0) this.#endPacket();
  }

  #endPacket(): void {
    this.#state = State.Header;
    this.#need = 0;
    this.#buf = null;
  }

  /**
   * Looks at the body prefix it needs, given chunk[i, i+avail) (the next body bytes). Returns
   * false on a violation. Copies only when the prefix straddles reads.
   */
  #inspect(chunk: Buffer, i: number, avail: number): boolean {
    while (this.#need > 0) {
      const bodyPos = this.#len - this.#remaining; // body offset of chunk[i]
      let src: Buffer;
      let base: number;
      if (this.#got === 0 && bodyPos === 0 && avail >= this.#need) {
        src = chunk;
        base = i;
      } else {
        if (!this.#buf || this.#buf.length < this.#need) {
          const grown = Buffer.allocUnsafe(this.#need);
          if (this.#buf) this.#buf.copy(grown, 0, 0, this.#got);
          this.#buf = grown;
        }
        const to = Math.min(this.#need, bodyPos + avail);
        if (to > this.#got) {
          chunk.copy(this.#buf, this.#got, i + (this.#got - bodyPos), i + (to - bodyPos));
          this.#got = to;
        }
        if (this.#got < this.#need) return true; // the rest comes in a later read
        src = this.#buf;
        base = 0;
      }
      if (!this.#check(src, base)) return false;
    }
    return true;
  }

  /** Checks body[0, need) at src[base…]; sets a larger `need` (PUBLISH) or 0 when done. */
  #check(src: Buffer, base: number): boolean {
    const t = this.#type;
    const end = base + this.#need;
    if (t === PUBLISH) {
      if (this.#need === 2) {
        const l = ((src[base] as number) << 8) | (src[base + 1] as number);
        this.#need = l === 0 || 2 + l > this.#len ? 0 : 2 + l;
        return true;
      }
      this.#need = 0;
      return this.#string(src, base, end, 'PUBLISH', 'topic name');
    }
    this.#need = 0;
    if (t === SUBSCRIBE || t === UNSUBSCRIBE) {
      const name = t === SUBSCRIBE ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
      let p = base + 2; // after the packet identifier
      while (p + 2 <= end) {
        const l = ((src[p] as number) << 8) | (src[p + 1] as number);
        if (p + 2 + l > end) break; // malformed: mqtt-packet refuses it
        if (!this.#string(src, p, p + 2 + l, name, 'topic filter')) return false;
        p += 2 + l + (t === SUBSCRIBE ? 1 : 0); // SUBSCRIBE: the requested QoS byte
      }
      return true;
    }
    // CONNECT [MQTT-3.1.2]: protocol name, level, flags, keep alive, client id, then the will
    // topic when the will flag (0x04) is set. MQTT 5 (level 5) has properties in between; it is
    // refused at CONNECT anyway.
    let p = base;
    const proto = prefixed(src, p, end);
    if (proto < 0 || p + proto + 4 > end) return true;
    p += proto;
    const level = src[p] as number;
    const flags = src[p + 1] as number;
    p += 4;
    if (level === 5 || (flags & 0x04) === 0) return true;
    const id = prefixed(src, p, end);
    if (id < 0 || p + id > end) return true;
    p += id;
    const will = prefixed(src, p, end);
    if (will < 0 || p + will > end) return true;
    return this.#string(src, p, p + will, 'CONNECT', 'will topic');
  }

  /** src[at, at+2) is the length prefix, src[at+2, end) the string. */
  #string(
    src: Buffer,
    at: number,
    end: number,
    packet: InspectedPacket,
    field: 'will topic' | 'topic name' | 'topic filter',
  ): boolean {
    if (firstBadUtf8(src, at + 2, end) < 0) return true;
    const problem = describeBadUtf8(src, at + 2, end) as Utf8Problem;
    this.violation = {
      kind: 'utf8',
      packet,
      field,
      problem,
      printable: printableWithBadBytes(src, at + 2, end, problem),
    };
    return false;
  }
}

/**
 * What a guarded parser needs besides its framer: aedes' parse and the reporter. Kept on the
 * framer itself (one object per connection, not a framer plus a guard record; issue 17 item 4).
 */
interface Guarded {
  parse: (buf: Buffer) => number;
  onViolation: (v: WireViolation, parser: object) => void;
}

const GUARDS = new WeakMap<object, WireFramer>();
/** One record per reporter (and parse), shared by the connections that have them. */
const SHARED = new WeakMap<object, Guarded>();

function guardedParse(this: object, buf: Buffer): number {
  const f = GUARDS.get(this) as WireFramer;
  const g = f.guarded as Guarded;
  const ok = f.feed(buf);
  if (ok === buf.length) return g.parse.call(this, buf);
  if (ok > 0) g.parse.call(this, buf.subarray(0, ok));
  if (!f.reported && f.violation) {
    f.reported = true;
    g.onViolation(f.violation, this);
  }
  return 0;
}

/**
 * Puts a WireFramer in front of aedes' parser for this client: every read goes through `feed`
 * first; on a violation the bytes before the bad packet still reach aedes, then `onViolation`
 * runs once, with the parser (it closes the connection), and nothing more is parsed.
 */
export function installWireGuard(
  parser: { parse(buf: Buffer): number },
  framer: WireFramer,
  onViolation: (v: WireViolation, parser: object) => void,
): void {
  const parse = parser.parse;
  // aedes' parse is mqtt-packet's prototype method and the reporter is one per broker: the same
  // pair for every connection, so they share one record.
  let g = SHARED.get(onViolation);
  if (g?.parse !== parse) SHARED.set(onViolation, (g = { parse, onViolation }));
  framer.guarded = g;
  GUARDS.set(parser, framer);
  parser.parse = guardedParse;
}
