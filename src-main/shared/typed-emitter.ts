// A typed event emitter (after MQTT.js src/lib/TypedEmitter.ts): event names and payloads are checked.
import { EventEmitter } from 'node:events';

export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #ee = new EventEmitter();

  constructor() {
    this.#ee.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    this.#ee.on(event, listener);
    return () => this.#ee.off(event, listener);
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    this.#ee.emit(event, payload);
  }
}
