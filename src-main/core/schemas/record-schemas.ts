// The records the store keeps (keyport.json), as schemas: what a file must hold to be opened
// (docs/design.md §11). Looser than the input schemas on purpose: they check shapes, enums and
// ids, not domain limits (name lengths, list sizes), so a file written by any earlier Keyport
// opens. Unknown fields are kept, not refused. Messages read "<path>: <rule>" (store style).
import { FormatRegistry, Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { ATTRIBUTE_DATA_TYPES, CREATED_VIA, DEVICE_CLASSES, KEY_STATUSES, TOPIC_FILTER_TYPES } from './enums.ts';
import { ADDRESS_FILTER_TYPES, TRANSPORTS } from './enums.ts';
import { ID_PATTERN_SOURCE, TAG_KEY_PATTERN } from './schema-kit.ts';

/** Any string Date.parse reads (what every Keyport has written: toISOString()). */
FormatRegistry.Set('keyport-date', (v) => Number.isFinite(Date.parse(v)));

function quoteList(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `one of ${quoted.join(', ')}`;
}

const Str = () => Type.String({ errorMessage: '{path}: must be a string' });
const NonEmpty = () =>
  Type.String({ minLength: 1, typeMessage: '{path}: must be a string', errorMessage: '{path}: must not be empty' });
const RecId = () =>
  Type.String({ pattern: ID_PATTERN_SOURCE, errorMessage: '{path}: must be 24 lowercase hex characters' });
const RecDate = () => Type.String({ format: 'keyport-date', errorMessage: '{path}: must be an ISO 8601 date string' });
const Count = () =>
  Type.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    errorMessage: '{path}: must be a non-negative integer',
  });
function Enum<T extends string>(values: readonly T[]) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { errorMessage: `{path}: must be ${quoteList(values)}` },
  );
}
const Obj = <T extends TProperties>(props: T, shape = '') =>
  Type.Object(props, { errorMessage: `{path}: must be an object${shape}` });
const List = <T extends TSchema>(item: T) => Type.Array(item, { errorMessage: '{path}: must be an array' });

const TagRecord = Obj({ key: NonEmpty(), value: Str() }, ' {key, value}');
/** A key's restriction item; "at least one side" is checked by store/validate-data.ts. */
const TagMatchRecord = Obj(
  { key: Type.Optional(NonEmpty()), value: Type.Optional(NonEmpty()) },
  ' {key, value}, {key} or {value}',
);
const AttributeRecord = Obj(
  {
    name: Type.String({
      pattern: TAG_KEY_PATTERN.source,
      errorMessage: '{path}: must be 1-255 letters, digits, "_" or "-"',
    }),
    dataType: Enum(ATTRIBUTE_DATA_TYPES),
  },
  ' {name, dataType}',
);

export const ConnectionStatusRecord = Obj({
  status: Enum(['connected', 'disconnected'] as const),
  connectedAt: Type.Optional(RecDate()),
  disconnectedAt: Type.Optional(RecDate()),
  /** Checked against REASON_CODES by store/validate-data.ts (the list lives in core/types.ts). */
  disconnectReason: Type.Optional(Str()),
  ipAddress: Type.Optional(Str()),
  transport: Type.Optional(Enum(TRANSPORTS)),
  messagesFromClient: Count(),
  messagesToClient: Count(),
  scopeChangedSinceConnect: Type.Optional(Type.Boolean({ errorMessage: '{path}: must be true or false' })),
});

export const DeviceRecord = Obj({
  id: RecId(),
  name: Str(),
  description: Str(),
  tags: List(TagRecord),
  deviceClass: Enum(DEVICE_CLASSES),
  gatewayId: Type.Optional(RecId()),
  attributes: Type.Optional(List(AttributeRecord)),
  creationDate: RecDate(),
  lastUpdated: RecDate(),
  connectionStatus: Type.Optional(ConnectionStatusRecord),
  lastState: Type.Optional(
    Obj(
      {
        time: RecDate(),
        data: Type.Record(Type.String(), Type.Unknown(), { errorMessage: '{path}: must be an object' }),
      },
      ' {time, data}',
    ),
  ),
});

export const KeyRecordSchema = Obj({
  id: RecId(),
  key: NonEmpty(),
  name: Type.Optional(Str()),
  description: Type.Optional(Str()),
  status: Enum(KEY_STATUSES),
  deviceIds: Type.Optional(List(RecId())),
  deviceTags: Type.Optional(List(TagMatchRecord)),
  addressFilterType: Enum(ADDRESS_FILTER_TYPES),
  addresses: List(Str()),
  filterType: Enum(TOPIC_FILTER_TYPES),
  pubTopics: List(Str()),
  subTopics: List(Str()),
  creationDate: RecDate(),
  lastUpdated: RecDate(),
  lastUsed: Type.Optional(RecDate()),
  createdVia: Enum(CREATED_VIA),
  secretVerifier: NonEmpty(),
});

// A journal line's bookkeeping parts (store/journal-format.ts): put onto a stored record at replay,
// so only these fields, and the id of the record they belong to.
const Part = <T extends TProperties>(props: T, shape: string) =>
  Type.Object(props, { additionalProperties: false, typeMessage: `{path}: must be an object ${shape}` });

/** A device's connectionStatus and/or lastState (which one is present is checked by store/validate-data.ts). */
export const DevicePartRecord = Part(
  {
    id: RecId(),
    connectionStatus: Type.Optional(ConnectionStatusRecord),
    lastState: DeviceRecord.properties.lastState,
  },
  '{id, connectionStatus, lastState}',
);

/** An access key's lastUsed. */
export const KeyPartRecord = Part({ id: RecId(), lastUsed: RecDate() }, '{id, lastUsed}');
