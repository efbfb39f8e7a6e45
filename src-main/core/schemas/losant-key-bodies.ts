// The Losant API's access-key bodies as they enter (POST and PATCH /applications/{appId}/keys…,
// https://docs.losant.com/rest-api/application-keys and
// https://docs.losant.com/rest-api/application-key): a JSON object, and
// createdVia is Keyport's to set. The fields inside are then checked by keys.create / keys.update
// with key-schemas.ts, which name each field, its rule and its value.
import { Type, type Static } from '@sinclair/typebox';

/** POST …/keys: any object without createdVia (keys made through the API are createdVia "api"). */
export const LosantKeyPost = Type.Object(
  {
    createdVia: Type.Optional(
      Type.Never({ errorMessage: 'createdVia: set by Keyport (keys made through this API are createdVia "api")' }),
    ),
  },
  { typeMessage: 'body: the access key must be a JSON object (got {value})' },
);
export type LosantKeyPostBody = Static<typeof LosantKeyPost>;

/** PATCH …/keys/{applicationKeyId}: any object (the service refuses deviceIds/deviceTags). */
export const LosantKeyPatch = Type.Object(
  {},
  { typeMessage: 'body: the access key update must be a JSON object (got {value})' },
);
export type LosantKeyPatchBody = Static<typeof LosantKeyPatch>;
