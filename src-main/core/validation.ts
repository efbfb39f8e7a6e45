// Input validation for devices and access keys (docs/design.md §2). Every error names the field and the rule.
// Used where input enters: CLI, HTTP, IPC and the service. Shapes are the TypeBox schemas of
// core/schemas/ (the single source of truth); this file adds the rules that span fields.
import { validateAddresses } from './addresses.ts';
import { AttributeList, DeviceCreate, DevicePatchSchema, TagInput, TagMatchInput } from './schemas/device-schemas.ts';
import type { DeviceAttribute, DeviceInput } from './schemas/device-schemas.ts';
import { KeyCreate, KeyPatchSchema, type KeyInput, type KeyPatch } from './schemas/key-schemas.ts';
import { ATTRIBUTE_DATA_TYPES, type AttributeDataType } from './schemas/enums.ts';
import { schemaErrors } from './schemas/schema-errors.ts';
import { Type } from '@sinclair/typebox';
import { validateTopicRules } from './topic-rules.ts';
import type { AddressFilterType, FieldError, Result, Tag, TagMatch } from './types.ts';
import { isPlainObject } from './plain-object.ts';

export { TAG_KEY_PATTERN } from './schemas/schema-kit.ts';
export type { DeviceInput, KeyInput, KeyPatch };
export const LIMITS = { name: 255, description: 32767, deviceIds: 1000, deviceTags: 100, tagValue: 255 } as const;

type Obj = Record<string, unknown>;

const tagLists = new Map<string, ReturnType<typeof Type.Array>>();
function tagListSchema(maxCount: number, oneSided: boolean) {
  const id = `${maxCount}:${oneSided}`;
  let schema = tagLists.get(id);
  if (!schema) {
    const shape = oneSided ? '{key, value}, {key} or {value}' : '{key, value}';
    schema = Type.Array(oneSided ? TagMatchInput : TagInput, {
      maxItems: maxCount,
      typeMessage: `{path} must be an array of ${shape}`,
      errorMessage: `{path} may hold at most ${maxCount} tags (got {length})`,
    });
    tagLists.set(id, schema);
  }
  return schema;
}

/**
 * Checks a list of tags. Device tags need both sides (`oneSided: false`). An access key's
 * deviceTags items may leave one side out (`{key}`: any value, `{value}`: any key), as Losant's
 * applicationKeyPost schema allows, but not both: an empty item would restrict nothing.
 */
export function validateTags(field: string, v: unknown, maxCount: number, oneSided = false): FieldError[] {
  if (v === undefined) return [];
  const errors = schemaErrors(tagListSchema(maxCount, oneSided), v, { prefix: field });
  if (oneSided && Array.isArray(v)) {
    v.forEach((t, i) => {
      if (isPlainObject(t) && t.key === undefined && t.value === undefined) {
        const f = `${field}[${i}]`;
        errors.push({ field: f, message: `${f} must have a key, a value or both (got ${JSON.stringify(t)})` });
      }
    });
  }
  return errors;
}

/** Checks declared attributes: their shape, and that no name is declared twice. */
export function validateAttributes(field: string, v: unknown): FieldError[] {
  if (v === undefined) return [];
  const errors = schemaErrors(AttributeList, v, { prefix: field });
  if (errors.length || !Array.isArray(v)) return errors;
  const seen = new Map<string, number>();
  (v as DeviceAttribute[]).forEach((a, i) => {
    const before = seen.get(a.name);
    if (before !== undefined)
      errors.push({
        field: `${field}[${i}].name`,
        message: `${field}[${i}].name: attribute "${a.name}" is already declared at ${field}[${before}]`,
      });
    else seen.set(a.name, i);
  });
  return errors;
}

/** Parse "name:type" (CLI `devices create --attr temp:number`) into a declared attribute. */
export function parseAttrArg(text: string): DeviceAttribute | string {
  const i = text.lastIndexOf(':');
  const name = i < 0 ? text : text.slice(0, i);
  const dataType = i < 0 ? 'number' : text.slice(i + 1);
  if (!(ATTRIBUTE_DATA_TYPES as readonly string[]).includes(dataType)) {
    return `--attr ${JSON.stringify(text)}: the data type must be one of ${ATTRIBUTE_DATA_TYPES.join(', ')}`;
  }
  return { name, dataType: dataType as AttributeDataType };
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

export function validateDeviceInput(input: unknown, partial = false): Result<DeviceInput> {
  if (!isPlainObject(input)) return { ok: false, errors: [{ field: 'body', message: 'device must be a JSON object' }] };
  const errors = schemaErrors(partial ? DevicePatchSchema : DeviceCreate, input);
  if (!errors.some((e) => e.field.startsWith('attributes')))
    errors.push(...validateAttributes('attributes', input.attributes));
  // On create an absent class means standalone; on update the caller checks against the device's class.
  if (
    input.gatewayId !== undefined &&
    (input.deviceClass !== undefined || !partial) &&
    input.deviceClass !== 'peripheral'
  ) {
    errors.push({ field: 'gatewayId', message: 'gatewayId is only for devices of class peripheral' });
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: input as DeviceInput };
}

/** Domain checks for the fields whose shape passed: topic rules (MQTT syntax) and one-sided tag items. */
function keyDomainErrors(errors: FieldError[], o: Obj): void {
  const bad = (f: string) => errors.some((e) => e.field === f || e.field.startsWith(`${f}[`));
  if (!bad('pubTopics')) errors.push(...validateTopicRules('pubTopics', o.pubTopics ?? []));
  if (!bad('subTopics')) errors.push(...validateTopicRules('subTopics', o.subTopics ?? []));
}

function addressErrors(errors: FieldError[], type: unknown, list: unknown): void {
  if (errors.some((e) => e.field === 'addressFilterType' || e.field.startsWith('addresses'))) return;
  errors.push(...validateAddresses(type, list));
}

/** Validates a key to create. Address rules are checked as a pair (type + list). */
export function validateKeyInput(input: unknown): Result<KeyInput> {
  if (!isPlainObject(input))
    return { ok: false, errors: [{ field: 'body', message: 'access key must be a JSON object' }] };
  const errors = schemaErrors(KeyCreate, input);
  keyDomainErrors(errors, input);
  if (Array.isArray(input.deviceTags)) {
    input.deviceTags.forEach((t: unknown, i: number) => {
      if (isPlainObject(t) && t.key === undefined && t.value === undefined) {
        const f = `deviceTags[${i}]`;
        errors.push({ field: f, message: `${f} must have a key, a value or both (got ${JSON.stringify(t)})` });
      }
    });
  }
  const ids = input.deviceIds;
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
  addressErrors(errors, input.addressFilterType ?? 'all', input.addresses ?? []);
  return errors.length ? { ok: false, errors } : { ok: true, value: input as KeyInput };
}

/** Validates an update. Device restrictions are immutable after creation (docs/design.md §2). */
export function validateKeyPatch(
  input: unknown,
  current: { addressFilterType: AddressFilterType; addresses: string[] },
): Result<KeyPatch> {
  if (!isPlainObject(input))
    return { ok: false, errors: [{ field: 'body', message: 'access key update must be a JSON object' }] };
  const errors = schemaErrors(KeyPatchSchema, input);
  for (const f of ['deviceIds', 'deviceTags'] as const) {
    if (input[f] !== undefined)
      errors.push({ field: f, message: `${f} cannot be changed after the key is created; create a new key instead` });
  }
  keyDomainErrors(errors, input);
  if (input.addressFilterType !== undefined || input.addresses !== undefined) {
    const type = input.addressFilterType ?? current.addressFilterType;
    const list = input.addresses ?? (input.addressFilterType === 'all' ? [] : current.addresses);
    addressErrors(errors, type, list);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: input as KeyPatch };
}

/** One line for CLI/HTTP errors; each message carries its field name. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`)).join('; ');
}
