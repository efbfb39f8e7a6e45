// Live MQTT sessions: which device, key and scope each connected client has, indexed by client
// object, by device id and by key id (to close a key's connections at once when it is disabled).
import type { DeviceScope } from '../core/device-scope.ts';
import type { ReasonCode, Transport } from '../core/types.ts';

export interface LiveSession {
  deviceId: string;
  keyId: string;
  scope: DeviceScope;
  transport: Transport;
  address: string;
  forwardedFor?: string;
  /** The direct peer, when X-Forwarded-For made `address` another one (for replaying its decisions). */
  peerAddress?: string;
  connectedAt: string;
  messagesFromClient: number;
  messagesToClient: number;
  scopeChangedSinceConnect: boolean;
  /** Why the broker is closing this session, when it is the one closing it. */
  closingReason?: ReasonCode;
  /** The rule for the disconnect decision, when the closer has more to say than the reason. */
  closingRule?: string;
  close(): void;
}

/**
 * The session the broker keeps for an accepted CONNECT: one object of one shape, every field set
 * in the constructor, `close` on the prototype (no closure per connection; issue 17 item 4).
 */
export class BrokerSession implements LiveSession {
  forwardedFor: string | undefined = undefined;
  peerAddress: string | undefined = undefined;
  messagesFromClient = 0;
  messagesToClient = 0;
  scopeChangedSinceConnect = false;
  closingReason: ReasonCode | undefined = undefined;
  closingRule: string | undefined = undefined;

  constructor(
    readonly deviceId: string,
    readonly keyId: string,
    readonly scope: DeviceScope,
    readonly transport: Transport,
    readonly address: string,
    readonly connectedAt: string,
    private readonly client: { close(): void },
  ) {}

  close(): void {
    this.client.close();
  }
}

export class Sessions {
  readonly #byDevice = new Map<string, LiveSession>();
  /** A key's one session as it is, a Set only once it has several (a one-entry Set per key cost ~150 bytes per session, issue 17 item 4). */
  readonly #byKey = new Map<string, LiveSession | Set<LiveSession>>();

  add(s: LiveSession): void {
    this.#byDevice.set(s.deviceId, s);
    const had = this.#byKey.get(s.keyId);
    if (had === undefined) this.#byKey.set(s.keyId, s);
    else if (had instanceof Set) had.add(s);
    else if (had !== s) this.#byKey.set(s.keyId, new Set([had, s]));
  }

  remove(s: LiveSession): void {
    if (this.#byDevice.get(s.deviceId) === s) this.#byDevice.delete(s.deviceId);
    const had = this.#byKey.get(s.keyId);
    if (had === s) this.#byKey.delete(s.keyId);
    else if (had instanceof Set) {
      had.delete(s);
      if (had.size === 1) this.#byKey.set(s.keyId, had.values().next().value as LiveSession);
      else if (had.size === 0) this.#byKey.delete(s.keyId);
    }
  }

  forDevice(deviceId: string): LiveSession | undefined {
    return this.#byDevice.get(deviceId);
  }

  forKey(keyId: string): LiveSession[] {
    const had = this.#byKey.get(keyId);
    return had === undefined ? [] : had instanceof Set ? [...had] : [had];
  }

  all(): LiveSession[] {
    return [...this.#byDevice.values()];
  }

  get size(): number {
    return this.#byDevice.size;
  }
}
