// The brokers a simulated device may use (docs/design.md §7, "Fleets across machines"): one URL, or
// the nodes of a cluster in the order the device walks them. It is on one at a time; when that
// node goes away it moves to the next, round the list. A close the broker's feed explained as policy
// (a denied publish, a key switched off, a take-over: "denied" in the feed, docs/design.md §4) is
// the same on every node and does not move it; the broker's shutdown is not policy.
import type { SimLogEntry } from './types.ts';

export class BrokerList {
  readonly urls: readonly string[];
  #at = 0;
  #moves = 0;
  /** A broker-sourced denial arrived on the current connection (its close is policy). */
  #policy = false;

  constructor(url: string | readonly string[]) {
    this.urls = typeof url === 'string' ? [url] : [...url];
    if (this.urls.length === 0) throw new Error('a simulated device needs at least one broker URL');
  }

  /** The broker the device is on, or tries next. */
  get current(): string {
    return this.urls[this.#at]!;
  }

  /** More than one broker to go to. */
  get many(): boolean {
    return this.urls.length > 1;
  }

  /** Moves so far. */
  get moves(): number {
    return this.#moves;
  }

  /** A new connection attempt: what the last one was told is forgotten. */
  attempting(): void {
    this.#policy = false;
  }

  /** An outcome on the current connection: a broker's denial of a publish or a disconnect is policy. */
  saw(e: SimLogEntry): void {
    if (e.source === 'broker' && !e.ok && (e.kind === 'publish' || e.kind === 'disconnect')) this.#policy = true;
    if (e.kind === 'connect' && this.many) e.broker = this.current;
  }

  /** The broker closed a live connection: move on unless it was policy. */
  afterClose(): { from: string; to: string } | undefined {
    return this.#policy ? undefined : this.next();
  }

  /** Failed attempts in a row before giving up: a refusal is the same on every node, a network
   * failure goes round the list `max` times. */
  attemptLimit(max: number, refused: boolean): number {
    return max * (refused ? 1 : this.urls.length);
  }

  /** Goes to the next broker of the list; returns where from and where to (undefined with one broker). */
  next(): { from: string; to: string } | undefined {
    if (!this.many) return undefined;
    const from = this.current;
    this.#at = (this.#at + 1) % this.urls.length;
    this.#moves++;
    return { from, to: this.current };
  }
}
