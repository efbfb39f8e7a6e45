// A simulated device's behaviour (docs/design.md §7): its attribute generators, report interval,
// command reactions, custom topics and peripherals, as one schema. `SimBehaviour`, `Generator` and
// `CommandReaction` are Static<> of it. Messages read "<path>: <rule>"; bounds say which one was
// broken (`must be ≥ 1`, `must be ≤ 90`, `must be > 0`, `must be a whole number`) through the
// shared formatter. Rules that need more than one field or a parser (max ≥ min, a static object's
// JSON size, MQTT topic syntax) are behaviour-rules.ts, run once the shape is right.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN_SOURCE, TAG_KEY_PATTERN } from './schema-kit.ts';

export const BEHAVIOUR_LIMITS = {
  attributes: 50,
  everySeconds: { min: 0.1, max: 86_400 },
  reactions: 20,
  customTopics: 20,
  peripherals: 100,
  stringLength: 1024,
  staticJsonBytes: 4096,
  decimals: 10,
  radiusMeters: 1_000_000,
  periodSeconds: 7 * 86_400,
} as const;

/** A state attribute's name (Losant: letters, digits, "_" and "-"; https://docs.losant.com/devices/attributes/). */
export const ATTRIBUTE_NAME = TAG_KEY_PATTERN;

const L = BEHAVIOUR_LIMITS;
const NUMBER = '{path}: must be a number';

/** A finite number; a broken bound reads "must be ≥ min" etc. (the formatter's bound rules). */
const Num = (bounds: { minimum?: number; maximum?: number; exclusiveMinimum?: number } = {}) =>
  Type.Number({ ...bounds, typeMessage: NUMBER });
/** A whole number: a string reads "must be a number", 0.5 "must be a whole number". */
const Whole = (bounds: { minimum?: number; maximum?: number } = {}) => Type.Integer({ ...bounds, typeMessage: NUMBER });

const generator = <K extends string, P extends Record<string, TSchema>>(kind: K, props: P) =>
  Type.Object({ kind: Type.Literal(kind), ...props }, { additionalProperties: false });

/** A static value: a number, a short string, a boolean or an object (its JSON size: behaviour-rules.ts). */
const StaticValue = Type.Union(
  [
    Type.Number(),
    Type.String({ maxLength: L.stringLength }),
    Type.Boolean(),
    Type.Record(Type.String(), Type.Unknown()),
  ],
  {
    errorMessage: `{path}: must be a number, a string of at most ${L.stringLength} characters, a boolean or an object`,
  },
);

export const GENERATOR_SCHEMAS = [
  generator('static', { value: StaticValue }),
  generator('int', { min: Whole(), max: Whole() }),
  generator('float', { min: Num(), max: Num(), decimals: Type.Optional(Whole({ minimum: 0, maximum: L.decimals })) }),
  generator('string', { length: Whole({ minimum: 1, maximum: L.stringLength }) }),
  generator('boolean', {}),
  generator('gps', {
    lat: Num({ minimum: -90, maximum: 90 }),
    lng: Num({ minimum: -180, maximum: 180 }),
    radiusMeters: Num({ minimum: 0, maximum: L.radiusMeters }),
  }),
  generator('sine', { min: Num(), max: Num(), periodSeconds: Num({ exclusiveMinimum: 0, maximum: L.periodSeconds }) }),
  generator('ramp', { min: Num(), max: Num(), step: Num({ exclusiveMinimum: 0 }) }),
] as const;

export const GENERATOR_KINDS = GENERATOR_SCHEMAS.map((s) => s.properties.kind.const);

/** One attribute's generator, told apart by `kind` (the formatter reports the matching kind's rules). */
export const GeneratorSchema = Type.Union([...GENERATOR_SCHEMAS], {
  discriminator: 'kind',
  typeMessage: '{path}: must be a generator object {kind, ...}',
  errorMessage: `{path}: must be one of ${GENERATOR_KINDS.join(', ')} (got {value})`,
});
export type Generator = Static<typeof GeneratorSchema>;

const NAME_RULE = '{path}: the name must be 1-255 letters, digits, "_" or "-"';

export const CommandReactionSchema = Type.Object(
  {
    /** Command name that triggers it. */
    command: Type.String({
      minLength: 1,
      maxLength: 255,
      errorMessage: '{path}: must be a command name of 1-255 characters',
    }),
    /** Attribute -> payload field to copy (e.g. {"setpoint": "value"} copies payload.value). */
    set: Type.Record(
      Type.String({ pattern: ATTRIBUTE_NAME.source }),
      Type.String({
        maxLength: 255,
        errorMessage: '{path}: must name a payload field (a string; "" takes the whole payload)',
      }),
      {
        additionalProperties: false,
        minProperties: 1,
        keyMessage: NAME_RULE,
        errorMessage: '{path}: must map at least one attribute to a payload field, e.g. {"setpoint": "value"}',
      },
    ),
  },
  { additionalProperties: false, typeMessage: '{path}: must be an object {command, set}' },
);
export type CommandReaction = Static<typeof CommandReactionSchema>;

const Qos = Type.Union([Type.Literal(0), Type.Literal(1)], { errorMessage: '{path}: must be 0 or 1' });
const TopicString = (rule: string) => Type.String({ errorMessage: rule });
const StringList = <T extends TSchema>(item: T, max: number) =>
  Type.Array(item, {
    maxItems: max,
    typeMessage: '{path}: must be an array',
    errorMessage: `{path}: may hold at most ${max} entries (got {length})`,
  });

/** A topic published on each report (its syntax: behaviour-rules.ts). */
export const CustomPublishSchema = Type.Object(
  { topic: TopicString('{path}: must be a topic name'), qos: Type.Optional(Qos) },
  { additionalProperties: false, typeMessage: '{path}: must be an object {topic, qos?}' },
);

export const BehaviourSchema = Type.Object(
  {
    attributes: Type.Record(Type.String({ pattern: ATTRIBUTE_NAME.source }), GeneratorSchema, {
      additionalProperties: false,
      maxProperties: L.attributes,
      keyMessage: NAME_RULE,
      typeMessage: '{path}: must be an object of attribute name -> generator',
      errorMessage: `{path}: may hold at most ${L.attributes} attributes (got {length})`,
    }),
    /** Report every N seconds; null = only on demand ("send one report"). */
    everySeconds: Type.Union([Type.Number({ minimum: L.everySeconds.min, maximum: L.everySeconds.max }), Type.Null()], {
      errorMessage: `{path}: must be a number from ${L.everySeconds.min} to ${L.everySeconds.max}, or null (on demand only)`,
    }),
    reactions: Type.Optional(
      Type.Array(CommandReactionSchema, {
        maxItems: L.reactions,
        typeMessage: '{path}: must be an array of {command, set}',
        errorMessage: `{path}: may hold at most ${L.reactions} reactions (got {length})`,
      }),
    ),
    /** Custom topics to publish on each report (their syntax: behaviour-rules.ts). */
    customPublish: Type.Optional(
      Type.Array(CustomPublishSchema, {
        maxItems: L.customTopics,
        typeMessage: '{path}: must be an array of {topic, qos?}',
        errorMessage: `{path}: may hold at most ${L.customTopics} topics (got {length})`,
      }),
    ),
    /** Topic filters to subscribe to once connected, to exercise topic rules. */
    customSubscribe: Type.Optional(StringList(TopicString('{path}: must be a string'), L.customTopics)),
    /** Gateways: peripherals it reports state for (losant/{peripheralId}/state). */
    peripherals: Type.Optional(
      StringList(
        Type.String({
          pattern: ID_PATTERN_SOURCE,
          errorMessage: '{path}: must be a device id (24 lowercase hex characters)',
        }),
        L.peripherals,
      ),
    ),
    qos: Type.Optional(Qos),
  },
  { additionalProperties: false, typeMessage: '{path}: must be an object {attributes, everySeconds, ...}' },
);
export type SimBehaviour = Static<typeof BehaviourSchema>;
