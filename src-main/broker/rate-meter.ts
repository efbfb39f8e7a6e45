// Message rate over a sliding window of one-second buckets (for the Broker view).
// add() runs for every PUBLISH and every delivery, so it only counts: the owner calls tick() once a
// second (a timer) to close the current bucket. No clock is read per message.
export class RateMeter {
  #total = 0;
  #current = 0;
  /** Counts of the last completed seconds (a ring). */
  readonly #done: number[];
  #i = 0;
  #completed = 0;

  constructor(private readonly windowSeconds = 5) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 2)
      throw new Error(`rate window must be an integer of at least 2 seconds (got ${windowSeconds})`);
    this.#done = new Array<number>(windowSeconds - 1).fill(0);
  }

  add(n = 1): void {
    this.#current += n;
    this.#total += n;
  }

  /** Closes the current one-second bucket. */
  tick(): void {
    this.#done[this.#i] = this.#current;
    this.#i = (this.#i + 1) % this.#done.length;
    this.#current = 0;
    if (this.#completed < this.#done.length) this.#completed++;
  }

  get total(): number {
    return this.#total;
  }

  /** Events per second over the completed buckets of the window (0 before the first one). */
  perSecond(): number {
    if (this.#completed === 0) return 0;
    let sum = 0;
    for (const c of this.#done) sum += c;
    return sum / this.#completed;
  }
}
