// The contract's messages.* requests (docs/design.md §8a). The shapes are checked here; the rules
// that need code (a valid topic name, not a `$` topic, the payload's size in bytes) are checked by
// service/message-handlers.ts after the shape is right. Messages name the field, the rule and the
// value, in the "<field>: <rule>" form the UI shows next to the field.
import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN_SOURCE } from './schema-kit.ts';

const idOf = (field: string, what: string) => {
  const rule = `${field}: must be ${what} id (24 lowercase hex characters), got {value}`;
  return Type.String({ pattern: ID_PATTERN_SOURCE, errorMessage: rule, requiredMessage: rule });
};

const mustBe = (field: string, rule: string) => ({
  errorMessage: `${field}: must be ${rule}`,
  requiredMessage: `${field}: must be ${rule}`,
});

export const MessageSubscribeRequest = Type.Object({
  filter: Type.String(mustBe('filter', 'a string (an MQTT topic filter such as "#")')),
  deviceId: Type.Optional(idOf('deviceId', 'a device')),
});

const SUB_ID_RULE = 'id: must be a message subscription id (16 lowercase hex characters), got {value}';
export const MessageSubscriptionIdRequest = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{16}$', errorMessage: SUB_ID_RULE, requiredMessage: SUB_ID_RULE }),
});

export const PublishRequestSchema = Type.Object({
  topic: Type.String(mustBe('topic', 'a string')),
  payload: Type.String(mustBe('payload', 'a string (UTF-8 text)')),
  qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)], { errorMessage: 'qos: must be 0 or 1' })),
  retain: Type.Optional(Type.Boolean({ errorMessage: 'retain: must be true or false' })),
  simulationId: Type.Optional(idOf('simulationId', 'a simulation')),
});
export type PublishRequestBody = Static<typeof PublishRequestSchema>;
