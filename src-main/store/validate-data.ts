// Shape validation of the store document (keyport.json) and of each record the store accepts.
// The store refuses what it could not read back: every record put into a store passes the same
// checks as a record loaded from the file, so the file Keyport writes always opens again (docs/design.md §11).
// The shapes are the record schemas of core/schemas/record-schemas.ts; this adds integrity
// (unique ids, unique public keys, no secrets) and the checks that span fields.
// This checks shapes, enums, ids and integrity (unique ids, unique public keys, no secrets);
// domain limits (name lengths, list sizes) are the service's input validation, not the store's.
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { findPrototypeKey, isPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { ConnectionStatusRecord, DeviceRecord, KeyRecordSchema } from '../core/schemas/record-schemas.ts';
import { DevicePartRecord, KeyPartRecord } from '../core/schemas/record-schemas.ts';
import { parseWith, schemaErrors } from '../core/schemas/schema-errors.ts';
import { StoreFileFrame } from '../core/schemas/store-file-schema.ts';
import { REASON_CODES, type AccessKeyRecord, type Device } from '../core/types.ts';
import { isPlainObject } from '../core/plain-object.ts';

/** A problem found, as "<path>: <what is wrong>", or null when the value is fine. */
type Problem = string | null;
type Obj = Record<string, unknown>;

const STORE_STYLE = { requiredUsesRule: true, separator: ': ' } as const;

/**
 * The first schema problem of `value`, named from `path`. A compiled check answers first (about
 * 6× quicker than Value.Check at load: 0.17–0.24 s vs 1.0–1.3 s of CPU for 200,000 records); a
 * value it refuses is checked again with Value.Check, and only a value both refuse goes through
 * schemaErrors for the message. So the compiled check can only make a good record quicker, never
 * refuse one. (Session 3 saw the compiled check refuse valid records in the built CLI: the build
 * kept @sinclair/typebox/compiler external, so it loaded a second TypeBox whose FormatRegistry had
 * no 'keyport-date'; scripts/build-cli.mjs now bundles it with the rest. The fallback stays, so a
 * format registered in one copy only can never refuse a good file.) Value.Check is the same code
 * as the error walk.
 */
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function quickCheck(schema: TSchema, value: unknown): boolean {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  return check.Check(value) || Value.Check(schema, value);
}

function firstProblem(schema: TSchema, value: unknown, path: string): Problem {
  if (quickCheck(schema, value)) return null;
  return schemaErrors(schema, value, { ...STORE_STYLE, prefix: path })[0]?.message ?? `${path}: not valid`;
}

function eachItem(value: readonly unknown[], path: string, item: (v: unknown, p: string) => Problem): Problem {
  for (let i = 0; i < value.length; i++) {
    const problem = item(value[i], `${path}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

/** Checks one device; `path` names it in the message, e.g. "devices[0]". */
export function validateDevice(value: unknown, path: string): Problem {
  const problem = firstProblem(DeviceRecord, value, path);
  if (problem) return problem;
  const status = (value as Obj & { connectionStatus?: { disconnectReason?: string } }).connectionStatus;
  return reasonProblem(status?.disconnectReason, `${path}.connectionStatus`);
}

function reasonProblem(reason: string | undefined, path: string): Problem {
  if (reason !== undefined && !(REASON_CODES as readonly string[]).includes(reason)) {
    return `${path}.disconnectReason: must be one of ${REASON_CODES.map((r) => JSON.stringify(r)).join(', ')}`;
  }
  return null;
}

/**
 * Checks a device's connection status on its own (Store.putConnectionStatus: the rest of the
 * record was checked when it was stored). `path` names it, e.g. "device.connectionStatus".
 */
export function validateConnectionStatus(value: unknown, path: string): Problem {
  const problem = firstProblem(ConnectionStatusRecord, value, path);
  if (problem) return problem;
  return reasonProblem((value as { disconnectReason?: string }).disconnectReason, path);
}

/**
 * Checks a device's last state on its own (Store.putLastState: the rest of the record was checked
 * when it was stored): the rules of DeviceRecord's `lastState`, by hand, because a state report
 * runs this on every message. `path` names it, e.g. "device.lastState".
 */
export function validateLastState(value: unknown, path: string): Problem {
  if (!isPlainObject(value)) return `${path}: must be an object {time, data}`;
  const { time, data } = value;
  if (typeof time !== 'string' || !Number.isFinite(Date.parse(time)))
    return `${path}.time: must be an ISO 8601 date string`;
  if (!isPlainObject(data)) return `${path}.data: must be an object`;
  // What a file could not carry: the store refuses what it could not read back.
  const proto = findPrototypeKey(data, `${path}.data`);
  return proto === null ? null : prototypeKeyMessage(proto);
}

/**
 * Checks a journal line's device part (store/journal-format.ts): the id, and each bookkeeping
 * field by the record's own rules. `path` names it, e.g. "deviceParts[0]". (The line as a whole
 * was checked for prototype keys first.)
 */
export function validateDevicePart(value: unknown, path: string): Problem {
  const problem = firstProblem(DevicePartRecord, value, path);
  if (problem) return problem;
  const part = value as { connectionStatus?: { disconnectReason?: string }; lastState?: unknown };
  if (part.connectionStatus === undefined && part.lastState === undefined)
    return `${path}: must have a connectionStatus, a lastState or both`;
  return reasonProblem(part.connectionStatus?.disconnectReason, `${path}.connectionStatus`);
}

/** Checks a journal line's access key part (store/journal-format.ts), e.g. "keyParts[0]". */
export function validateKeyPart(value: unknown, path: string): Problem {
  return firstProblem(KeyPartRecord, value, path);
}

/** Checks one access key record; `path` names it in the message, e.g. "keys[3]". */
export function validateKeyRecord(value: unknown, path: string): Problem {
  if (!isPlainObject(value)) return `${path}: must be an object`;
  // Checked first: a secret in the document is the one thing that must never be accepted (docs/design.md §3).
  if ('secret' in value) return `${path} has a plaintext secret field; Keyport never stores secrets`;
  const problem = firstProblem(KeyRecordSchema, value, path);
  if (problem) return problem;
  // A key's restriction item: {key, value} (every file written before issue 14), {key} or {value}.
  const items = (value.deviceTags ?? []) as Obj[];
  const empty = items.findIndex((t) => t.key === undefined && t.value === undefined);
  return empty < 0 ? null : `${path}.deviceTags[${empty}]: must have a key, a value or both`;
}

/** The records of a document by id, and the access keys by public key: what a store is built on. */
export interface RecordIndex {
  devices: Map<string, Device>;
  keys: Map<string, AccessKeyRecord>;
  byKey: Map<string, AccessKeyRecord>;
}

/** The message for `items[i]` repeating `value` of `field`, first seen at `before`. */
function duplicate(items: readonly unknown[], collection: string, field: string, i: number, before: unknown): string {
  const value = (items[i] as Obj)[field];
  const j = items.indexOf(before); // the record the map holds is the value's first occurrence
  return `${collection}[${i}].${field}: duplicate ${field} ${JSON.stringify(value)} (also ${collection}[${j}].${field})`;
}

/**
 * The uniqueness check IS the index build (issue 17 item 4: checking into maps of its own, then
 * building the store's maps again, was a tenth of a 100,000-key load and its garbage): device ids,
 * then key ids, then public keys, each in document order, so the first repeat is the one named.
 * The records must have passed their shape checks.
 */
function indexRecords(devices: readonly Device[], keys: readonly AccessKeyRecord[]): string | RecordIndex {
  const byId = indexBy(devices, 'devices', 'id');
  if (typeof byId === 'string') return byId;
  const keyById = indexBy(keys, 'keys', 'id');
  if (typeof keyById === 'string') return keyById;
  const byKey = indexBy(keys, 'keys', 'key');
  if (typeof byKey === 'string') return byKey;
  return { devices: byId, keys: keyById, byKey };
}

/** records by `field`, in document order; the message naming the first repeat if there is one. */
function indexBy<T extends Record<F, string>, F extends string>(
  records: readonly T[],
  collection: string,
  field: F,
): string | Map<string, T> {
  const map = new Map<string, T>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as T;
    const before = map.get(r[field]);
    if (before !== undefined) return duplicate(records, collection, field, i, before);
    map.set(r[field], r);
  }
  return map;
}

/**
 * Walks one record just parsed from the file, freezing every object and array in it, and says
 * whether an own prototype key (`__proto__`, `constructor`, `prototype`) is anywhere in it: the
 * store's freeze and the prototype-key check as one walk (they were two, each over every object
 * of the document). Only for objects nobody else holds: a refused document is dropped anyway.
 */
function freezeFindingPrototypeKey(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  Object.freeze(v);
  // No early return: every record is frozen whole whatever is found (a key deeper than
  // findPrototypeKey looks is not refused, and the store must then hold a frozen record).
  let found = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (freezeFindingPrototypeKey(v[i])) found = true;
    return found;
  }
  for (const k in v) {
    if (freezeFindingPrototypeKey((v as Obj)[k]) || isPrototypeKey(k)) found = true;
  }
  return found;
}

/** Whether `raw` may hold an own prototype key; `freeze`: the records are frozen by the same walk. */
function mayHavePrototypeKey(raw: unknown, freeze: boolean): boolean {
  if (!freeze || !isPlainObject(raw)) return true; // findPrototypeKey looks for itself
  let found = false;
  for (const k in raw) {
    const v = raw[k];
    if (isPrototypeKey(k)) found = true;
    else if (Array.isArray(v) && (k === 'devices' || k === 'keys')) {
      for (let i = 0; i < v.length; i++) if (freezeFindingPrototypeKey(v[i])) found = true;
    } else if (typeof v === 'object' && v !== null) found = true; // not the format: findPrototypeKey looks
  }
  return found;
}

/** What checkStoreData found: the first problem, or the records indexed. */
export type CheckedStoreData = { problem: string; index?: undefined } | { problem: null; index: RecordIndex };

/**
 * Checks a parsed keyport.json document (see validateStoreData) and, when it is usable, returns
 * its records indexed (RecordIndex), the maps the store is then built on. `owned`: the document
 * was just parsed and nobody else holds it: its records are deep-frozen as they are checked (the
 * store freezes what it holds; a refused document is dropped).
 */
export function checkStoreData(raw: unknown, owned = false): CheckedStoreData {
  // A hand-edited file could carry {"__proto__": …}; refuse it by path before any record is copied.
  const proto = mayHavePrototypeKey(raw, owned) ? findPrototypeKey(raw, '') : null;
  if (proto !== null) return { problem: prototypeKeyMessage(proto) };
  // A field set to undefined (an in-memory init object) is missing, as JSON would have it.
  const doc = isPlainObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) : raw;
  // The frame is checked with the record lists left out: they are only known to be arrays here,
  // and walking 200,000 records to learn that each is `unknown` was a tenth of a second.
  const frameOf = isPlainObject(doc)
    ? {
        ...doc,
        ...(Array.isArray(doc.devices) ? { devices: [] } : {}),
        ...(Array.isArray(doc.keys) ? { keys: [] } : {}),
      }
    : doc;
  const frame = parseWith(StoreFileFrame, frameOf, STORE_STYLE);
  if (!frame.ok) return { problem: frame.errors[0]?.message ?? 'top level: not a Keyport store document' };
  const { devices, keys } = doc as { devices: unknown[]; keys: unknown[] };
  const problem = eachItem(devices, 'devices', validateDevice) ?? eachItem(keys, 'keys', validateKeyRecord);
  if (problem) return { problem };
  const index = indexRecords(devices as Device[], keys as AccessKeyRecord[]);
  return typeof index === 'string' ? { problem: index } : { problem: null, index };
}

/**
 * Checks a parsed keyport.json document. Returns the first problem, naming where it is
 * (e.g. `keys[3].status: must be "active" or "inactive"`), or null when the document is usable.
 */
export function validateStoreData(raw: unknown): Problem {
  return checkStoreData(raw).problem;
}
