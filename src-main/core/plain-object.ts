// The one "is this a JSON object (not null, not an array)?" check, for every place that reads
// untyped input (requests, bodies, payloads, files) before a schema or a field-by-field check.
export type PlainObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is PlainObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
