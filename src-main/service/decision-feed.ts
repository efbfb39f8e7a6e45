// The decision feed (docs/design.md §8): every broker and device-auth decision, in a bounded ring in memory,
// followed live through an event, exportable as JSON lines. Events never carry a secret.
import type { DecisionEvent } from '../core/decision-event.ts';
import { type ListenerErrorSink, TypedEmitter } from '../shared/typed-emitter.ts';
import type { DecisionSink, NewDecision } from '../shared/ports.ts';

export const DEFAULT_FEED_CAPACITY = 10_000;

/**
 * One place in the ring. The ring keeps its own objects and overwrites them in place: an event
 * object that the ring kept for 10,000 events would outlive the young generation and be copied
 * into the old one, for every PUBLISH; these are allocated once. Absent fields are undefined here
 * and left out of what list() hands out.
 */
interface Slot {
  seq: number;
  time: string;
  transport: DecisionEvent['transport'];
  action: DecisionEvent['action'];
  result: DecisionEvent['result'];
  reason: DecisionEvent['reason'];
  rule: string;
  deviceId: string | undefined;
  keyId: string | undefined;
  sourceAddress: string | undefined;
  forwardedFor: string | undefined;
  peerAddress: string | undefined;
  topic: string | undefined;
  node: string | undefined;
}

function toEvent(s: Slot): DecisionEvent {
  const e: DecisionEvent = {
    seq: s.seq,
    time: s.time,
    transport: s.transport,
    action: s.action,
    result: s.result,
    reason: s.reason,
    rule: s.rule,
  };
  if (s.deviceId !== undefined) e.deviceId = s.deviceId;
  if (s.keyId !== undefined) e.keyId = s.keyId;
  if (s.sourceAddress !== undefined) e.sourceAddress = s.sourceAddress;
  if (s.forwardedFor !== undefined) e.forwardedFor = s.forwardedFor;
  if (s.peerAddress !== undefined) e.peerAddress = s.peerAddress;
  if (s.topic !== undefined) e.topic = s.topic;
  if (s.node !== undefined) e.node = s.node;
  return e;
}

export class DecisionFeed implements DecisionSink {
  readonly events: TypedEmitter<{ decision: DecisionEvent }>;
  readonly #ring: (Slot | undefined)[];
  #next = 0;
  #seq = 0;
  /** Events in the ring (at most capacity). */
  #count = 0;
  // Every PUBLISH and every refused delivery is recorded, tens of thousands a second: format the
  // ISO time once per millisecond, not once per event.
  #timeMs = -1;
  #timeIso = '';
  // The last topic and rule kept: a session's PUBLISHes repeat them, each as a string of its own
  // (parsed from its packet). The ring keeps the first copy instead, so the ones that follow die
  // young, not 10,000 events later in the old generation (issue 17).
  #lastTopic: string | undefined = undefined;
  #lastRule = '';
  /** Clustered: this node's id, set on every event recorded here (docs/design.md §8 "Clustered"). */
  node: string | undefined = undefined;

  constructor(
    readonly capacity = DEFAULT_FEED_CAPACITY,
    onListenerError?: ListenerErrorSink,
  ) {
    this.events = new TypedEmitter({ ...(onListenerError ? { onListenerError } : {}) });
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`decision feed capacity must be a positive integer (got ${capacity})`);
    this.#ring = new Array<Slot | undefined>(capacity);
  }

  record(d: NewDecision): DecisionEvent {
    return this.add({ seq: 0, time: '', ...d });
  }

  /**
   * Records an event the caller built and hands over (the broker's per-message path: no copy).
   * Sets its `seq` and `time`, tells the listeners, and returns it; the caller must not change
   * it afterwards. The ring keeps a copy of its fields.
   */
  add(event: DecisionEvent): DecisionEvent {
    const ms = Date.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#timeIso = new Date(ms).toISOString();
    }
    event.time = this.#timeIso;
    if (this.node !== undefined) event.node = this.node;
    return this.#put(event);
  }

  /**
   * An event another cluster node decided (service/cluster-decisions.ts): it keeps its `time`
   * and `node`, gets the next `seq` of this feed, and goes to the listeners like a local one.
   */
  merge(event: DecisionEvent): DecisionEvent {
    if (event.node === undefined || event.node === this.node)
      throw new Error('a merged decision must name another node');
    return this.#put(event);
  }

  #put(event: DecisionEvent): DecisionEvent {
    event.seq = ++this.#seq;
    if (event.topic !== undefined) {
      if (event.topic === this.#lastTopic) event.topic = this.#lastTopic;
      else this.#lastTopic = event.topic;
    }
    if (event.rule === this.#lastRule) event.rule = this.#lastRule;
    else this.#lastRule = event.rule;
    const slot = this.#ring[this.#next];
    if (slot === undefined) {
      this.#ring[this.#next] = {
        seq: event.seq,
        time: event.time,
        transport: event.transport,
        action: event.action,
        result: event.result,
        reason: event.reason,
        rule: event.rule,
        deviceId: event.deviceId,
        keyId: event.keyId,
        sourceAddress: event.sourceAddress,
        forwardedFor: event.forwardedFor,
        peerAddress: event.peerAddress,
        topic: event.topic,
        node: event.node,
      };
    } else {
      slot.seq = event.seq;
      slot.time = event.time;
      slot.transport = event.transport;
      slot.action = event.action;
      slot.result = event.result;
      slot.reason = event.reason;
      slot.rule = event.rule;
      slot.deviceId = event.deviceId;
      slot.keyId = event.keyId;
      slot.sourceAddress = event.sourceAddress;
      slot.forwardedFor = event.forwardedFor;
      slot.peerAddress = event.peerAddress;
      slot.topic = event.topic;
      slot.node = event.node;
    }
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#count < this.capacity) this.#count++;
    this.events.emit('decision', event);
    return event;
  }

  /**
   * Puts events read back from the decision log (service/decision-log.ts) into an empty ring,
   * oldest first, keeping their seq and time; new events continue after the largest seq. Listeners
   * are not told (these are the past, not new decisions).
   */
  restore(events: readonly DecisionEvent[]): void {
    if (this.#seq !== 0) throw new Error('the decision feed can be restored only before its first event');
    let max = 0;
    for (const e of events.slice(-this.capacity)) {
      this.#ring[this.#next] = {
        seq: e.seq,
        time: e.time,
        transport: e.transport,
        action: e.action,
        result: e.result,
        reason: e.reason,
        rule: e.rule,
        deviceId: e.deviceId,
        keyId: e.keyId,
        sourceAddress: e.sourceAddress,
        forwardedFor: e.forwardedFor,
        peerAddress: e.peerAddress,
        topic: e.topic,
        node: e.node,
      };
      this.#next = (this.#next + 1) % this.capacity;
      this.#count = Math.min(this.#count + 1, this.capacity);
      max = Math.max(max, e.seq);
    }
    this.#seq = max;
  }

  /** Oldest first; at most `limit` of the newest. Fresh objects on every call. */
  list(limit = this.capacity): DecisionEvent[] {
    const n = Number.isNaN(limit) ? this.size : Math.min(this.size, Math.max(0, Math.floor(limit)));
    const out: DecisionEvent[] = new Array<DecisionEvent>(n);
    for (let i = 0; i < n; i++) {
      const slot = this.#ring[(this.#next - n + i + this.capacity) % this.capacity] as Slot;
      out[i] = toEvent(slot);
    }
    return out;
  }

  get size(): number {
    return this.#count;
  }

  toJsonLines(events: readonly DecisionEvent[] = this.list()): string {
    return events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : '');
  }
}
