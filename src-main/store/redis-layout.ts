// How the Redis store lays records out in Redis (docs/design.md §11, "Clustered (Redis)").
//
// Every record is one Redis hash, split into PARTS so that live bookkeeping and user edits never
// overwrite each other when two nodes write the same record at once:
//   <prefix>device:<id>  rec = the device minus its two live parts (JSON)
//                        cs  = connectionStatus (JSON), ls = lastState (JSON); absent when unset
//   <prefix>key:<id>     rec = the access key record minus lastUsed (JSON; a verifier, never a secret)
//                        lu  = lastUsed (JSON string), pk = the public key (for the uniqueness index)
// A put writes only the parts it changed: node B's CONNECT bookkeeping (cs, lu) cannot undo node
// A's "key inactive" or tag edit (rec), and the other way round.
import type { AccessKeyRecord, Device } from '../core/types.ts';

/** The Redis key names under one prefix. */
export interface RedisKeys {
  meta: string;
  devices: string;
  keys: string;
  order: string;
  keyIndex: string;
  changes: string;
  seq: string;
  device(id: string): string;
  key(id: string): string;
}

export const DEFAULT_PREFIX = 'keyport:';

export function redisKeys(prefix: string): RedisKeys {
  return {
    /** applicationId and version. */
    meta: `${prefix}meta`,
    /** Device ids, scored by first creation (listDevices keeps that order, like the file). */
    devices: `${prefix}devices`,
    keys: `${prefix}keys`,
    /** The counter behind those scores. */
    order: `${prefix}order`,
    /** Public key (MQTT username) → access key id: uniqueness is checked in Redis, atomically. */
    keyIndex: `${prefix}keyidx`,
    /** The change stream every node follows (redis-changes.ts). */
    changes: `${prefix}changes`,
    /** Number of the last change; a node that finds a gap reloads (the stream is bounded). */
    seq: `${prefix}seq`,
    device: (id) => `${prefix}device:${id}`,
    key: (id) => `${prefix}key:${id}`,
  };
}

export type Kind = 'device' | 'key';
export type AnyRecord = Device | AccessKeyRecord;
/** Part name → JSON text; '' deletes the part. */
export type Parts = Record<string, string>;

export const DEVICE_PARTS = ['rec', 'cs', 'ls'] as const;
export const KEY_PARTS = ['rec', 'lu'] as const;

const json = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));

export function deviceParts(d: Device): Parts {
  const { connectionStatus, lastState, ...rec } = d;
  return { rec: JSON.stringify(rec), cs: json(connectionStatus), ls: json(lastState) };
}

export function keyParts(k: AccessKeyRecord): Parts {
  const { lastUsed, ...rec } = k;
  return { rec: JSON.stringify(rec), lu: json(lastUsed) };
}

/** The parts of `after` that differ from `before` (all of them for a new record). */
export function changedParts(kind: Kind, before: AnyRecord | undefined, after: AnyRecord): Parts {
  const split =
    kind === 'device' ? (r: AnyRecord) => deviceParts(r as Device) : (r: AnyRecord) => keyParts(r as AccessKeyRecord);
  const next = split(after);
  if (!before) return next;
  const prev = split(before);
  const out: Parts = {};
  for (const [name, text] of Object.entries(next)) if (prev[name] !== text) out[name] = text;
  return out;
}

/** Which Redis hash field a validation path points into (for the message naming it). */
export function fieldOf(kind: Kind, path: string): string {
  if (kind === 'device') {
    if (path.startsWith('device.connectionStatus')) return 'cs';
    if (path.startsWith('device.lastState')) return 'ls';
    return 'rec';
  }
  return path.startsWith('key.lastUsed') ? 'lu' : 'rec';
}

export class RecordTextError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`field "${field}": ${problem}`);
  }
}

/**
 * Builds a record from its hash fields. Throws RecordTextError naming the field whose text is not
 * JSON of the right kind; the shape is checked afterwards (validate-data.ts).
 */
export function assemble(kind: Kind, fields: Record<string, string>): AnyRecord {
  const parse = (field: string): unknown => {
    try {
      return JSON.parse(fields[field] as string) as unknown;
    } catch (err) {
      throw new RecordTextError(field, `not valid JSON: ${(err as Error).message}`);
    }
  };
  if (fields.rec === undefined) throw new RecordTextError('rec', 'missing (the record itself)');
  const rec = parse('rec');
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
    throw new RecordTextError('rec', 'must be a JSON object');
  const out = rec as Record<string, unknown>;
  const extra = kind === 'device' ? { cs: 'connectionStatus', ls: 'lastState' } : { lu: 'lastUsed' };
  for (const [field, prop] of Object.entries(extra)) {
    if (fields[field] === undefined) continue;
    if (prop in out) throw new RecordTextError('rec', `must not hold ${prop} (it lives in field "${field}")`);
    out[prop] = parse(field);
  }
  return out as unknown as AnyRecord;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
