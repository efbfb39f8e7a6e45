// A device's recent state reports (docs/design.md §5 "bounded recent history"), kept as the bytes
// of their payloads, not as parsed objects: a parsed report kept for the next 500 reports outlived
// the young generation and was copied into the old one, its data object, values and strings, for
// every state report (issue 17 item 1: a third of the broker's collector time on the state topic).
// The bytes live in one buffer per device outside the JS heap; a report is parsed again (the same
// text, so the same data) only when the history is read, which the device page does, not the broker.
import type { DeviceState, StateValue } from '../core/types.ts';

// As core/payloads.ts decodes a payload (a BOM is dropped, bad bytes become U+FFFD): the text read
// back is the text that was checked.
const utf8 = new TextDecoder('utf-8');

/** The last `capacity` reports of one device, oldest first. */
export class StateHistory {
  /** Each report's time (the ISO strings repeat: one per millisecond, shared). */
  readonly #times: string[];
  /** A report given as a string (HTTP, tests) is kept as that string; a Buffer's is in the arena. */
  readonly #texts: (string | undefined)[];
  readonly #offsets: Int32Array;
  readonly #lengths: Int32Array;
  #arena: Buffer = Buffer.allocUnsafeSlow(0);
  #used = 0;
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#times = new Array<string>(capacity).fill('');
    this.#texts = new Array<string | undefined>(capacity);
    this.#offsets = new Int32Array(capacity);
    this.#lengths = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Keeps a report that parseState accepted: its time and the payload it was parsed from. */
  push(time: string, payload: Uint8Array | string): void {
    const i = this.#next;
    // The slot's own report (the oldest, when full) goes now: it is not copied by a compaction.
    this.#lengths[i] = 0;
    this.#texts[i] = undefined;
    if (typeof payload === 'string') this.#texts[i] = payload;
    else {
      const n = payload.length;
      if (this.#used + n > this.#arena.length) this.#compact(n);
      this.#arena.set(payload, this.#used);
      this.#offsets[i] = this.#used;
      this.#lengths[i] = n;
      this.#used += n;
    }
    this.#times[i] = time;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /**
   * Makes room for `extra` more bytes. Reports are appended in order and dropped oldest first, so
   * the bytes kept are one run, from the oldest kept report's to the end: moved to the front, in
   * place when the arena is at least twice that (no allocation), else into a new arena of twice that.
   */
  #compact(extra: number): void {
    let start = this.#used;
    for (let j = 0; j < this.#size; j++) {
      const k = (this.#next - this.#size + j + this.capacity) % this.capacity;
      if ((this.#lengths[k] as number) > 0) {
        start = this.#offsets[k] as number;
        break;
      }
    }
    const live = this.#used - start;
    const want = Math.max(1024, 2 * (live + extra));
    if (this.#arena.length >= want && this.#arena.length <= 4 * want) this.#arena.copyWithin(0, start, this.#used);
    else {
      const arena = Buffer.allocUnsafeSlow(want);
      this.#arena.copy(arena, 0, start, this.#used);
      this.#arena = arena;
    }
    const offsets = this.#offsets;
    for (let k = 0; k < this.capacity; k++)
      if ((this.#lengths[k] as number) > 0) offsets[k] = (offsets[k] as number) - start;
    this.#used = live;
  }

  /** The reports, oldest first, as fresh objects: each payload parsed again (it parsed when it came). */
  list(): DeviceState[] {
    const out = new Array<DeviceState>(this.#size);
    for (let j = 0; j < this.#size; j++) {
      const k = (this.#next - this.#size + j + this.capacity) % this.capacity;
      const from = this.#offsets[k] as number;
      const text = this.#texts[k] ?? utf8.decode(this.#arena.subarray(from, from + (this.#lengths[k] as number)));
      const parsed = JSON.parse(text) as { data: Record<string, StateValue> };
      out[j] = { time: this.#times[k] as string, data: parsed.data };
    }
    return out;
  }
}
