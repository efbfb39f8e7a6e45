// The message tap behind the Messages view (docs/design.md §8a): the broker tells it every PUBLISH
// it decides and every message the platform publishes; the tap keeps a bounded recent ring and,
// per subscription (an MQTT filter the UI watches as the platform), a bounded ring of the matches.
// Memory is bounded three ways: messages per ring, payload bytes kept per message
// (PAYLOAD_KEEP_BYTES; `size` stays the whole size), and the number of live subscriptions (the
// least recently used one is dropped when a new one would exceed it).
import { randomBytes } from 'node:crypto';
import { PAYLOAD_KEEP_BYTES, type MessageSubscription, type TappedMessage } from '../core/message.ts';
import { topicMatches, validateTopicFilter } from '../core/topics.ts';
import { ServiceError } from '../shared/errors.ts';
import { type ListenerErrorSink, TypedEmitter } from '../shared/typed-emitter.ts';
import type { BrokerMessage } from '../broker/message-sink.ts';
import { SLOT_BYTES, SlotRing, type Slot } from './message-slots.ts';

export const DEFAULT_MESSAGE_LIMITS = {
  /** Messages kept per subscription. */
  perSubscription: 500,
  /** Messages kept for seeding new subscriptions (the device page's "recent messages"). */
  recent: 1000,
  /** Live subscriptions; a new one beyond this drops the least recently used. */
  subscriptions: 16,
} as const;

export interface MessageLimits {
  perSubscription: number;
  recent: number;
  subscriptions: number;
}

type SubscriptionInfo = MessageSubscription;

/** A message as kept: the payload's first bytes as a copy, encoded only when it is handed out. */
interface Kept {
  msg: Omit<TappedMessage, 'payload'>;
  bytes: Buffer;
}

function keptOf(s: Slot): Kept {
  const msg: Omit<TappedMessage, 'payload'> = {
    seq: s.seq,
    time: s.time,
    topic: s.topic,
    size: s.size,
    truncated: s.truncated,
    qos: s.qos,
    retain: s.retain,
    origin: s.origin,
    delivered: s.delivered,
  };
  if (s.deviceId !== undefined) msg.deviceId = s.deviceId;
  if (s.keyId !== undefined) msg.keyId = s.keyId;
  if (s.transport !== undefined) msg.transport = s.transport;
  if (s.decisionSeq !== 0)
    msg.decision = { seq: s.decisionSeq, result: s.decisionResult, reason: s.decisionReason, rule: s.decisionRule };
  return { msg, bytes: Buffer.from(s.bytes.subarray(0, s.length)) };
}

class Ring {
  readonly #items: (Kept | undefined)[];
  #next = 0;
  #size = 0;
  constructor(readonly capacity: number) {
    this.#items = new Array<Kept | undefined>(capacity);
  }
  push(k: Kept): void {
    this.#items[this.#next] = k;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }
  /** Oldest first. */
  list(): Kept[] {
    const out: Kept[] = [];
    for (let i = 0; i < this.#size; i++) {
      out.push(this.#items[(this.#next - this.#size + i + this.capacity) % this.capacity]!);
    }
    return out;
  }
  clear(): void {
    this.#items.fill(undefined);
    this.#size = 0;
  }
}

interface Subscription {
  info: SubscriptionInfo;
  ring: Ring;
  usedAt: number;
}

function wire(k: Kept): TappedMessage {
  return { ...k.msg, payload: k.bytes.toString('base64') };
}

export class MessageTap {
  readonly events: TypedEmitter<{ message: { message: TappedMessage; subscriptions: string[] } }>;
  readonly limits: MessageLimits;
  readonly #recent: SlotRing;
  readonly #subs = new Map<string, Subscription>();
  #seq = 0;
  #use = 0;
  readonly #waiters = new Set<(m: Kept) => void>();
  // Called for every PUBLISH: the ISO time is formatted once per millisecond (as in the feed).
  #timeMs = -1;
  #lastTopic = '';
  #timeIso = '';

  constructor(limits: Partial<MessageLimits> = {}, onListenerError?: ListenerErrorSink) {
    this.limits = { ...DEFAULT_MESSAGE_LIMITS, ...limits };
    for (const [k, v] of Object.entries(this.limits))
      if (!Number.isInteger(v) || v < 1) throw new Error(`message limit ${k} must be a positive integer (got ${v})`);
    this.#recent = new SlotRing(this.limits.recent);
    this.events = new TypedEmitter({ ...(onListenerError ? { onListenerError } : {}) });
  }

  /** The broker's sink (runtime.ts passes it as BrokerOptions.onMessage). */
  readonly tap = (m: BrokerMessage): void => {
    const size = m.payload.length;
    const ms = Date.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#timeIso = new Date(ms).toISOString();
    }
    const s = this.#recent.take();
    s.seq = ++this.#seq;
    s.time = this.#timeIso;
    // The ring keeps the first of a run of equal topic strings (one per packet): the others die young.
    if (m.topic !== this.#lastTopic) this.#lastTopic = m.topic;
    s.topic = this.#lastTopic;
    s.size = size;
    s.truncated = size > PAYLOAD_KEEP_BYTES;
    s.qos = m.qos;
    s.retain = m.retain;
    s.origin = m.origin;
    s.delivered = m.delivered;
    s.deviceId = m.deviceId;
    s.keyId = m.keyId;
    s.transport = m.transport;
    const d = m.decision;
    if (d) {
      s.decisionSeq = d.seq;
      s.decisionResult = d.result;
      s.decisionReason = d.reason;
      s.decisionRule = d.rule;
    } else s.decisionSeq = 0;
    // A copy (the broker's buffer may be a slice of a much larger socket read), into the slot's
    // own buffer when it is big enough.
    const keep = Math.min(size, PAYLOAD_KEEP_BYTES);
    if (s.bytes.length < keep) s.bytes = Buffer.allocUnsafe(Math.ceil(keep / SLOT_BYTES) * SLOT_BYTES);
    m.payload.copy(s.bytes, 0, 0, keep);
    s.length = keep;
    if (this.#waiters.size === 0 && this.#subs.size === 0) return;
    const kept = keptOf(s);
    for (const w of this.#waiters) w(kept);
    if (this.#subs.size === 0) return;
    const matched: string[] = [];
    for (const sub of this.#subs.values()) {
      if (!matches(sub.info, kept.msg)) continue;
      sub.ring.push(kept);
      matched.push(sub.info.id);
    }
    if (matched.length > 0 && this.events.listenerCount('message') > 0)
      this.events.emit('message', { message: wire(kept), subscriptions: matched });
  };

  /**
   * Watches `filter` (any valid MQTT filter, `$` topics excluded as for any client), optionally
   * only messages of one device (published by it, or on its `losant/{id}/…` topics). Starts with
   * the matching messages the recent ring still holds.
   */
  subscribe(filter: string, deviceId?: string): { subscription: SubscriptionInfo; messages: TappedMessage[] } {
    const bad = validateTopicFilter(filter);
    if (bad !== null)
      throw new ServiceError('validation', `filter ${JSON.stringify(filter)}: ${bad}`, [
        { field: 'filter', message: bad },
      ]);
    while (this.#subs.size >= this.limits.subscriptions) {
      let oldest: Subscription | undefined;
      for (const s of this.#subs.values()) if (!oldest || s.usedAt < oldest.usedAt) oldest = s;
      this.#subs.delete(oldest!.info.id);
    }
    const info: SubscriptionInfo = {
      id: randomBytes(8).toString('hex'),
      filter,
      ...(deviceId !== undefined ? { deviceId } : {}),
      capacity: this.limits.perSubscription,
      payloadKeep: PAYLOAD_KEEP_BYTES,
    };
    const ring = new Ring(this.limits.perSubscription);
    for (const slot of this.#recent.list()) if (matches(info, slot)) ring.push(keptOf(slot));
    this.#subs.set(info.id, { info, ring, usedAt: ++this.#use });
    return { subscription: info, messages: ring.list().map(wire) };
  }

  /**
   * The next message `pred` accepts, or null after `timeoutMs`. Register before causing the
   * message (the Publish box waits for its own PUBLISH to learn the broker's decision).
   */
  next(pred: (m: Omit<TappedMessage, 'payload'>) => boolean, timeoutMs: number): Promise<TappedMessage | null> {
    return new Promise((resolve) => {
      const done = (k: Kept | null) => {
        this.#waiters.delete(w);
        clearTimeout(timer);
        resolve(k ? wire(k) : null);
      };
      const w = (k: Kept) => {
        if (pred(k.msg)) done(k);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      timer.unref();
      this.#waiters.add(w);
    });
  }

  /** The messages kept for a subscription, oldest first. */
  list(id: string): TappedMessage[] {
    return this.#get(id).ring.list().map(wire);
  }

  clear(id: string): void {
    this.#get(id).ring.clear();
  }

  unsubscribe(id: string): void {
    this.#get(id);
    this.#subs.delete(id);
  }

  get subscriptionCount(): number {
    return this.#subs.size;
  }

  #get(id: string): Subscription {
    const s = this.#subs.get(id);
    if (!s)
      throw new ServiceError(
        'not-found',
        `no message subscription ${JSON.stringify(id)} (it was closed, or dropped as the least recently used of ${this.limits.subscriptions})`,
      );
    s.usedAt = ++this.#use;
    return s;
  }
}

function matches(info: SubscriptionInfo, m: { deviceId?: string | undefined; topic: string }): boolean {
  if (info.deviceId !== undefined && m.deviceId !== info.deviceId && !m.topic.startsWith(`losant/${info.deviceId}/`))
    return false;
  return topicMatches(info.filter, m.topic);
}
