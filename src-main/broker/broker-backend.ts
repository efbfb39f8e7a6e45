// What the broker needs from the rest of the application, and nothing more. KeyportService
// satisfies it structurally, so the broker never imports service/ (the layering rule
// broker-not-to-service). Issue 11 splits this into an auth port, a decision sink and a status sink.
import type { DecisionEvent } from '../core/decision-event.ts';
import type {
  AccessKey,
  AccessKeyRecord,
  Command,
  ConnectionStatus,
  Decision,
  Device,
  TagMatch,
} from '../core/types.ts';

/** A decision as the broker records it; the feed fills in seq and time. */
export type NewDecision = Omit<DecisionEvent, 'seq' | 'time'>;

/** Publishes a message as the platform (commands from the UI and the HTTP API). */
export type PlatformPublisher = (topic: string, payload: string) => Promise<void>;

/** The management changes that reach live sessions (see session-policy.ts). */
export interface BrokerWatchedEvents {
  'key.updated': { before: AccessKey; after: AccessKey };
  'key.deleted': AccessKey;
  'device.updated': { before: Device; after: Device };
  'device.deleted': Device;
}

export interface BrokerBackend {
  readonly pepper: Buffer;
  readonly store: {
    getKey(id: string): AccessKeyRecord | undefined;
    getKeyByKey(key: string): AccessKeyRecord | undefined;
    getDevice(id: string): Device | undefined;
    listDevices(): Iterable<Device>;
    devicesTagged(item: TagMatch): ReadonlySet<string>;
  };
  readonly events: {
    on<K extends keyof BrokerWatchedEvents>(event: K, listener: (payload: BrokerWatchedEvents[K]) => void): () => void;
  };
  /** Takes an event the broker built (seq and time are filled in by the feed; see DecisionFeed.add). */
  readonly feed: { add(e: DecisionEvent): void; readonly size: number };
  readonly keys: { touch(id: string): Promise<void> };
  readonly devices: { setConnectionStatus(id: string, status: ConnectionStatus): Promise<void> };
  readonly telemetry: {
    setPublisher(p: PlatformPublisher | null): void;
    recordCommand(deviceId: string, command: Command): void;
    /** Stores an authorised MQTT state report before its PUBACK (see service/telemetry.ts). */
    acceptReport(
      deviceId: string,
      payload: Buffer | string,
    ): { decision: Decision; stored: boolean; durable: Promise<void> };
  };
}
