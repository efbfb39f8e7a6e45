// Small builders for Keyport's schemas: each carries its rule as an `errorMessage` template (see
// schema-errors.ts), so a schema states the rule once and the formatter reports it.
import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

export const TAG_KEY_PATTERN = /^[0-9a-zA-Z_-]{1,255}$/;
export const ID_PATTERN_SOURCE = '^[0-9a-f]{24}$';

/** A closed set of strings: "<path> must be one of a, b, c (got "x")". */
export function OneOf<T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { errorMessage: `{path} must be one of ${values.join(', ')} (got {value})` },
  );
}

/** A string of min-max characters. */
export function Text(min: number, max: number) {
  return Type.String({
    minLength: min,
    maxLength: max,
    typeMessage: '{path} must be a string',
    errorMessage: `{path} must be ${min}-${max} characters (got {length})`,
  });
}

/** A Losant tag key or attribute name: 1-255 letters, digits, "_" or "-". */
export function Name() {
  const rule = '{path} must be 1-255 letters, digits, "_" or "-" (got {value})';
  return Type.String({ pattern: TAG_KEY_PATTERN.source, errorMessage: rule, requiredMessage: rule });
}

/** A Keyport/Losant id: 24 lowercase hex characters. */
export function Id(what = 'a device id') {
  return Type.String({
    pattern: ID_PATTERN_SOURCE,
    errorMessage: `{path} must be ${what} (24 lowercase hex characters), got {value}`,
  });
}
