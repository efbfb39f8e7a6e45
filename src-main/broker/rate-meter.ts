// Message rate over a sliding window of one-second buckets (for the Broker view).
export class RateMeter {
  #total = 0;
  readonly #buckets: number[];
  #bucketStart: number;
  #i = 0;

  constructor(
    private readonly windowSeconds = 5,
    private readonly now: () => number = Date.now,
  ) {
    this.#buckets = new Array<number>(windowSeconds).fill(0);
    this.#bucketStart = Math.floor(now() / 1000);
  }

  #advance(): void {
    const sec = Math.floor(this.now() / 1000);
    const steps = Math.min(sec - this.#bucketStart, this.windowSeconds);
    for (let s = 0; s < steps; s++) {
      this.#i = (this.#i + 1) % this.windowSeconds;
      this.#buckets[this.#i] = 0;
    }
    if (sec > this.#bucketStart) this.#bucketStart = sec;
  }

  add(n = 1): void {
    this.#advance();
    this.#buckets[this.#i] = (this.#buckets[this.#i] ?? 0) + n;
    this.#total += n;
  }

  get total(): number {
    return this.#total;
  }

  /** Events per second over the completed buckets of the window. */
  perSecond(): number {
    this.#advance();
    let sum = 0;
    for (let k = 0; k < this.windowSeconds; k++) if (k !== this.#i) sum += this.#buckets[k] ?? 0;
    return sum / (this.windowSeconds - 1);
  }
}
