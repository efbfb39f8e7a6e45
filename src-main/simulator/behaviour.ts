// Validation of a simulated device's behaviour (attributes, report interval, reactions, custom
// topics, peripherals). Every error names its field: `attributes.temp.max: must be ≥ min`.
import { isId } from '../core/ids.ts';
import { validateTopicFilter, validateTopicName } from '../core/topics.ts';
import type { FieldError } from '../core/types.ts';
import { isPlainObject } from '../core/plain-object.ts';

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

export const ATTRIBUTE_NAME = /^[0-9a-zA-Z_-]{1,255}$/;
const BEHAVIOUR_FIELDS = [
  'attributes',
  'everySeconds',
  'reactions',
  'customPublish',
  'customSubscribe',
  'peripherals',
  'qos',
];

type Obj = Record<string, unknown>;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function err(errors: FieldError[], field: string, rule: string): void {
  errors.push({ field, message: `${field}: ${rule}` });
}

function num(
  errors: FieldError[],
  g: Obj,
  base: string,
  name: string,
  opts: { int?: boolean; min?: number; max?: number; above?: number } = {},
): number | undefined {
  const v = g[name];
  const field = `${base}.${name}`;
  if (!isNum(v)) return (err(errors, field, 'must be a number'), undefined);
  if (opts.int && !Number.isInteger(v)) return (err(errors, field, 'must be a whole number'), undefined);
  if (opts.min !== undefined && v < opts.min) return (err(errors, field, `must be ≥ ${opts.min}`), undefined);
  if (opts.max !== undefined && v > opts.max) return (err(errors, field, `must be ≤ ${opts.max}`), undefined);
  if (opts.above !== undefined && v <= opts.above) return (err(errors, field, `must be > ${opts.above}`), undefined);
  return v;
}

function range(errors: FieldError[], g: Obj, base: string, int = false): void {
  const min = num(errors, g, base, 'min', { int });
  const max = num(errors, g, base, 'max', { int });
  if (min !== undefined && max !== undefined && max < min) err(errors, `${base}.max`, 'must be ≥ min');
}

const GENERATOR_FIELDS: Record<string, string[]> = {
  static: ['value'],
  int: ['min', 'max'],
  float: ['min', 'max', 'decimals'],
  string: ['length'],
  boolean: [],
  gps: ['lat', 'lng', 'radiusMeters'],
  sine: ['min', 'max', 'periodSeconds'],
  ramp: ['min', 'max', 'step'],
};

export function validateGenerator(g: unknown, base: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(g)) return (err(errors, base, 'must be a generator object {kind, ...}'), errors);
  const kind = g.kind;
  const fields = typeof kind === 'string' ? GENERATOR_FIELDS[kind] : undefined;
  if (!fields)
    return (
      err(
        errors,
        `${base}.kind`,
        `must be one of ${Object.keys(GENERATOR_FIELDS).join(', ')} (got ${JSON.stringify(kind)})`,
      ),
      errors
    );
  for (const k of Object.keys(g))
    if (k !== 'kind' && !fields.includes(k)) err(errors, `${base}.${k}`, `unknown field for a ${kind} generator`);
  const L = BEHAVIOUR_LIMITS;
  switch (kind) {
    case 'static': {
      const v = g.value;
      const okType =
        isNum(v) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= L.stringLength) || isPlainObject(v);
      if (!okType)
        err(
          errors,
          `${base}.value`,
          `must be a number, a string of at most ${L.stringLength} characters, a boolean or an object`,
        );
      else if (isPlainObject(v) && JSON.stringify(v).length > L.staticJsonBytes)
        err(errors, `${base}.value`, `must be at most ${L.staticJsonBytes} bytes as JSON`);
      break;
    }
    case 'int':
      range(errors, g, base, true);
      break;
    case 'float':
      range(errors, g, base);
      if (g.decimals !== undefined) num(errors, g, base, 'decimals', { int: true, min: 0, max: L.decimals });
      break;
    case 'string':
      num(errors, g, base, 'length', { int: true, min: 1, max: L.stringLength });
      break;
    case 'gps':
      num(errors, g, base, 'lat', { min: -90, max: 90 });
      num(errors, g, base, 'lng', { min: -180, max: 180 });
      num(errors, g, base, 'radiusMeters', { min: 0, max: L.radiusMeters });
      break;
    case 'sine':
      range(errors, g, base);
      num(errors, g, base, 'periodSeconds', { above: 0, max: L.periodSeconds });
      break;
    case 'ramp':
      range(errors, g, base);
      num(errors, g, base, 'step', { above: 0 });
      break;
  }
  return errors;
}

function stringList(
  errors: FieldError[],
  v: unknown,
  field: string,
  max: number,
  check: (s: string, f: string) => void,
): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) return err(errors, field, 'must be an array');
  if (v.length > max) err(errors, field, `may hold at most ${max} entries (got ${v.length})`);
  v.forEach((s, i) => {
    if (typeof s !== 'string') err(errors, `${field}[${i}]`, 'must be a string');
    else check(s, `${field}[${i}]`);
  });
}

export function validateBehaviourFields(b: unknown): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(b)) return (err(errors, 'behaviour', 'must be an object {attributes, everySeconds, ...}'), errors);
  for (const k of Object.keys(b))
    if (!BEHAVIOUR_FIELDS.includes(k)) err(errors, k, `unknown field (allowed: ${BEHAVIOUR_FIELDS.join(', ')})`);
  const attrs = b.attributes;
  if (!isPlainObject(attrs)) err(errors, 'attributes', 'must be an object of attribute name -> generator');
  else {
    const names = Object.keys(attrs);
    if (names.length > BEHAVIOUR_LIMITS.attributes)
      err(errors, 'attributes', `may hold at most ${BEHAVIOUR_LIMITS.attributes} attributes (got ${names.length})`);
    for (const name of names) {
      if (!ATTRIBUTE_NAME.test(name))
        err(errors, `attributes.${name}`, 'the name must be 1-255 letters, digits, "_" or "-"');
      else errors.push(...validateGenerator(attrs[name], `attributes.${name}`));
    }
  }
  const every = b.everySeconds;
  const { min, max } = BEHAVIOUR_LIMITS.everySeconds;
  if (every !== null && (!isNum(every) || every < min || every > max))
    err(errors, 'everySeconds', `must be a number from ${min} to ${max}, or null (on demand only)`);
  if (b.qos !== undefined && b.qos !== 0 && b.qos !== 1) err(errors, 'qos', 'must be 0 or 1');
  validateReactions(errors, b.reactions);
  if (b.customPublish !== undefined) {
    if (!Array.isArray(b.customPublish)) err(errors, 'customPublish', 'must be an array of {topic, qos?}');
    else {
      if (b.customPublish.length > BEHAVIOUR_LIMITS.customTopics)
        err(errors, 'customPublish', `may hold at most ${BEHAVIOUR_LIMITS.customTopics} topics`);
      b.customPublish.forEach((p, i) => {
        const f = `customPublish[${i}]`;
        if (!isPlainObject(p) || typeof p.topic !== 'string') return err(errors, `${f}.topic`, 'must be a topic name');
        const why = validateTopicName(p.topic);
        if (why) err(errors, `${f}.topic`, why);
        if (p.qos !== undefined && p.qos !== 0 && p.qos !== 1) err(errors, `${f}.qos`, 'must be 0 or 1');
        for (const k of Object.keys(p)) if (k !== 'topic' && k !== 'qos') err(errors, `${f}.${k}`, 'unknown field');
      });
    }
  }
  stringList(errors, b.customSubscribe, 'customSubscribe', BEHAVIOUR_LIMITS.customTopics, (s, f) => {
    const why = validateTopicFilter(s);
    if (why) err(errors, f, why);
  });
  stringList(errors, b.peripherals, 'peripherals', BEHAVIOUR_LIMITS.peripherals, (s, f) => {
    if (!isId(s)) err(errors, f, 'must be a device id (24 lowercase hex characters)');
  });
  return errors;
}

function validateReactions(errors: FieldError[], v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) return err(errors, 'reactions', 'must be an array of {command, set}');
  if (v.length > BEHAVIOUR_LIMITS.reactions)
    err(errors, 'reactions', `may hold at most ${BEHAVIOUR_LIMITS.reactions} reactions`);
  v.forEach((r, i) => {
    const f = `reactions[${i}]`;
    if (!isPlainObject(r)) return err(errors, f, 'must be an object {command, set}');
    if (typeof r.command !== 'string' || r.command.length < 1 || r.command.length > 255)
      err(errors, `${f}.command`, 'must be a command name of 1-255 characters');
    if (!isPlainObject(r.set) || Object.keys(r.set).length === 0)
      return err(errors, `${f}.set`, 'must map at least one attribute to a payload field, e.g. {"setpoint": "value"}');
    for (const [attr, field] of Object.entries(r.set)) {
      if (!ATTRIBUTE_NAME.test(attr))
        err(errors, `${f}.set.${attr}`, 'the attribute name must be 1-255 letters, digits, "_" or "-"');
      if (typeof field !== 'string' || field.length > 255)
        err(errors, `${f}.set.${attr}`, 'must name a payload field (a string; "" takes the whole payload)');
    }
    for (const k of Object.keys(r)) if (k !== 'command' && k !== 'set') err(errors, `${f}.${k}`, 'unknown field');
  });
}
