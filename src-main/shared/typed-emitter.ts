// A typed event emitter (after MQTT.js src/lib/TypedEmitter.ts): event names and payloads are checked.
// Listeners are isolated: one that throws (or returns a promise that rejects) is reported to the
// error sink and the others still run. emit() never throws, so an event announcing a change that
// is already committed can never turn that change into a failure for its caller.

/** Told about a listener that threw; `event` is the event's name (payloads are never passed on). */
export type ListenerErrorSink = (event: string, err: unknown) => void;

export interface TypedEmitterOptions {
  /** Default: one line on stderr. */
  onListenerError?: ListenerErrorSink;
}

/** A log line for a listener failure: the event and the error's message, never the payload. */
export function listenerErrorLine(event: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `keyport: a listener for "${event}" failed (the change itself stands): ${message}`;
}

const stderrSink: ListenerErrorSink = (event, err) => process.stderr.write(listenerErrorLine(event, err) + '\n');

type Listener = (payload: never) => unknown;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  // Arrays replaced on every on/off (copy on write): emit iterates the array it started with, so a
  // listener that subscribes or unsubscribes during an emit changes the next emit, not this one.
  readonly #listeners = new Map<string, Listener[]>();
  readonly #onError: ListenerErrorSink;

  constructor(opts: TypedEmitterOptions = {}) {
    this.#onError = opts.onListenerError ?? stderrSink;
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const list = this.#listeners.get(event) ?? [];
      const i = list.indexOf(listener);
      if (i >= 0) this.#listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    };
  }

  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener in order; never throws. */
  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const listener of list) {
      try {
        const r = (listener as (p: Events[K]) => unknown)(payload);
        if (r instanceof Promise) r.catch((err: unknown) => this.#report(event, err));
      } catch (err) {
        this.#report(event, err);
      }
    }
  }

  #report(event: string, err: unknown): void {
    try {
      this.#onError(event, err);
    } catch {
      // A sink that throws must not undo the isolation it is there for.
    }
  }
}
