// What a device is made of and what may be sent to create or change one (docs/design.md §2). Field
// names and rules follow Losant's devicePost schema; attribute rules follow
// https://docs.losant.com/devices/attributes/ (names of letters, digits, "-" and "_"; one data type each).
import { Type, type Static } from '@sinclair/typebox';
import { ATTRIBUTE_DATA_TYPES, DEVICE_CLASSES } from './enums.ts';
import { Id, Name, OneOf, Text } from './schema-kit.ts';

export const DEVICE_LIMITS = { name: 255, description: 32767, tags: 1000, attributes: 256, tagValue: 255 } as const;

const TagValue = () =>
  Type.String({
    minLength: 1,
    maxLength: DEVICE_LIMITS.tagValue,
    errorMessage: '{path} must be a string of 1-255 characters',
  });

export const TagInput = Type.Object(
  { key: Name(), value: TagValue() },
  { additionalProperties: false, typeMessage: '{path} must be an object {key, value}' },
);

/** One access key restriction item: {key, value}, {key} (any value) or {value} (any key). */
export const TagMatchInput = Type.Object(
  { key: Type.Optional(Name()), value: Type.Optional(TagValue()) },
  { additionalProperties: false, typeMessage: '{path} must be an object {key, value}, {key} or {value}' },
);

export const AttributeInput = Type.Object(
  { name: Name(), dataType: OneOf(ATTRIBUTE_DATA_TYPES) },
  { additionalProperties: false, typeMessage: '{path} must be an object {name, dataType}' },
);
/** A declared device attribute (Losant's device `attributes` items, name and dataType). */
export type DeviceAttribute = Static<typeof AttributeInput>;

export const TagList = (max: number) =>
  Type.Array(TagInput, {
    maxItems: max,
    typeMessage: '{path} must be an array of {key, value}',
    errorMessage: `{path} may hold at most ${max} tags (got {length})`,
  });

export const AttributeList = Type.Array(AttributeInput, {
  maxItems: DEVICE_LIMITS.attributes,
  typeMessage: '{path} must be an array of {name, dataType}',
  errorMessage: `{path} may hold at most ${DEVICE_LIMITS.attributes} attributes (got {length})`,
});

const deviceFields = {
  name: Text(1, DEVICE_LIMITS.name),
  description: Type.Optional(Text(0, DEVICE_LIMITS.description)),
  tags: Type.Optional(TagList(DEVICE_LIMITS.tags)),
  deviceClass: Type.Optional(OneOf(DEVICE_CLASSES)),
  gatewayId: Type.Optional(Id()),
  attributes: Type.Optional(AttributeList),
};

/** devices.create, `keyport devices create`, and the Losant API's POST …/devices body (after mapping). */
export const DeviceCreate = Type.Object(deviceFields, { additionalProperties: false });
export type DeviceInput = Static<typeof DeviceCreate>;

/** devices.update's patch: the same fields, none required. */
export const DevicePatchSchema = Type.Partial(DeviceCreate, { additionalProperties: false });
export type DevicePatch = Static<typeof DevicePatchSchema>;
