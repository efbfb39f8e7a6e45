// The envelopes of contract requests that service/dispatch.ts reads itself (ids, patches, the
// decision filter, command names, the limits switch). The bodies inside them (a device or key, a
// patch's fields) are checked by the service with device-schemas.ts / key-schemas.ts, so their
// errors keep their own field paths. Messages name the field, the rule and the value.
import { Type, type Static } from '@sinclair/typebox';
import { ACTIONS } from '../decision-event.ts';
import { LIMITS_MODES } from '../limits.ts';
import { ID_PATTERN_SOURCE } from './schema-kit.ts';

const idOf = (what: string) => {
  const rule = `id must be ${what} id (24 lowercase hex characters), got {value}`;
  return Type.String({ pattern: ID_PATTERN_SOURCE, errorMessage: rule, requiredMessage: rule });
};

const AnObject = (field: string) => {
  const rule = `${field} must be an object`;
  return Type.Object({}, { errorMessage: rule, requiredMessage: rule });
};

const OptionalString = (field: string) =>
  Type.Optional(Type.String({ errorMessage: `${field} must be a string (got {value})` }));

const Name = Type.String({
  minLength: 1,
  maxLength: 255,
  errorMessage: 'name must be a string of 1-255 characters',
  requiredMessage: 'name must be a string of 1-255 characters',
});

export const DeviceIdRequest = Type.Object({ id: idOf('a device') });
export const KeyIdRequest = Type.Object({ id: idOf('an access key') });
export const DeviceUpdateEnvelope = Type.Object({ id: idOf('a device'), patch: AnObject('patch') });
export const KeyUpdateEnvelope = Type.Object({ id: idOf('an access key'), patch: AnObject('patch') });

/** devices.sendCommand: the command's name; its payload is any JSON value. */
export const SendCommandRequest = Type.Object({
  id: idOf('a device'),
  name: Name,
  payload: Type.Optional(Type.Unknown()),
});
/** devices.generateKey: the key's name defaults to "<device name> key". */
export const GenerateKeyRequest = Type.Object({ id: idOf('a device'), name: Type.Optional(Name) });
export type SendCommand = Static<typeof SendCommandRequest>;
export type GenerateKey = Static<typeof GenerateKeyRequest>;

/** decisions.list / decisions.export: every field narrows; `limit` keeps the newest n. */
export const DecisionFilterSchema = Type.Object({
  deviceId: OptionalString('deviceId'),
  keyId: OptionalString('keyId'),
  action: Type.Optional(
    Type.Union(
      ACTIONS.map((a) => Type.Literal(a)),
      { errorMessage: `action must be one of ${ACTIONS.join(', ')} (got {value})` },
    ),
  ),
  result: Type.Optional(
    Type.Union([Type.Literal('allowed'), Type.Literal('denied')], {
      errorMessage: 'result must be allowed or denied (got {value})',
    }),
  ),
  reason: OptionalString('reason'),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, errorMessage: 'limit must be a positive whole number (got {value})' }),
  ),
});
export type DecisionFilter = Static<typeof DecisionFilterSchema>;

/** broker.setLimits. */
export const SetLimitsRequest = Type.Object({
  mode: Type.Union(
    LIMITS_MODES.map((m) => Type.Literal(m)),
    {
      errorMessage: `{path} must be ${LIMITS_MODES.map((m) => JSON.stringify(m)).join(' or ')} (got {value})`,
      requiredMessage: `{path} must be ${LIMITS_MODES.map((m) => JSON.stringify(m)).join(' or ')} (got nothing)`,
    },
  ),
});
export type SetLimits = Static<typeof SetLimitsRequest>;

/** broker.setCluster: the Redis URL to join at the next start (null: none) and this node's id. */
export const SetClusterRequest = Type.Object({
  url: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    errorMessage: '{path} must be a redis:// URL or null (got {value})',
    requiredMessage: '{path} must be a redis:// URL or null (got nothing)',
  }),
  nodeId: OptionalString('nodeId'),
});
export type SetCluster = Static<typeof SetClusterRequest>;
