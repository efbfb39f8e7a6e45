// The messages of one report (docs/design.md §7): the device's state on losant/{id}/state as {"data": {...}},
// a gateway's state for each peripheral on losant/{peripheralId}/state, and a small JSON message on
// each custom publish topic. Topics the broker refused are left out.
import type { StateValue } from '../core/types.ts';
import { makeAttributeSource } from './generators.ts';
import type { SimBehaviour } from './types.ts';

export interface OutgoingMessage {
  topic: string;
  payload: string;
  qos: 0 | 1;
  /** The device's own state report. */
  own: boolean;
}

export class ReportBuilder {
  readonly #own: (t: number) => Record<string, StateValue>;
  readonly #peripherals = new Map<string, (t: number) => Record<string, StateValue>>();

  constructor(
    private readonly deviceId: string,
    private readonly behaviour: SimBehaviour,
    private readonly rand?: () => number,
  ) {
    this.#own = makeAttributeSource(behaviour.attributes, rand);
  }

  /** Messages for a report `t` seconds after the start; `overrides` are attributes set by commands. */
  build(
    t: number,
    n: number,
    overrides: Record<string, StateValue>,
    denied: ReadonlySet<string>,
  ): { attributes: Record<string, StateValue>; messages: OutgoingMessage[] } {
    const b = this.behaviour;
    const qos = b.qos ?? 0;
    const attributes = { ...this.#own(t), ...overrides };
    const messages: OutgoingMessage[] = [];
    const own = `losant/${this.deviceId}/state`;
    if (!denied.has(own)) messages.push({ topic: own, payload: JSON.stringify({ data: attributes }), qos, own: true });
    for (const p of b.peripherals ?? []) {
      const topic = `losant/${p}/state`;
      if (denied.has(topic)) continue;
      let src = this.#peripherals.get(p);
      if (!src) this.#peripherals.set(p, (src = makeAttributeSource(b.attributes, this.rand)));
      messages.push({ topic, payload: JSON.stringify({ data: src(t) }), qos, own: false });
    }
    for (const c of b.customPublish ?? []) {
      if (denied.has(c.topic)) continue;
      messages.push({
        topic: c.topic,
        payload: JSON.stringify({ from: this.deviceId, n, time: new Date().toISOString() }),
        qos: c.qos ?? qos,
        own: false,
      });
    }
    return { attributes, messages };
  }
}
