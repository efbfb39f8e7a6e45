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
