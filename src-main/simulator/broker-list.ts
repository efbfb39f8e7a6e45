// The brokers a simulated device may use (docs/design.md §7, "Fleets across machines"): one URL, or
// the nodes of a cluster in the order the device walks them. It is on one at a time; when that
// node goes away it moves to the next, round the list.
export class BrokerList {
  readonly urls: readonly string[];
  #at = 0;
  #moves = 0;

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

  /** Goes to the next broker of the list; returns where from and where to (undefined with one broker). */
  next(): { from: string; to: string } | undefined {
    if (!this.many) return undefined;
    const from = this.current;
    this.#at = (this.#at + 1) % this.urls.length;
    this.#moves++;
    return { from, to: this.current };
  }
}
