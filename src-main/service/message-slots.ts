// The message tap's recent ring (docs/design.md §8a): the last messages the broker told, in
// slots overwritten in place, so that telling a message allocates nothing once the ring is full.
import type { TappedMessage } from '../core/message.ts';

/**
 * A place in the recent ring, overwritten in place by later messages: the tap sees every PUBLISH
 * (issue 17), and a message object and a payload copy per PUBLISH, kept for the next 1,000
 * messages, outlived the young generation every time. A Kept (its own objects) is made from a slot
 * only when someone takes the message: a subscription it matches, a waiter, a new subscription.
 */
export interface Slot {
  seq: number;
  time: string;
  topic: string;
  size: number;
  truncated: boolean;
  qos: 0 | 1 | 2;
  retain: boolean;
  origin: TappedMessage['origin'];
  delivered: boolean;
  deviceId: string | undefined;
  keyId: string | undefined;
  transport: TappedMessage['transport'];
  /** The decision's fields (decisionSeq 0: none, the platform's own publish). */
  decisionSeq: number;
  decisionResult: NonNullable<TappedMessage['decision']>['result'];
  decisionReason: NonNullable<TappedMessage['decision']>['reason'];
  decisionRule: string;
  /** The payload's first bytes in [0, length); a buffer reused while it is big enough. */
  bytes: Buffer;
  length: number;
}

/** The smallest buffer size, and the step, for a slot's payload copy. */
export const SLOT_BYTES = 128;

/** The recent messages, oldest first, in reused slots. */
export class SlotRing {
  readonly #slots: (Slot | undefined)[];
  #next = 0;
  #size = 0;
  constructor(readonly capacity: number) {
    this.#slots = new Array<Slot | undefined>(capacity);
  }
  /** The slot for the next message (the oldest one once the ring is full); fill it in. */
  take(): Slot {
    const slot = this.#slots[this.#next] ?? {
      seq: 0,
      time: '',
      topic: '',
      size: 0,
      truncated: false,
      qos: 0,
      retain: false,
      origin: 'device',
      delivered: false,
      deviceId: undefined,
      keyId: undefined,
      transport: undefined,
      decisionSeq: 0,
      decisionResult: 'allowed',
      decisionReason: 'publish.allowed',
      decisionRule: '',
      bytes: Buffer.allocUnsafe(SLOT_BYTES),
      length: 0,
    };
    this.#slots[this.#next] = slot;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    return slot;
  }
  /** Oldest first. */
  list(): Slot[] {
    const out: Slot[] = [];
    for (let i = 0; i < this.#size; i++)
      out.push(this.#slots[(this.#next - this.#size + i + this.capacity) % this.capacity]!);
    return out;
  }
}
