// One formatter from TypeBox's errors to Keyport's FieldError: the field path, the rule, the value
// (docs/design.md §2). A schema states its rule once, as an `errorMessage` template in its options:
// `{path}` is the field path (`tags[0].key`), `{value}` the offending value as JSON, `{length}` its
// length. `typeMessage` replaces it when the value has the wrong JSON type, `requiredMessage` when
// it is missing. Without a template, a plain default names the path and the expected type.
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { FieldError } from '../types.ts';

/** How the messages of one family of schemas read. */
export interface FormatOptions {
  /** Missing required field: its own rule (store: "must be a string") instead of "<path> is required". */
  requiredUsesRule?: boolean;
  /** Joins a path and a default rule: "tags[0] must be" (input) or "tags[0]: must be" (store). */
  separator?: ' ' | ': ';
  /** The path of the checked value itself, e.g. "tags" when checking a tag list on its own. */
  prefix?: string;
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
  const length = typeof value === 'string' || Array.isArray(value) ? String(value.length) : '?';
  return template
    .replaceAll('{path}', path)
    .replaceAll('{value}', value === undefined ? 'nothing' : JSON.stringify(value))
    .replaceAll('{length}', length);
}

const EXPECTED: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.String]: 'must be a string',
  [ValueErrorType.Number]: 'must be a number',
  [ValueErrorType.Integer]: 'must be an integer',
  [ValueErrorType.Boolean]: 'must be true or false',
  [ValueErrorType.Array]: 'must be an array',
  [ValueErrorType.Object]: 'must be an object',
};

function parentOf(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}

function one(e: ValueError, opts: FormatOptions): FieldError {
  const sep = opts.separator ?? ' ';
  const path = fieldPath(e.path, opts.prefix);
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    // The error's schema is the object: list what it allows. A top-level field keeps its own path.
    const obj = e.schema as TObject;
    const allowed = Object.keys(obj.properties).join(', ');
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
  const isTypeError = EXPECTED[e.type] !== undefined || e.type === ValueErrorType.ObjectRequiredProperty;
  const template = isTypeError && s.typeMessage !== undefined ? s.typeMessage : s.errorMessage;
  if (template !== undefined) return { field: path, message: fill(template, path, e.value) };
  const rule = EXPECTED[e.type] ?? `is not valid (${e.message})`;
  return { field: path, message: `${path}${sep}${rule}` };
}

/** Every problem of `value` against `schema`, one per field path (the first rule it broke). */
export function schemaErrors(schema: TSchema, value: unknown, opts: FormatOptions = {}): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of Value.Errors(schema, value)) {
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
