// The persistence interface. Three implementations pass one contract suite:
// the lowdb one (lowdb-store.ts, a JSON file in the data directory), an in-memory one (memory-store.ts)
// and the clustered one (redis-store.ts, shared by several nodes through Redis).
import type { AccessKeyRecord, ConnectionStatus, Device, DeviceState, TagMatch } from '../core/types.ts';
import { STORE_VERSION } from '../core/schemas/store-file-schema.ts';

export { STORE_VERSION };

/** A device or key changed by another node (stores shared by several nodes). */
export type ExternalChange =
  | { kind: 'device'; before: Device | undefined; after: Device | undefined }
  | { kind: 'key'; before: AccessKeyRecord | undefined; after: AccessKeyRecord | undefined };

/** The whole persisted document (keyport.json). Holds verifiers, never secrets. */
export interface StoreData {
  version: typeof STORE_VERSION;
  applicationId: string;
  /** The first journal generation not folded into the document (store/journal-format.ts). */
  journal?: number;
  devices: Device[];
  keys: AccessKeyRecord[];
}

/** How soon a put must reach the disk. */
export interface PutOptions {
  /**
   * Live bookkeeping: the change is visible at once like any put, but its write may wait up to
   * LAZY_WRITE_MS to share one file write with other changes. putConnectionStatus, putLastState
   * and putLastUsed always write this way; putDevice does when asked.
   * Every store write appends and fsyncs a journal line, so a connect storm must not write once
   * per CONNECT. The promise still resolves only when the change is durable; flush() and close()
   * write it at once. A crash can lose at most that last second of bookkeeping, never a change
   * someone was told had been saved.
   */
  lazy?: boolean;
}

/** Longest a lazy put waits for its write (ms). */
export const LAZY_WRITE_MS = 1000;

/**
 * Reads are synchronous from memory. Each write resolves once it is durable (for lowdb: written
 * to a temp file and renamed over the old one), so an acknowledged change survives a crash.
 */
export interface Store {
  readonly applicationId: string;

  listDevices(): Device[];
  getDevice(id: string): Device | undefined;
  /**
   * Ids of the devices carrying a tag that matches `item` ({key, value}, {key} or {value}; see
   * core/device-scope.ts), from an index kept on every change: the cost does not grow with the
   * number of devices. The set is a snapshot: later changes never alter it, so callers may keep it.
   */
  devicesTagged(item: TagMatch): ReadonlySet<string>;
  putDevice(device: Device, options?: PutOptions): Promise<void>;
  /**
   * Live connection bookkeeping: replaces only `connectionStatus` of a stored device, visible at
   * once; durable like a lazy put (see PutOptions: for the lowdb store, one journal append per
   * window). Cheaper than putDevice: only the status is checked and copied, the rest of the record
   * is reused. Resolves false (nothing changed) when there is no such device;
   * rejects with StoreRecordError, changing nothing, when the status is unfit to store.
   */
  putConnectionStatus(id: string, status: ConnectionStatus): Promise<boolean>;
  /**
   * A device's last state (an MQTT state report, issue 17): replaces only `lastState` of a stored
   * device, as a lazy put (see PutOptions). Cheaper than putDevice: only the state is checked and
   * frozen (the caller's `data` object is frozen in place, not copied: hand over a fresh one);
   * the rest of the record is reused. Synchronous on purpose, so a report costs no promise of
   * its own: returns false (nothing changed) when there is no such device, else the promise of
   * the next write, SHARED by every lazy put until it starts (resolves when the state is on
   * disk, rejects if that write failed). Throws StoreClosedError after close(), and
   * StoreRecordError, changing nothing, when the state is unfit to store.
   */
  putLastState(id: string, state: DeviceState): Promise<void> | false;
  deleteDevice(id: string): Promise<boolean>;

  listKeys(): AccessKeyRecord[];
  getKey(id: string): AccessKeyRecord | undefined;
  /** Lookup by the public key (the MQTT username): an index, never a scan. */
  getKeyByKey(key: string): AccessKeyRecord | undefined;
  putKey(key: AccessKeyRecord): Promise<void>;
  /**
   * A key's last use (keys.touch, issue 17 item 5): replaces only `lastUsed` of a stored key, as a
   * lazy put (see PutOptions). Cheaper than putKey: only the timestamp is checked, the rest of the
   * record is reused. Synchronous, like putLastState: returns false (nothing changed) when there
   * is no such key, else the promise of the next write (resolves when it is on disk). Throws
   * StoreClosedError after close(), and StoreRecordError, changing nothing, when the timestamp is
   * unfit to store.
   */
  putLastUsed(id: string, lastUsed: string): Promise<void> | false;
  deleteKey(id: string): Promise<boolean>;

  /** Resolves when every write so far is durable. */
  flush(): Promise<void>;
  /**
   * Stores shared by several Keyport nodes (the Redis store) only: devices and keys changed by
   * ANOTHER node, after this node's reads show the change. Returns the unsubscribe.
   */
  onExternalChange?(listener: (c: ExternalChange) => void): () => void;
  close(): Promise<void>;
}

/** A data file that cannot be used as it is. The file is left untouched. */
export class StoreFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'StoreFileError';
  }
}

/**
 * A record a store refused to hold (bad shape, a `secret` field, or a public key already used by
 * another access key). The store is unchanged. `problem` names the field, e.g. `key.status: ...`.
 */
export class StoreRecordError extends Error {
  constructor(readonly problem: string) {
    super(`record refused by the store: ${problem}`);
    this.name = 'StoreRecordError';
  }
}

/** A write was attempted on a store after close(). */
export class StoreClosedError extends Error {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}
