// What may be sent to create or change an access key (Losant's applicationKeyPost/Patch schemas,
// docs/design.md §2). Shapes only: topic rules and address entries are then checked by their own
// domain validators (core/topic-rules.ts, core/addresses.ts), which know MQTT and IP syntax.
import { Type, type Static } from '@sinclair/typebox';
import { TagMatchInput } from './device-schemas.ts';
import { ADDRESS_FILTER_TYPES, CREATED_VIA, KEY_STATUSES, TOPIC_FILTER_TYPES } from './enums.ts';
import { Id, OneOf, Text } from './schema-kit.ts';

export const KEY_LIMITS = { name: 255, description: 32767, deviceIds: 1000, deviceTags: 100 } as const;

const Strings = (what: string) => Type.Array(Type.String(), { errorMessage: `{path} must be an array of ${what}` });

const patchFields = {
  name: Type.Optional(Text(1, KEY_LIMITS.name)),
  description: Type.Optional(Text(0, KEY_LIMITS.description)),
  status: Type.Optional(OneOf(KEY_STATUSES)),
  addressFilterType: Type.Optional(OneOf(ADDRESS_FILTER_TYPES)),
  addresses: Type.Optional(Strings('IP addresses or CIDR ranges')),
  filterType: Type.Optional(OneOf(TOPIC_FILTER_TYPES)),
  pubTopics: Type.Optional(Strings('topic rules')),
  subTopics: Type.Optional(Strings('topic rules')),
};

/** keys.create, `keyport keys create`, and the Losant API's POST …/keys body (after mapping). */
export const KeyCreate = Type.Object(
  {
    ...patchFields,
    deviceIds: Type.Optional(
      Type.Array(Id(), {
        maxItems: KEY_LIMITS.deviceIds,
        typeMessage: '{path} must be an array of device ids',
        errorMessage: `{path} may hold at most ${KEY_LIMITS.deviceIds} ids (got {length})`,
      }),
    ),
    deviceTags: Type.Optional(
      Type.Array(TagMatchInput, {
        maxItems: KEY_LIMITS.deviceTags,
        typeMessage: '{path} must be an array of {key, value}, {key} or {value}',
        errorMessage: `{path} may hold at most ${KEY_LIMITS.deviceTags} tags (got {length})`,
      }),
    ),
    createdVia: Type.Optional(OneOf(CREATED_VIA)),
  },
  { additionalProperties: false },
);
export type KeyInput = Static<typeof KeyCreate>;

/**
 * keys.update's patch. `name: null` removes the name (names are optional for keys, as in Losant).
 * deviceIds/deviceTags are named so that sending them gets "cannot be changed", not "unknown field".
 */
export const KeyPatchSchema = Type.Object(
  {
    ...patchFields,
    name: Type.Optional(
      Type.Union([Text(1, KEY_LIMITS.name), Type.Null()], {
        errorMessage: '{path} must be 1-255 characters, or null to remove the name (got {value})',
      }),
    ),
    deviceIds: Type.Optional(Type.Unknown()),
    deviceTags: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type KeyPatch = Omit<Static<typeof KeyPatchSchema>, 'deviceIds' | 'deviceTags'>;
