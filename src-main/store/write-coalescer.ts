// One write at a time; everything requested while one runs goes out together in the next.
// Each write captures ALL of memory when it starts, so a lazy waiter is satisfied by any write
// that starts after its change, whoever asked for it.
//
// A failed write abandons every change not yet on disk: the `write` callback must, before it
// rejects, have put memory back to what the file holds (lowdb-store.ts does, with UndoJournal).
// So the coalescer rejects the waiters of that write AND every waiter queued behind it (their
// changes were made on top of the refused ones and were taken back with them). Nothing is
// retried: memory and file agree again, and the next change gets a write of its own.
import { LAZY_WRITE_MS } from './store.ts';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WriteCoalescer {
  #waiters: Waiter[] = [];
  #lazy: Waiter[] = [];
  #lazyTimer: NodeJS.Timeout | null = null;
  #lazyShared: Promise<void> | null = null;
  #idle: Waiter[] = [];
  #running = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly lazyMs = LAZY_WRITE_MS,
  ) {}

  /** Resolves after a write that starts after this call has completed. */
  request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#start();
    });
  }

  /**
   * Like request(), but the write may start up to `lazyMs` later (sooner if anything else writes).
   * Every lazy request until that write picks them up shares ONE promise (and one waiter): a
   * connect burst of N devices costs one promise, not N.
   */
  requestLazy(): Promise<void> {
    this.#lazyShared ??= new Promise<void>((resolve, reject) => {
      this.#lazy.push({ resolve, reject });
      this.#lazyTimer ??= setTimeout(() => {
        this.#lazyTimer = null;
        this.#promoteLazy();
      }, this.lazyMs);
    });
    return this.#lazyShared;
  }

  /** The lazy waiters, taken for a write (the next lazy request starts a new shared promise). */
  #takeLazy(): Waiter[] {
    this.#lazyShared = null;
    return this.#lazy.splice(0);
  }

  /** Whether changes are waiting for (or riding in) a write. */
  get pending(): boolean {
    return this.#running || this.#waiters.length > 0 || this.#lazy.length > 0;
  }

  #start(): void {
    if (!this.#running) {
      this.#running = true;
      // A microtask, so the puts made in the same synchronous run share one write.
      queueMicrotask(() => void this.#drain());
    }
  }

  #clearLazyTimer(): void {
    if (this.#lazyTimer) {
      clearTimeout(this.#lazyTimer);
      this.#lazyTimer = null;
    }
  }

  /** Lazy waiters become ordinary ones (their timer fired, or someone wants everything on disk). */
  #promoteLazy(): void {
    this.#clearLazyTimer();
    if (this.#lazy.length === 0) return;
    this.#waiters.push(...this.#takeLazy());
    this.#start();
  }

  /**
   * Resolves when memory is on disk: writes lazy changes now and waits for writes in flight.
   * Rejects when one of those writes failed (its changes were taken back, see above).
   */
  flush(): Promise<void> {
    this.#promoteLazy();
    if (!this.#running) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#idle.push({ resolve, reject }));
  }

  async #drain(): Promise<void> {
    let failure: { error: unknown } | null = null;
    while (this.#waiters.length > 0) {
      // The write below serialises memory before its first await, so it carries every lazy
      // change made so far too.
      const batch = this.#waiters.splice(0);
      if (this.#lazy.length > 0) {
        batch.push(...this.#takeLazy());
        this.#clearLazyTimer();
      }
      try {
        await this.write();
        for (const waiter of batch) waiter.resolve();
      } catch (err) {
        failure = { error: err };
        // Memory was put back (including what was queued behind this write): nobody's change
        // will be written, so everybody waiting hears why.
        batch.push(...this.#waiters.splice(0), ...this.#takeLazy());
        this.#clearLazyTimer();
        for (const waiter of batch) waiter.reject(err);
      }
    }
    this.#running = false;
    for (const waiter of this.#idle.splice(0)) {
      if (failure) waiter.reject(failure.error);
      else waiter.resolve();
    }
  }
}
