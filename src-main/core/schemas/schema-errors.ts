// One formatter from TypeBox's errors to Keyport's FieldError: the field path, the rule, the value
// (docs/design.md §2). A schema states its rule once, as an `errorMessage` template in its options:
// `{path}` is the field path (`tags[0].key`), `{value}` the offending value as JSON, `{length}` its
// length (an object's: its number of fields). `typeMessage` replaces it when the value has the wrong
// JSON type, `requiredMessage` when it is missing, `keyMessage` (on a record) when a field's name
// breaks the record's key pattern. Without a template, a default names the path and the rule: the
// expected type, or the bound that was broken (`must be ≥ 1`, `must be ≤ 90`, `must be > 0`,
// `must be a whole number`). A union of objects told apart by one field carries
// `discriminator: '<field>'`: its errors are those of the variant the value names, or the union's
// `errorMessage` at `<path>.<field>` when it names none.
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value, ValuePointer } from '@sinclair/typebox/value';
import type { Static, TObject, TSchema, TUnion } from '@sinclair/typebox';
import type { FieldError } from '../types.ts';
import { isPlainObject } from '../plain-object.ts';

/** How the messages of one family of schemas read. */
export interface FormatOptions {
  /** Missing required field: its own rule (store: "must be a string") instead of "<path> is required". */
  requiredUsesRule?: boolean;
  /** Joins a path and a default rule: "tags[0] must be" (input) or "tags[0]: must be" (store). */
  separator?: ' ' | ': ';
  /** The path of the checked value itself, e.g. "tags" when checking a tag list on its own. */
  prefix?: string;
  /** What to call the checked value itself when it is wrong and there is no prefix ("behaviour"). */
  rootName?: string;
}

/** `/tags/0/key` → `tags[0].key` (JSON pointer escapes ~1 and ~0 undone). */
export function fieldPath(pointer: string, prefix = ''): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function fill(template: string, path: string, value: unknown): string {
  const length =
    typeof value === 'string' || Array.isArray(value)
      ? String(value.length)
      : isPlainObject(value)
        ? String(Object.keys(value).length)
        : '?';
  return template
    .replaceAll('{path}', path)
    .replaceAll('{value}', value === undefined ? 'nothing' : JSON.stringify(value))
    .replaceAll('{length}', length);
}

const EXPECTED: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.String]: 'must be a string',
  [ValueErrorType.Number]: 'must be a number',
  [ValueErrorType.Integer]: 'must be a whole number',
  [ValueErrorType.Boolean]: 'must be true or false',
  [ValueErrorType.Array]: 'must be an array',
  [ValueErrorType.Object]: 'must be an object',
};

/** The rule a number broke, read from its schema's bound; undefined for anything else. */
function boundRule(e: ValueError): string | undefined {
  const s = e.schema as { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };
  switch (e.type) {
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be ≥ ${s.minimum}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be ≤ ${s.maximum}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be > ${s.exclusiveMinimum}`;
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return `must be < ${s.exclusiveMaximum}`;
    default:
      return undefined;
  }
}

/** A number that is not whole broke a rule, not its type: "must be a whole number", not "must be a number". */
const isFractional = (e: ValueError): boolean =>
  e.type === ValueErrorType.Integer && typeof e.value === 'number' && Number.isFinite(e.value);

function parentOf(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}

const escapeKey = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * TypeBox's errors, made whole: a discriminated union's error becomes the errors of the variant the
 * value names (module comment), and a record's bad field name, where TypeBox stops at the first,
 * becomes one error for each bad name.
 */
function* expand(e: ValueError, root: unknown): Generator<ValueError> {
  const record = e.schema as { keyMessage?: string; patternProperties?: Record<string, unknown> };
  if (e.type === ValueErrorType.ObjectAdditionalProperties && record.keyMessage && record.patternProperties) {
    const at = parentOf(e.path);
    const parent: unknown = ValuePointer.Get(root, at);
    const pattern = new RegExp(Object.keys(record.patternProperties)[0] ?? '');
    if (!isPlainObject(parent)) return yield e;
    for (const [key, value] of Object.entries(parent))
      if (!pattern.test(key)) yield { ...e, path: `${at}/${escapeKey(key)}`, value };
    return;
  }
  const field = (e.schema as { discriminator?: string }).discriminator;
  if (e.type !== ValueErrorType.Union || field === undefined) return yield e;
  if (!isPlainObject(e.value)) return yield { ...e, type: ValueErrorType.Object };
  const named = e.value[field];
  const variants = (e.schema as TUnion<TObject[]>).anyOf;
  const i = variants.findIndex((v) => (v.properties[field] as { const?: unknown } | undefined)?.const === named);
  if (i < 0) return yield { ...e, path: `${e.path}/${field}`, value: named };
  for (const inner of e.errors[i] ?? []) yield* expand(inner, root);
}

function one(e: ValueError, opts: FormatOptions): FieldError {
  const sep = opts.separator ?? ' ';
  const path = fieldPath(e.path, opts.prefix) || (opts.rootName ?? '');
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    const obj = e.schema as TObject & { keyMessage?: string };
    // A record's field whose name breaks the key pattern: the record's key rule.
    if (obj.keyMessage !== undefined) return { field: path, message: fill(obj.keyMessage, path, e.value) };
    // Otherwise the error's schema is the object: list what it allows.
    const allowed = Object.keys(obj.properties).join(', ');
    // "<path>: <rule>" style names the unknown field itself, at any depth.
    if (sep === ': ') return { field: path, message: `${path}: unknown field (allowed: ${allowed})` };
    // A top-level field keeps its own path.
    const key = e.path.slice(e.path.lastIndexOf('/') + 1);
    const parent = fieldPath(parentOf(e.path), opts.prefix);
    if (parent === '') return { field: path, message: `unknown field "${key}" (allowed: ${allowed})` };
    return { field: parent, message: `${parent} has unknown field(s) ${key} (allowed: ${allowed})` };
  }
  const s = e.schema as { errorMessage?: string; typeMessage?: string; requiredMessage?: string };
  if (e.type === ValueErrorType.ObjectRequiredProperty) {
    if (s.requiredMessage !== undefined) return { field: path, message: fill(s.requiredMessage, path, undefined) };
    if (!opts.requiredUsesRule) return { field: path, message: `${path} is required` };
  }
  const isTypeError =
    (EXPECTED[e.type] !== undefined && !isFractional(e)) || e.type === ValueErrorType.ObjectRequiredProperty;
  const template = isTypeError && s.typeMessage !== undefined ? s.typeMessage : s.errorMessage;
  if (template !== undefined) return { field: path, message: fill(template, path, e.value) };
  const rule = boundRule(e) ?? EXPECTED[e.type] ?? `is not valid (${e.message})`;
  return { field: path, message: `${path}${sep}${rule}` };
}

/** Every problem of `value` against `schema`, one per field path (the first rule it broke). */
export function schemaErrors(schema: TSchema, value: unknown, opts: FormatOptions = {}): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of [...Value.Errors(schema, value)].flatMap((raw) => [...expand(raw, value)])) {
    const f = one(e, opts);
    // A missing field fails "required" and then its type: keep the first. Each unknown field counts.
    const key = e.type === ValueErrorType.ObjectAdditionalProperties ? e.path : f.field;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/** `value` typed by `schema`, or every problem of it (schemaErrors' messages). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseWith<T extends TSchema>(schema: T, value: unknown, opts: FormatOptions = {}): Parsed<Static<T>> {
  if (Value.Check(schema, value)) return { ok: true, value };
  return { ok: false, errors: schemaErrors(schema, value, opts) };
}
