// Shape validation of the store document (keyport.json) and of each record the store accepts.
// The store refuses what it could not read back: every record put into a store passes the same
// checks as a record loaded from the file, so the file Keyport writes always opens again (docs/design.md §11).
// This checks shapes, enums, ids and integrity (unique ids, unique public keys, no secrets);
// domain limits (name lengths, list sizes) are the service's input validation, not the store's.
import { isId } from '../core/ids.ts';
import { AttributeList } from '../core/schemas/device-schemas.ts';
import { schemaErrors } from '../core/schemas/schema-errors.ts';
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import {
  ADDRESS_FILTER_TYPES,
  CREATED_VIA,
  DEVICE_CLASSES,
  KEY_STATUSES,
  REASON_CODES,
  TOPIC_FILTER_TYPES,
} from '../core/types.ts';
import { STORE_VERSION } from './store.ts';

/** A problem found, as "<path>: <what is wrong>", or null when the value is fine. */
type Problem = string | null;
type Obj = Record<string, unknown>;

const TRANSPORTS = ['tcp', 'ws', 'tls', 'http'] as const;
const CONNECTION_STATES = ['connected', 'disconnected'] as const;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Present means "not undefined": JSON has no undefined, and an in-memory undefined is dropped on write. */
function present(obj: Obj, field: string): boolean {
  return obj[field] !== undefined;
}

function quoteList(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  if (quoted.length === 2) return `${quoted[0]} or ${quoted[1]}`;
  return `one of ${quoted.join(', ')}`;
}

function checkId(value: unknown, path: string): Problem {
  return isId(value) ? null : `${path}: must be 24 lowercase hex characters`;
}

function checkString(value: unknown, path: string, nonEmpty = false): Problem {
  if (typeof value !== 'string') return `${path}: must be a string`;
  if (nonEmpty && value.length === 0) return `${path}: must not be empty`;
  return null;
}

function checkEnum(value: unknown, allowed: readonly string[], path: string): Problem {
  return typeof value === 'string' && allowed.includes(value) ? null : `${path}: must be ${quoteList(allowed)}`;
}

function checkDate(value: unknown, path: string): Problem {
  if (typeof value !== 'string' || !Number.isFinite(Date.parse(value))) {
    return `${path}: must be an ISO 8601 date string`;
  }
  return null;
}

function checkCount(value: unknown, path: string): Problem {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? null : `${path}: must be a non-negative integer`;
}

function checkArray(value: unknown, path: string, item: (v: unknown, p: string) => Problem): Problem {
  if (!Array.isArray(value)) return `${path}: must be an array`;
  for (let i = 0; i < value.length; i++) {
    const problem = item(value[i], `${path}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

function checkTag(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object {key, value}`;
  return checkString(value.key, `${path}.key`, true) ?? checkString(value.value, `${path}.value`);
}

/** A key's restriction item: {key, value} (every file written before issue 14), {key} or {value}. */
function checkTagMatch(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object {key, value}, {key} or {value}`;
  if (!present(value, 'key') && !present(value, 'value')) return `${path}: must have a key, a value or both`;
  return first(
    optional(value, 'key', path, (v, p) => checkString(v, p, true)),
    optional(value, 'value', path, (v, p) => checkString(v, p, true)),
  );
}

/** Runs checks in order and returns the first problem. */
function first(...checks: Array<() => Problem>): Problem {
  for (const check of checks) {
    const problem = check();
    if (problem) return problem;
  }
  return null;
}

function optional(obj: Obj, field: string, path: string, check: (v: unknown, p: string) => Problem): () => Problem {
  return () => (present(obj, field) ? check(obj[field], `${path}.${field}`) : null);
}

function checkConnectionStatus(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object`;
  const c = value;
  return first(
    () => checkEnum(c.status, CONNECTION_STATES, `${path}.status`),
    optional(c, 'connectedAt', path, checkDate),
    optional(c, 'disconnectedAt', path, checkDate),
    optional(c, 'disconnectReason', path, (v, p) => checkEnum(v, REASON_CODES, p)),
    optional(c, 'ipAddress', path, (v, p) => checkString(v, p)),
    optional(c, 'transport', path, (v, p) => checkEnum(v, TRANSPORTS, p)),
    () => checkCount(c.messagesFromClient, `${path}.messagesFromClient`),
    () => checkCount(c.messagesToClient, `${path}.messagesToClient`),
    optional(c, 'scopeChangedSinceConnect', path, (v, p) =>
      typeof v === 'boolean' ? null : `${p}: must be true or false`,
    ),
  );
}

function checkDeviceState(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object {time, data}`;
  const s = value;
  return first(
    () => checkDate(s.time, `${path}.time`),
    () => (isObject(s.data) ? null : `${path}.data: must be an object`),
  );
}

/** Checks one device; `path` names it in the message, e.g. "devices[0]". */
export function validateDevice(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object`;
  const d = value;
  return first(
    () => checkId(d.id, `${path}.id`),
    () => checkString(d.name, `${path}.name`),
    () => checkString(d.description, `${path}.description`),
    () => checkArray(d.tags, `${path}.tags`, checkTag),
    () => checkEnum(d.deviceClass, DEVICE_CLASSES, `${path}.deviceClass`),
    optional(d, 'gatewayId', path, checkId),
    optional(d, 'attributes', path, (v, p) => schemaErrors(AttributeList, v, { prefix: p })[0]?.message ?? null),
    () => checkDate(d.creationDate, `${path}.creationDate`),
    () => checkDate(d.lastUpdated, `${path}.lastUpdated`),
    optional(d, 'connectionStatus', path, checkConnectionStatus),
    optional(d, 'lastState', path, checkDeviceState),
  );
}

/** Checks one access key record; `path` names it in the message, e.g. "keys[3]". */
export function validateKeyRecord(value: unknown, path: string): Problem {
  if (!isObject(value)) return `${path}: must be an object`;
  const k = value;
  // Checked first: a secret in the document is the one thing that must never be accepted (docs/design.md §3).
  if ('secret' in k) return `${path} has a plaintext secret field; Keyport never stores secrets`;
  const strings = (v: unknown, p: string): Problem => checkArray(v, p, (s, sp) => checkString(s, sp));
  return first(
    () => checkId(k.id, `${path}.id`),
    () => checkString(k.key, `${path}.key`, true),
    optional(k, 'name', path, (v, p) => checkString(v, p)),
    optional(k, 'description', path, (v, p) => checkString(v, p)),
    () => checkEnum(k.status, KEY_STATUSES, `${path}.status`),
    optional(k, 'deviceIds', path, (v, p) => checkArray(v, p, checkId)),
    optional(k, 'deviceTags', path, (v, p) => checkArray(v, p, checkTagMatch)),
    () => checkEnum(k.addressFilterType, ADDRESS_FILTER_TYPES, `${path}.addressFilterType`),
    () => strings(k.addresses, `${path}.addresses`),
    () => checkEnum(k.filterType, TOPIC_FILTER_TYPES, `${path}.filterType`),
    () => strings(k.pubTopics, `${path}.pubTopics`),
    () => strings(k.subTopics, `${path}.subTopics`),
    () => checkDate(k.creationDate, `${path}.creationDate`),
    () => checkDate(k.lastUpdated, `${path}.lastUpdated`),
    optional(k, 'lastUsed', path, checkDate),
    () => checkEnum(k.createdVia, CREATED_VIA, `${path}.createdVia`),
    () => checkString(k.secretVerifier, `${path}.secretVerifier`, true),
  );
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
    () => checkId(raw.applicationId, 'applicationId'),
    () => checkArray(devices, 'devices', validateDevice),
    () => checkArray(keys, 'keys', validateKeyRecord),
    () => checkUnique(devices as unknown[], 'devices', 'id'),
    () => checkUnique(keys as unknown[], 'keys', 'id'),
    () => checkUnique(keys as unknown[], 'keys', 'key'),
  );
}
