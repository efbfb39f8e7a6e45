// Input validation for devices and access keys (docs/design.md §2). Every error names the field and the rule.
// Used where input enters: CLI, HTTP, IPC and the service.
import { validateAddresses } from './addresses.ts';
import { isId } from './ids.ts';
import { validateTopicRules } from './topic-rules.ts';
import {
  CREATED_VIA,
  DEVICE_CLASSES,
  KEY_STATUSES,
  TOPIC_FILTER_TYPES,
  type AddressFilterType,
  type CreatedVia,
  type DeviceClass,
  type FieldError,
  type KeyStatus,
  type Result,
  type Tag,
  type TagMatch,
  type TopicFilterType,
} from './types.ts';

export const TAG_KEY_PATTERN = /^[0-9a-zA-Z_-]{1,255}$/;
export const LIMITS = { name: 255, description: 32767, deviceIds: 1000, deviceTags: 100, tagValue: 255 } as const;

export interface DeviceInput {
  name: string;
  description?: string;
  tags?: Tag[];
  deviceClass?: DeviceClass;
  gatewayId?: string;
}

export interface KeyInput {
  name?: string;
  description?: string;
  status?: KeyStatus;
  deviceIds?: string[];
  deviceTags?: TagMatch[];
  addressFilterType?: AddressFilterType;
  addresses?: string[];
  filterType?: TopicFilterType;
  pubTopics?: string[];
  subTopics?: string[];
  createdVia?: CreatedVia;
}
/** An update; `name: null` removes the name (names are optional for keys, as in Losant). */
export type KeyPatch = Omit<KeyInput, 'deviceIds' | 'deviceTags' | 'createdVia' | 'name'> & { name?: string | null };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkString(errors: FieldError[], o: Obj, field: string, min: number, max: number, required = false): void {
  const v = o[field];
  if (v === undefined) {
    if (required) errors.push({ field, message: `${field} is required` });
    return;
  }
  if (typeof v !== 'string') errors.push({ field, message: `${field} must be a string` });
  else if (v.length < min || v.length > max)
    errors.push({ field, message: `${field} must be ${min}-${max} characters (got ${v.length})` });
}

function checkEnum(errors: FieldError[], o: Obj, field: string, allowed: readonly string[]): void {
  const v = o[field];
  if (v !== undefined && (typeof v !== 'string' || !allowed.includes(v))) {
    errors.push({ field, message: `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})` });
  }
}

function checkUnknown(errors: FieldError[], o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      errors.push({ field: k, message: `unknown field "${k}" (allowed: ${allowed.join(', ')})` });
  }
}

function checkTagKey(errors: FieldError[], f: string, key: unknown): void {
  if (typeof key !== 'string' || !TAG_KEY_PATTERN.test(key)) {
    errors.push({
      field: `${f}.key`,
      message: `${f}.key must be 1-255 letters, digits, "_" or "-" (got ${JSON.stringify(key)})`,
    });
  }
}

function checkTagValue(errors: FieldError[], f: string, value: unknown): void {
  if (typeof value !== 'string' || value.length < 1 || value.length > LIMITS.tagValue) {
    errors.push({ field: `${f}.value`, message: `${f}.value must be a string of 1-255 characters` });
  }
}

/**
 * Checks a list of tags. Device tags need both sides (`oneSided: false`). An access key's
 * deviceTags items may leave one side out (`{key}`: any value, `{value}`: any key), as Losant's
 * applicationKeyPost schema allows, but not both: an empty item would restrict nothing.
 */
export function validateTags(field: string, v: unknown, maxCount: number, oneSided = false): FieldError[] {
  if (v === undefined) return [];
  const shape = oneSided ? '{key, value}, {key} or {value}' : '{key, value}';
  if (!Array.isArray(v)) return [{ field, message: `${field} must be an array of ${shape}` }];
  const errors: FieldError[] = [];
  if (v.length > maxCount)
    errors.push({ field, message: `${field} may hold at most ${maxCount} tags (got ${v.length})` });
  v.forEach((t, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(t)) return errors.push({ field: f, message: `${f} must be an object ${shape}` });
    if (oneSided && t.key === undefined && t.value === undefined) {
      return errors.push({ field: f, message: `${f} must have a key, a value or both (got ${JSON.stringify(t)})` });
    }
    if (!oneSided || t.key !== undefined) checkTagKey(errors, f, t.key);
    if (!oneSided || t.value !== undefined) checkTagValue(errors, f, t.value);
    const extra = Object.keys(t).filter((k) => k !== 'key' && k !== 'value');
    if (extra.length) errors.push({ field: f, message: `${f} has unknown field(s) ${extra.join(', ')}` });
    return undefined;
  });
  return errors;
}

/** Parse "k=v" (CLI form) into a device tag; the value may contain "=". */
export function parseTagArg(text: string): Tag | null {
  const i = text.indexOf('=');
  if (i <= 0) return null;
  return { key: text.slice(0, i), value: text.slice(i + 1) };
}

/**
 * Parse a key restriction item (CLI `keys create --tag`): `k=v` (key and value; the value may
 * contain "="), `k` or `k=` (key only: any value), `=v` (value only: any key). Null for "" and "=".
 * Whether the key and value are valid is checked by validateTags.
 */
export function parseTagMatchArg(text: string): TagMatch | null {
  const i = text.indexOf('=');
  const key = i < 0 ? text : text.slice(0, i);
  const value = i < 0 ? '' : text.slice(i + 1);
  if (key === '' && value === '') return null;
  return { ...(key !== '' ? { key } : {}), ...(value !== '' ? { value } : {}) };
}

const DEVICE_FIELDS = ['name', 'description', 'tags', 'deviceClass', 'gatewayId'] as const;

export function validateDeviceInput(input: unknown, partial = false): Result<DeviceInput> {
  if (!isObj(input)) return { ok: false, errors: [{ field: 'body', message: 'device must be a JSON object' }] };
  const errors: FieldError[] = [];
  checkUnknown(errors, input, DEVICE_FIELDS);
  checkString(errors, input, 'name', 1, LIMITS.name, !partial);
  checkString(errors, input, 'description', 0, LIMITS.description);
  errors.push(...validateTags('tags', input.tags, 1000));
  checkEnum(errors, input, 'deviceClass', DEVICE_CLASSES);
  if (input.gatewayId !== undefined && !isId(input.gatewayId)) {
    errors.push({ field: 'gatewayId', message: 'gatewayId must be a device id (24 lowercase hex characters)' });
  }
  // On create an absent class means standalone; on update the caller checks against the device's class.
  if (
    input.gatewayId !== undefined &&
    (input.deviceClass !== undefined || !partial) &&
    input.deviceClass !== 'peripheral'
  ) {
    errors.push({ field: 'gatewayId', message: 'gatewayId is only for devices of class peripheral' });
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: input as unknown as DeviceInput };
}

const KEY_PATCH_FIELDS = [
  'name',
  'description',
  'status',
  'addressFilterType',
  'addresses',
  'filterType',
  'pubTopics',
  'subTopics',
] as const;
const KEY_CREATE_FIELDS = [...KEY_PATCH_FIELDS, 'deviceIds', 'deviceTags', 'createdVia'] as const;

function validateKeyCommon(errors: FieldError[], o: Obj): void {
  checkString(errors, o, 'name', 1, LIMITS.name);
  checkString(errors, o, 'description', 0, LIMITS.description);
  checkEnum(errors, o, 'status', KEY_STATUSES);
  checkEnum(errors, o, 'filterType', TOPIC_FILTER_TYPES);
  errors.push(...validateTopicRules('pubTopics', o.pubTopics ?? []));
  errors.push(...validateTopicRules('subTopics', o.subTopics ?? []));
}

/** Validates a key to create. Address rules are checked as a pair (type + list). */
export function validateKeyInput(input: unknown): Result<KeyInput> {
  if (!isObj(input)) return { ok: false, errors: [{ field: 'body', message: 'access key must be a JSON object' }] };
  const errors: FieldError[] = [];
  checkUnknown(errors, input, KEY_CREATE_FIELDS);
  validateKeyCommon(errors, input);
  checkEnum(errors, input, 'createdVia', CREATED_VIA);
  const ids = input.deviceIds;
  if (ids !== undefined) {
    if (!Array.isArray(ids)) errors.push({ field: 'deviceIds', message: 'deviceIds must be an array of device ids' });
    else {
      if (ids.length > LIMITS.deviceIds)
        errors.push({
          field: 'deviceIds',
          message: `deviceIds may hold at most ${LIMITS.deviceIds} ids (got ${ids.length})`,
        });
      ids.forEach((id, i) => {
        if (!isId(id))
          errors.push({
            field: `deviceIds[${i}]`,
            message: `deviceIds[${i}] must be a device id (24 lowercase hex characters), got ${JSON.stringify(id)}`,
          });
      });
    }
  }
  errors.push(...validateTags('deviceTags', input.deviceTags, LIMITS.deviceTags, true));
  const emptyList = (v: unknown) => Array.isArray(v) && v.length === 0;
  if (
    (emptyList(ids) && (input.deviceTags === undefined || emptyList(input.deviceTags))) ||
    (ids === undefined && emptyList(input.deviceTags))
  ) {
    errors.push({
      field: 'deviceIds',
      message:
        'deviceIds and deviceTags are both empty: list at least one device or tag, or leave both out to allow all devices',
    });
  }
  errors.push(...validateAddresses(input.addressFilterType ?? 'all', input.addresses ?? []));
  return errors.length ? { ok: false, errors } : { ok: true, value: input as KeyInput };
}

/** Validates an update. Device restrictions are immutable after creation (docs/design.md §2). */
export function validateKeyPatch(
  input: unknown,
  current: { addressFilterType: AddressFilterType; addresses: string[] },
): Result<KeyPatch> {
  if (!isObj(input))
    return { ok: false, errors: [{ field: 'body', message: 'access key update must be a JSON object' }] };
  const errors: FieldError[] = [];
  for (const f of ['deviceIds', 'deviceTags'] as const) {
    if (input[f] !== undefined)
      errors.push({ field: f, message: `${f} cannot be changed after the key is created; create a new key instead` });
  }
  checkUnknown(errors, input, [...KEY_PATCH_FIELDS, 'deviceIds', 'deviceTags']);
  validateKeyCommon(errors, input.name === null ? { ...input, name: undefined } : input);
  if (input.addressFilterType !== undefined || input.addresses !== undefined) {
    const type = input.addressFilterType ?? current.addressFilterType;
    const list = input.addresses ?? (input.addressFilterType === 'all' ? [] : current.addresses);
    errors.push(...validateAddresses(type, list));
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: input as KeyPatch };
}

/** One line for CLI/HTTP errors; each message carries its field name. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`)).join('; ');
}
