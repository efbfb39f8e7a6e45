// The store document (keyport.json) as a whole: its version, application id and the two record
// lists (docs/design.md §11). Each record is then checked with record-schemas.ts, after the
// plaintext-secret check that must come first (store/validate-data.ts).
import { Type, type Static } from '@sinclair/typebox';
import { DeviceRecord, KeyRecordSchema } from './record-schemas.ts';
import { ID_PATTERN_SOURCE } from './schema-kit.ts';

export const STORE_VERSION = 1;

const said = (message: string) => ({ errorMessage: message, requiredMessage: message });

const fileFields = {
  version: Type.Literal(STORE_VERSION, {
    errorMessage: `version: unsupported version {value} (this Keyport reads version ${STORE_VERSION})`,
    requiredMessage: `version: missing (this Keyport reads version ${STORE_VERSION})`,
  }),
  applicationId: Type.String({
    pattern: ID_PATTERN_SOURCE,
    ...said('applicationId: must be 24 lowercase hex characters'),
  }),
  // The first journal generation NOT folded into this document (store/journal-format.ts): the
  // journals of generations below it are already in it. Absent in files written before the journal.
  journal: Type.Optional(
    Type.Integer({ minimum: 0, errorMessage: 'journal: must be a whole number ≥ 0 (a journal generation)' }),
  ),
};
const TOP = { typeMessage: 'top level: must be an object {version, applicationId, devices, keys}' };

/** The document's frame, checked before any record: the records are only known to be arrays. */
export const StoreFileFrame = Type.Object(
  {
    ...fileFields,
    devices: Type.Array(Type.Unknown(), said('devices: must be an array')),
    keys: Type.Array(Type.Unknown(), said('keys: must be an array')),
  },
  TOP,
);

/** The whole document; StoreData (store/store.ts) is its type. */
export const StoreFile = Type.Object(
  { ...fileFields, devices: Type.Array(DeviceRecord), keys: Type.Array(KeyRecordSchema) },
  TOP,
);
export type StoreFileData = Static<typeof StoreFile>;

/** The first line of a journal file (keyport.journal): which generation its changes belong to. */
export const JournalHeader = Type.Object(
  {
    keyportJournal: Type.Literal(1, {
      errorMessage: 'keyportJournal: unsupported journal format {value} (this Keyport reads 1)',
      requiredMessage: 'keyportJournal: missing (the first line must be {"keyportJournal":1,"generation":N})',
    }),
    generation: Type.Integer({ minimum: 0, ...said('generation: must be a whole number ≥ 0') }),
  },
  { additionalProperties: false, typeMessage: 'must be an object {keyportJournal, generation}' },
);

/**
 * Every other journal line: one committed batch of changes, the records as they were after it
 * (each record is then checked with record-schemas.ts, like one in the document), and the
 * bookkeeping parts of records otherwise unchanged (record-schemas.ts DevicePartRecord, KeyPartRecord).
 */
export const JournalBatch = Type.Object(
  {
    devices: Type.Optional(Type.Array(Type.Unknown(), said('devices: must be an array'))),
    keys: Type.Optional(Type.Array(Type.Unknown(), said('keys: must be an array'))),
    deletedDevices: Type.Optional(
      Type.Array(Type.String({ pattern: ID_PATTERN_SOURCE }), said('deletedDevices: must be an array of device ids')),
    ),
    deletedKeys: Type.Optional(
      Type.Array(Type.String({ pattern: ID_PATTERN_SOURCE }), said('deletedKeys: must be an array of key ids')),
    ),
    deviceParts: Type.Optional(Type.Array(Type.Unknown(), said('deviceParts: must be an array'))),
    keyParts: Type.Optional(Type.Array(Type.Unknown(), said('keyParts: must be an array'))),
  },
  {
    additionalProperties: false,
    typeMessage: 'must be an object {devices, keys, deletedDevices, deletedKeys, deviceParts, keyParts}',
  },
);
