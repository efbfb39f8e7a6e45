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
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { ConnectionStatusRecord, DeviceRecord, KeyRecordSchema } from '../core/schemas/record-schemas.ts';
import { parseWith, schemaErrors } from '../core/schemas/schema-errors.ts';
import { StoreFileFrame } from '../core/schemas/store-file-schema.ts';
import { REASON_CODES } from '../core/types.ts';
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

/** Runs checks in order and returns the first problem. */
function first(...checks: Array<() => Problem>): Problem {
  for (const check of checks) {
    const problem = check();
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

/** Finds the first value of `field` that repeats, naming both places. */
function checkUnique(items: readonly unknown[], collection: string, field: string): Problem {
  const seen = new Map<unknown, number>();
  for (let i = 0; i < items.length; i++) {
    const value = (items[i] as Obj)[field];
    const before = seen.get(value);
    if (before !== undefined) {
      return `${collection}[${i}].${field}: duplicate ${field} ${JSON.stringify(value)} (also ${collection}[${before}].${field})`;
    }
    seen.set(value, i);
  }
  return null;
}

/**
 * Checks a parsed keyport.json document. Returns the first problem, naming where it is
 * (e.g. `keys[3].status: must be "active" or "inactive"`), or null when the document is usable.
 */
export function validateStoreData(raw: unknown): Problem {
  // A hand-edited file could carry {"__proto__": …}; refuse it by path before any record is copied.
  const proto = findPrototypeKey(raw, '');
  if (proto !== null) return prototypeKeyMessage(proto);
  // A field set to undefined (an in-memory init object) is missing, as JSON would have it.
  const doc = isPlainObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) : raw;
  const frame = parseWith(StoreFileFrame, doc, STORE_STYLE);
  if (!frame.ok) return frame.errors[0]?.message ?? 'top level: not a Keyport store document';
  const { devices, keys } = frame.value;
  return first(
    () => eachItem(devices, 'devices', validateDevice),
    () => eachItem(keys, 'keys', validateKeyRecord),
    () => checkUnique(devices, 'devices', 'id'),
    () => checkUnique(keys, 'keys', 'id'),
    () => checkUnique(keys, 'keys', 'key'),
  );
}
