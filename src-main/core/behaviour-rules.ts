// Checking a simulated device's behaviour (docs/design.md §7): the shape is the schema
// (core/schemas/behaviour-schema.ts); what needs more than one field or a parser is checked here,
// for each part whose shape is right: a range's max ≥ min, a static object's JSON size, MQTT
// topic syntax.
// Every error names its field: `attributes.temp.max: must be ≥ min`.
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isPlainObject } from './plain-object.ts';
import { BEHAVIOUR_LIMITS, BehaviourSchema, CustomPublishSchema, GeneratorSchema } from './schemas/behaviour-schema.ts';
import type { SimBehaviour } from './schemas/behaviour-schema.ts';
import { schemaErrors } from './schemas/schema-errors.ts';
import { validateTopicFilter, validateTopicName } from './topics.ts';
import type { FieldError, Result } from './types.ts';

/** `v` when it passes `schema` (the parts of a behaviour whose shape is right), else undefined. */
const part = <T extends TSchema>(schema: T, v: unknown): Static<T> | undefined =>
  Value.Check(schema, v) ? v : undefined;

function crossFieldErrors(raw: unknown, at: (path: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  const err = (path: string, rule: string | null) => {
    if (rule !== null) errors.push({ field: at(path), message: `${at(path)}: ${rule}` });
  };
  const b = isPlainObject(raw) ? raw : {};
  const attributes = isPlainObject(b.attributes) ? b.attributes : {};
  for (const [name, value] of Object.entries(attributes)) {
    const g = part(GeneratorSchema, value);
    if (g && 'max' in g && g.max < g.min) err(`attributes.${name}.max`, 'must be ≥ min');
    const big = g?.kind === 'static' && isPlainObject(g.value);
    if (big && JSON.stringify(g.value).length > BEHAVIOUR_LIMITS.staticJsonBytes)
      err(`attributes.${name}.value`, `must be at most ${BEHAVIOUR_LIMITS.staticJsonBytes} bytes as JSON`);
  }
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  list(b.customPublish).forEach((value, i) => {
    const p = part(CustomPublishSchema, value);
    if (p) err(`customPublish[${i}].topic`, validateTopicName(p.topic));
  });
  list(b.customSubscribe).forEach((s, i) => {
    if (typeof s === 'string') err(`customSubscribe[${i}]`, validateTopicFilter(s));
  });
  return errors;
}

/**
 * A behaviour from outside (UI, CLI, API), typed, or every problem with it: the schema's, then the
 * cross-field rules for every part whose shape is right. `prefix` is where it sits in a request
 * (`behaviour` gives `behaviour.attributes.temp.max: must be ≥ min`).
 */
export function parseBehaviour(b: unknown, prefix = ''): Result<SimBehaviour> {
  const opts = { separator: ': ', requiredUsesRule: true, prefix, rootName: 'behaviour' } as const;
  const errors = [
    ...schemaErrors(BehaviourSchema, b, opts),
    ...crossFieldErrors(b, (path) => (prefix ? `${prefix}.${path}` : path)),
  ];
  return errors.length || !Value.Check(BehaviourSchema, b) ? { ok: false, errors } : { ok: true, value: b };
}
