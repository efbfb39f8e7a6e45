// The decision feed (SPEC §8): every broker and device-auth decision, in a bounded ring in memory,
// followed live through an event, exportable as JSON lines. Events never carry a secret.
import type { DecisionEvent } from '../core/decision-event.ts';
import { TypedEmitter } from './typed-emitter.ts';

export const DEFAULT_FEED_CAPACITY = 10_000;

export type NewDecision = Omit<DecisionEvent, 'seq' | 'time'>;

export class DecisionFeed {
  readonly events = new TypedEmitter<{ decision: DecisionEvent }>();
  readonly #ring: (DecisionEvent | undefined)[];
  #next = 0;
  #seq = 0;
  // Every PUBLISH and every refused delivery is recorded, tens of thousands a second: format the
  // ISO time once per millisecond, not once per event.
  #timeMs = -1;
  #timeIso = '';

  constructor(readonly capacity = DEFAULT_FEED_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`decision feed capacity must be a positive integer (got ${capacity})`);
    this.#ring = new Array<DecisionEvent | undefined>(capacity);
  }

  record(d: NewDecision): DecisionEvent {
    return this.add({ seq: 0, time: '', ...d });
  }

  /**
   * Records an event the caller built and hands over (the broker's per-message path: no copy).
   * Sets its `seq` and `time`; the caller must not touch it afterwards.
   */
  add(event: DecisionEvent): DecisionEvent {
    const ms = Date.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#timeIso = new Date(ms).toISOString();
    }
    event.seq = ++this.#seq;
    event.time = this.#timeIso;
    this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.capacity;
    this.events.emit('decision', event);
    return event;
  }

  /** Oldest first; at most `limit` of the newest. */
  list(limit = this.capacity): DecisionEvent[] {
    const out: DecisionEvent[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.#ring[(this.#next + i) % this.capacity];
      if (e) out.push(e);
    }
    return limit < out.length ? out.slice(out.length - limit) : out;
  }

  get size(): number {
    return Math.min(this.#seq, this.capacity);
  }

  toJsonLines(events: readonly DecisionEvent[] = this.list()): string {
    return events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : '');
  }
}
