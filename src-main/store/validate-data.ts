// Shape validation of the store document (keyport.json) and of each record the store accepts.
// The store refuses what it could not read back: every record put into a store passes the same
// checks as a record loaded from the file, so the file Keyport writes always opens again (docs/design.md §11).
// The shapes are the record schemas of core/schemas/record-schemas.ts; this adds integrity
// (unique ids, unique public keys, no secrets) and the checks that span fields.
// This checks shapes, enums, ids and integrity (unique ids, unique public keys, no secrets);
// domain limits (name lengths, list sizes) are the service's input validation, not the store's.
import type { TSchema } from '@sinclair/typebox';
import { isId } from '../core/ids.ts';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { ConnectionStatusRecord, DeviceRecord, KeyRecordSchema } from '../core/schemas/record-schemas.ts';
import { schemaErrors } from '../core/schemas/schema-errors.ts';
import { REASON_CODES } from '../core/types.ts';
import { STORE_VERSION } from './store.ts';

/** A problem found, as "<path>: <what is wrong>", or null when the value is fine. */
type Problem = string | null;
type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STORE_STYLE = { requiredUsesRule: true, separator: ': ' } as const;

/** The first schema problem of `value`, named from `path`. */
function firstProblem(schema: TSchema, value: unknown, path: string): Problem {
  return schemaErrors(schema, value, { ...STORE_STYLE, prefix: path })[0]?.message ?? null;
}

function checkArray(value: unknown, path: string, item: (v: unknown, p: string) => Problem): Problem {
  if (!Array.isArray(value)) return `${path}: must be an array`;
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

/** Checks one access key record; `path` names it in the message, e.g. "keys[3]". */
export function validateKeyRecord(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object`;
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
  if (!isObject(raw)) return 'top level: must be an object {version, applicationId, devices, keys}';
  if (raw.version === undefined) return `version: missing (this Keyport reads version ${STORE_VERSION})`;
  if (raw.version !== STORE_VERSION) {
    return `version: unsupported version ${JSON.stringify(raw.version)} (this Keyport reads version ${STORE_VERSION})`;
  }
  const devices = raw.devices;
  const keys = raw.keys;
  return first(
    () => (isId(raw.applicationId) ? null : 'applicationId: must be 24 lowercase hex characters'),
    () => checkArray(devices, 'devices', validateDevice),
    () => checkArray(keys, 'keys', validateKeyRecord),
    () => checkUnique(devices as unknown[], 'devices', 'id'),
    () => checkUnique(keys as unknown[], 'keys', 'id'),
    () => checkUnique(keys as unknown[], 'keys', 'key'),
  );
}
