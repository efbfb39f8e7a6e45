// What the simulator needs from the application, and nothing more. KeyportService satisfies it
// structurally, so simulator/ never imports service/ (which imports simulator/: that would be a
// cycle between the folders). Scenarios and fleets make their devices and keys through it.
import type { CreatedKey } from '../contract.ts';
import type { AccessKey, AccessKeyRecord, Device } from '../core/types.ts';
import type { DecisionSource, DeviceStatusSource } from './outcomes.ts';

export interface SimulatorBackend {
  readonly devices: {
    /** Throws a not-found error naming the id when there is no such device. */
    get(id: string): Device;
    /** Validates `input` as the devices.create contract request; `simulator` allows reserved tags. */
    create(input: unknown, opts?: { simulator?: boolean }): Promise<Device>;
    /** Validates `patch` as the devices.update contract patch. */
    update(id: string, patch: unknown): Promise<Device>;
    remove(id: string): Promise<unknown>;
  };
  readonly keys: {
    /** Validates `input` as the keys.create contract request; the secret is returned once. */
    create(input: unknown): Promise<CreatedKey>;
    /** Validates `patch` as the keys.update contract patch. */
    update(id: string, patch: unknown): Promise<AccessKey>;
    remove(id: string): Promise<unknown>;
  };
  readonly store: {
    getKeyByKey(key: string): AccessKeyRecord | undefined;
    getDevice(id: string): Device | undefined;
    listDevices(): Device[];
    listKeys(): AccessKeyRecord[];
  };
  /** Broker decisions, to tell each simulated device its outcome. */
  readonly feed: { readonly events: DecisionSource };
  /** Device status changes ("scope changed since connect"). */
  readonly events: DeviceStatusSource;
}

/** Losant limits mode as the "Rate limit" scenario sees it (the broker's limits hook; runtime.ts). */
export interface LimitsView {
  /** Losant limits mode is on now. */
  readonly on: boolean;
  /** Time left (ms, by the limits' own clock) of the ban on a device; 0 when it is not banned. */
  banRemainingMs(deviceId: string): number;
}
