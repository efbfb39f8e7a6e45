// The in-memory store, and the in-memory state the lowdb store builds on.
//
// Records are immutable values. A put validates the record, deep-copies it and deep-freezes the
// copy, then REPLACES the stored value; reads hand out those frozen values without copying
// (structuredClone on every read would make listKeys() with 100k keys far too slow).
// So: callers must not mutate what a read returns (in strict-mode code, which all ES modules are,
// trying to throws a TypeError), and mutating an object after passing it to put*() has no
// effect on the store. To change a record, build a new one (`{ ...old, status: 'inactive' }`)
// and put it. The copy shares deep-frozen parts (`tags`, `lastState` of
// `{ ...old, connectionStatus }`): nobody can change them, and re-copying them on every
// connection-status update was most of a CONNECT's store cost.
//
// A put is visible to reads as soon as it is called (synchronously); its promise resolves when
// the change is durable (immediately here; after the file write in the lowdb store).
import { randomBytes } from 'node:crypto';
import type { AccessKeyRecord, ConnectionStatus, Device, DeviceState, TagMatch } from '../core/types.ts';
import { STORE_VERSION, StoreClosedError, StoreRecordError } from './store.ts';
import type { PutOptions, Store, StoreData } from './store.ts';
import { isCleanStatus } from './status-check.ts';
import { TagIndex } from './tag-index.ts';
import type { UndoJournal } from './undo-journal.ts';
import {
  validateConnectionStatus,
  validateDevice,
  validateKeyPart,
  validateKeyRecord,
  validateLastState,
} from './validate-data.ts';
import { validateStoreData, type RecordIndex } from './validate-data.ts';

/** What a put here waits for: nothing (one promise for all, so a state report allocates none). */
const DURABLE: Promise<void> = Promise.resolve();
/** putConnectionStatus for no such device. */
const NOT_STORED: Promise<boolean> = Promise.resolve(false);
const stored = (): boolean => true;

export function newApplicationId(): string {
  return randomBytes(12).toString('hex');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    // for…in, not Object.values: no array per object (a third of the freeze at load).
    for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

/**
 * True when nothing reachable from `value` can be changed: frozen plain objects and arrays all the
 * way down (a frozen Date can still be changed with setTime). Safe to share, never copied.
 */
function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value) || !(Array.isArray(value) || isPlain(value))) return false;
  for (const k in value) if (!isDeepFrozen((value as Record<string, unknown>)[k])) return false;
  return true;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Copy-on-put: the store never shares a MUTABLE object with its caller. Deep-frozen values (the
 * parts of an earlier record in `{ ...old, connectionStatus }`) are immutable and reused as they
 * are; other plain objects and arrays are copied (own enumerable keys, like structuredClone) and
 * frozen; anything else (a Date, a class instance) goes through structuredClone + deepFreeze.
 */
function freezeCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Object.isFrozen(value) && isDeepFrozen(value)) return value;
  let copy: object;
  if (Array.isArray(value)) {
    copy = value.map(freezeCopy);
  } else if (isPlain(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = freezeCopy((value as Record<string, unknown>)[k]);
      // An own "__proto__" key (JSON.parse makes those) stays a key, as structuredClone keeps it.
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    copy = out;
  } else {
    return deepFreeze(structuredClone(value));
  }
  return Object.freeze(copy) as T;
}

/** Devices, keys and the public-key index, kept consistent with each other. */
export class StoreState {
  // Not readonly: load() may adopt the maps a document was checked into (validate-data.ts).
  devices = new Map<string, Device>();
  keys = new Map<string, AccessKeyRecord>();
  /** Public key (MQTT username) -> record: getKeyByKey is a lookup, never a scan. */
  byKey = new Map<string, AccessKeyRecord>();
  /** Devices by tag (tag-index.ts): a tag-scoped key's scope is a lookup, never a scan. */
  readonly tags = new TagIndex(() => this.devices.values());
  /** Pre-images of the changes not yet covered by a write (the lowdb store turns this on). */
  journal: UndoJournal | null = null;

  /**
   * Loads already-validated data (validateStoreData passed) into an empty state. `owned`: nobody
   * else holds these objects (a document just parsed from the file), so they are frozen in place
   * instead of copied: a 100,000-record store is not held twice while it loads. `index`: those
   * records already in maps (checkStoreData's, owned too): they become the state's maps, so a
   * load builds them once (issue 17 item 4). The tag index is built on its first lookup.
   */
  load(data: Pick<StoreData, 'devices' | 'keys'>, owned = false, index?: RecordIndex): void {
    if (owned && index) {
      // Records checked with `owned` are frozen already (deepFreeze returns at once); records
      // replayed from a journal are frozen here.
      for (const d of index.devices.values()) deepFreeze(d);
      for (const k of index.keys.values()) deepFreeze(k);
      this.devices = index.devices;
      this.keys = index.keys;
      this.byKey = index.byKey;
      return;
    }
    const take = owned ? deepFreeze : freezeCopy;
    for (const device of data.devices) {
      const record = take(device);
      this.tags.put(this.devices.get(record.id), record);
      this.devices.set(record.id, record);
    }
    for (const key of data.keys) {
      const record = take(key);
      this.keys.set(record.id, record);
      this.byKey.set(record.key, record);
    }
  }

  /** Throws StoreRecordError and changes nothing when the device is unfit to store. */
  putDevice(device: Device): void {
    const problem = validateDevice(device, 'device');
    if (problem) throw new StoreRecordError(problem);
    const record = freezeCopy(device);
    const previous = this.devices.get(record.id);
    this.journal?.noteDevice(record.id, previous);
    this.tags.put(previous, record);
    this.devices.set(record.id, record);
  }

  /**
   * Replaces only the device's connection status (live bookkeeping, issue 17 item 1): the status
   * is validated and frozen on its own, the rest of the record is shared as it is (it was checked
   * and frozen when stored), and the tags are unchanged, so the tag index is not touched.
   * Returns the new record, or undefined when there is no such device. Throws StoreRecordError and
   * changes nothing when the status is unfit to store.
   */
  putConnectionStatus(id: string, status: ConnectionStatus): Device | undefined {
    const current = this.devices.get(id);
    if (!current) return undefined;
    // The broker's statuses are flat objects of primitives: a quick exact check, and a flat copy
    // is a deep one. Anything else gets the full check (which names the problem) and freezeCopy.
    let copy: ConnectionStatus;
    // Object.assign, not a spread: freezing the spread's copy gave every status a hidden class of
    // its own (~240 bytes per device record, issue 17 item 4); assign's copy shares them.
    if (isCleanStatus(status)) copy = Object.freeze(Object.assign({}, status));
    else {
      const problem = validateConnectionStatus(status, 'device.connectionStatus');
      if (problem) throw new StoreRecordError(problem);
      copy = freezeCopy(status);
    }
    const record: Device = Object.freeze({ ...current, connectionStatus: copy });
    this.journal?.noteDevice(id, current);
    this.devices.set(id, record);
    return record;
  }

  /**
   * Replaces only the device's last state (an MQTT state report, issue 17 item 1): the state is
   * checked on its own and frozen in place (its `data` is the caller's fresh object; values that
   * are objects are deep-frozen, values from an earlier frozen state are shared), the rest of the
   * record is shared as it is and the tag index is not touched. Returns the new record, or
   * undefined when there is no such device. Throws StoreRecordError and changes nothing when the
   * state is unfit to store.
   */
  putLastState(id: string, state: DeviceState): Device | undefined {
    const current = this.devices.get(id);
    if (!current) return undefined;
    const problem = validateLastState(state, 'device.lastState');
    if (problem) throw new StoreRecordError(problem);
    const data = state.data;
    for (const k in data) {
      const v = data[k];
      if (typeof v === 'object' && v !== null) deepFreeze(v);
    }
    Object.freeze(data);
    const lastState: DeviceState = Object.isFrozen(state) ? state : Object.freeze({ time: state.time, data });
    const record: Device = Object.freeze({ ...current, lastState });
    this.journal?.noteDevice(id, current);
    this.devices.set(id, record);
    return record;
  }

  deleteDevice(id: string): boolean {
    const previous = this.devices.get(id);
    if (!previous) return false;
    this.journal?.noteDevice(id, previous);
    this.tags.delete(previous);
    return this.devices.delete(id);
  }

  /** Throws StoreRecordError and changes nothing when the record is unfit or its key is taken. */
  putKey(key: AccessKeyRecord): void {
    const problem = validateKeyRecord(key, 'key');
    if (problem) throw new StoreRecordError(problem);
    const holder = this.byKey.get(key.key);
    if (holder && holder.id !== key.id) {
      throw new StoreRecordError(`key.key: ${JSON.stringify(key.key)} is already used by access key ${holder.id}`);
    }
    const record = freezeCopy(key);
    const previous = this.keys.get(record.id);
    this.journal?.noteKey(record.id, previous);
    if (previous && previous.key !== record.key) this.byKey.delete(previous.key);
    this.keys.set(record.id, record);
    this.byKey.set(record.key, record);
  }

  /**
   * Replaces only the key's lastUsed (keys.touch): the timestamp is checked on its own, the rest of
   * the record is shared as it is. Returns the new record, or undefined when there is no such key.
   * Throws StoreRecordError and changes nothing when the timestamp is unfit to store.
   */
  putLastUsed(id: string, lastUsed: string): AccessKeyRecord | undefined {
    const current = this.keys.get(id);
    if (!current) return undefined;
    const problem = validateKeyPart({ id, lastUsed }, 'key');
    if (problem) throw new StoreRecordError(problem);
    const record: AccessKeyRecord = Object.freeze({ ...current, lastUsed });
    this.journal?.noteKey(id, current);
    this.keys.set(id, record);
    this.byKey.set(record.key, record);
    return record;
  }

  deleteKey(id: string): boolean {
    const previous = this.keys.get(id);
    if (!previous) return false;
    this.journal?.noteKey(id, previous);
    this.keys.delete(id);
    this.byKey.delete(previous.key);
    return true;
  }

  /**
   * Puts back the pre-images in `undo` (already validated values, so no checks): memory returns
   * to what it was before those changes. The public-key index is unhooked for every reverted key
   * first, then rebuilt from the pre-images, so a key string that moved between records ends up
   * where it was.
   */
  restore(undo: UndoJournal): void {
    for (const [id, before] of undo.devices) {
      const current = this.devices.get(id);
      if (before) {
        this.tags.put(current, before);
        this.devices.set(id, before);
      } else {
        if (current) this.tags.delete(current);
        this.devices.delete(id);
      }
    }
    for (const id of undo.keys.keys()) {
      const current = this.keys.get(id);
      if (current && this.byKey.get(current.key) === current) this.byKey.delete(current.key);
    }
    for (const [id, before] of undo.keys) {
      if (before) {
        this.keys.set(id, before);
        this.byKey.set(before.key, before);
      } else this.keys.delete(id);
    }
  }

  /** The document to persist. Shares the frozen records (they are never mutated). */
  toData(applicationId: string): StoreData {
    return {
      version: STORE_VERSION,
      applicationId,
      devices: Array.from(this.devices.values()),
      keys: Array.from(this.keys.values()),
    };
  }
}

/**
 * The Store over a StoreState. `persist()` is called after every change and decides when that
 * change's promise resolves; here at once, the lowdb store overrides it to wait for the file
 * (`lazy`: the write may wait a little to be shared, see PutOptions).
 */
export class MemoryStore implements Store {
  protected readonly state = new StoreState();
  protected closed = false;

  /**
   * `initial` must already have passed validateStoreData. `owned`: the store may freeze those
   * objects in place (nobody else holds them), see StoreState.load.
   */
  constructor(
    readonly applicationId: string,
    initial?: Pick<StoreData, 'devices' | 'keys'>,
    owned = false,
    index?: RecordIndex,
  ) {
    if (initial) this.state.load(initial, owned, index);
  }

  protected persist(_lazy = false): Promise<void> {
    return DURABLE;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  listDevices(): Device[] {
    return Array.from(this.state.devices.values());
  }

  getDevice(id: string): Device | undefined {
    return this.state.devices.get(id);
  }

  devicesTagged(item: TagMatch): ReadonlySet<string> {
    return this.state.tags.lookup(item);
  }

  async putDevice(device: Device, options?: PutOptions): Promise<void> {
    this.assertOpen();
    this.state.putDevice(device);
    await this.persist(options?.lazy === true);
  }

  /**
   * Not an async function: a CONNECT's status put costs no promise of its own (issue 17 item 1).
   * Every put sharing one lazy write gets the same promise (its write's, mapped to true, made
   * once per write); a refusal is a promise of its own, rejected.
   */
  putConnectionStatus(id: string, status: ConnectionStatus): Promise<boolean> {
    let record: Device | undefined;
    try {
      this.assertOpen();
      record = this.state.putConnectionStatus(id, status);
    } catch (err) {
      return Promise.reject(err as Error); // StoreClosedError or StoreRecordError
    }
    if (!record) return NOT_STORED;
    const durable = this.persist(true);
    if (durable !== this.statusWrite) {
      this.statusWrite = durable;
      this.statusStored = durable.then(stored);
    }
    return this.statusStored as Promise<boolean>;
  }

  /**
   * The lazy write the last status put rides in, and its promise as putConnectionStatus gives it.
   * TypeScript-private, not #private: a store may be used through an Object.create() view of it
   * (one shared store seen by several runtimes), which has no #fields of its own.
   */
  private statusWrite: Promise<void> | null = null;
  private statusStored: Promise<boolean> | null = null;

  putLastState(id: string, state: DeviceState): Promise<void> | false {
    this.assertOpen();
    if (!this.state.putLastState(id, state)) return false;
    return this.persist(true);
  }

  async deleteDevice(id: string): Promise<boolean> {
    this.assertOpen();
    if (!this.state.deleteDevice(id)) return false;
    await this.persist();
    return true;
  }

  listKeys(): AccessKeyRecord[] {
    return Array.from(this.state.keys.values());
  }

  getKey(id: string): AccessKeyRecord | undefined {
    return this.state.keys.get(id);
  }

  getKeyByKey(key: string): AccessKeyRecord | undefined {
    return this.state.byKey.get(key);
  }

  async putKey(key: AccessKeyRecord): Promise<void> {
    this.assertOpen();
    this.state.putKey(key);
    await this.persist();
  }

  putLastUsed(id: string, lastUsed: string): Promise<void> | false {
    this.assertOpen();
    if (!this.state.putLastUsed(id, lastUsed)) return false;
    return this.persist(true);
  }

  async deleteKey(id: string): Promise<boolean> {
    this.assertOpen();
    if (!this.state.deleteKey(id)) return false;
    await this.persist();
    return true;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * An in-memory store (tests, benchmarks, throwaway sessions). `init` is validated like a store
 * file; an invalid one throws StoreRecordError. A fresh applicationId is made unless given.
 */
export function createMemoryStore(init: Partial<StoreData> = {}): Store {
  const data = {
    version: init.version ?? STORE_VERSION,
    applicationId: init.applicationId ?? newApplicationId(),
    devices: init.devices ?? [],
    keys: init.keys ?? [],
  };
  const problem = validateStoreData(data);
  if (problem) throw new StoreRecordError(problem);
  return new MemoryStore(data.applicationId, data);
}
