// The one backend object every transport calls (CLI, HTTP, IPC, UI bridge).
import type { Store } from '../store/store.ts';
import { DeviceService } from './devices.ts';
import type { ServiceEvents } from './events.ts';
import { KeyService } from './keys.ts';
import { DecisionFeed } from './decision-feed.ts';
import { MessageTap, type MessageLimits } from './message-tap.ts';
import { Telemetry } from './telemetry.ts';
import { listenerErrorLine, TypedEmitter } from '../shared/typed-emitter.ts';
import type { TrustedProxies } from '../core/client-address.ts';
import { deriveTokenKey } from '../core/secrets.ts';
import type { ApiPorts, PortSource } from '../shared/ports.ts';
import { AccessControl } from './access-control.ts';

export interface ServiceOptions {
  store: Store;
  pepper: Buffer;
  now?: () => Date;
  feedCapacity?: number;
  /** Bounds of the message tap (service/message-tap.ts). */
  messageLimits?: Partial<MessageLimits>;
  /** Where a failing event listener is reported (default: stderr). Events are sent after commit. */
  log?: (line: string) => void;
}

export class KeyportService implements PortSource {
  readonly events: TypedEmitter<ServiceEvents>;
  readonly devices: DeviceService;
  readonly keys: KeyService;
  readonly telemetry: Telemetry;
  readonly feed: DecisionFeed;
  readonly messages: MessageTap;
  readonly store: Store;
  readonly pepper: Buffer;
  readonly #log: (line: string) => void;

  constructor(opts: ServiceOptions) {
    const now = opts.now ?? (() => new Date());
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const onListenerError = (event: string, err: unknown) => log(listenerErrorLine(event, err));
    this.#log = log;
    this.events = new TypedEmitter<ServiceEvents>({ onListenerError });
    this.store = opts.store;
    this.pepper = opts.pepper;
    this.devices = new DeviceService(opts.store, this.events, now);
    this.keys = new KeyService(opts.store, this.events, opts.pepper, now, log);
    // The system clock's milliseconds straight from Date.now (a Date per state report was a tenth
    // of what one allocated; issue 17 item 1); an injected clock through its Dates.
    this.telemetry = new Telemetry(opts.store, this.events, now, opts.now ? undefined : Date.now);
    this.feed = new DecisionFeed(opts.feedCapacity, onListenerError);
    this.messages = new MessageTap(opts.messageLimits, onListenerError);
  }

  get applicationId(): string {
    return this.store.applicationId;
  }

  /**
   * The narrow ports the broker and the Losant HTTP API see instead of this object
   * (shared/ports.ts), with the consumer's trusted proxies for the address rule (docs/design.md §6).
   */
  ports(opts: { trustedProxies: TrustedProxies }): ApiPorts {
    const { store, devices } = this;
    const auth = new AccessControl({
      store,
      pepper: this.pepper,
      trustedProxies: opts.trustedProxies,
      events: this.events,
      decisions: this.feed,
      keys: this.keys,
      devices,
      log: this.#log,
    });
    return {
      auth,
      decisions: this.feed,
      status: {
        current: (id) => store.getDevice(id)?.connectionStatus,
        set: (id, status) => devices.setConnectionStatus(id, status),
      },
      telemetry: this.telemetry,
      get applicationId() {
        return store.applicationId;
      },
      tokenKey: deriveTokenKey(this.pepper),
      keys: this.keys,
      devices,
    };
  }
}
