// The shared formatter from TypeBox errors to {field, message} (core/schemas/schema-errors.ts,
// docs/design.md §2): the rules it states itself when a schema carries no template of its own.
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { schemaErrors } from '../../../src-main/core/schemas/schema-errors.ts';

const messages = (schema: Parameters<typeof schemaErrors>[0], value: unknown) =>
  schemaErrors(schema, value, { separator: ': ' }).map((e) => e.message);

describe('schemaErrors: bounds say which one was broken', () => {
  const n = Type.Object({
    low: Type.Number({ minimum: 1 }),
    high: Type.Number({ maximum: 90 }),
    above: Type.Number({ exclusiveMinimum: 0 }),
    below: Type.Number({ exclusiveMaximum: 10 }),
    whole: Type.Integer({ minimum: 0, maximum: 10 }),
  });
  const good = { low: 1, high: 90, above: 0.5, below: 9.5, whole: 10 };

  it('minimum, maximum, exclusive minimum and maximum, for numbers and whole numbers', () => {
    expect(messages(n, good)).toEqual([]);
    expect(messages(n, { ...good, low: 0.5, high: 91, above: 0, below: 10, whole: -1 })).toEqual([
      'low: must be ≥ 1',
      'high: must be ≤ 90',
      'above: must be > 0',
      'below: must be < 10',
      'whole: must be ≥ 0',
    ]);
    expect(messages(n, { ...good, whole: 11 })).toEqual(['whole: must be ≤ 10']);
  });

  it('a fraction is "not a whole number"; a string is a type error (its typeMessage when it has one)', () => {
    expect(messages(n, { ...good, whole: 2.5 })).toEqual(['whole: must be a whole number']);
    expect(messages(n, { ...good, whole: '2' })).toEqual(['whole: must be a whole number']);
    const typed = Type.Object({ k: Type.Integer({ typeMessage: '{path}: must be a number' }) });
    expect(messages(typed, { k: 'x' })).toEqual(['k: must be a number']);
    expect(messages(typed, { k: 0.5 })).toEqual(['k: must be a whole number']);
    // A schema's own errorMessage still wins over the default rule.
    const own = Type.Object({ c: Type.Integer({ minimum: 1, errorMessage: '{path}: must be a count (got {value})' }) });
    expect(messages(own, { c: 0 })).toEqual(['c: must be a count (got 0)']);
  });
});

describe('schemaErrors: discriminated unions', () => {
  const shape = Type.Union(
    [
      Type.Object({ kind: Type.Literal('circle'), r: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('square'), side: Type.Number() }, { additionalProperties: false }),
    ],
    {
      discriminator: 'kind',
      typeMessage: '{path}: must be a shape object',
      errorMessage: '{path}: must be circle or square (got {value})',
    },
  );
  const list = Type.Object({ shapes: Type.Array(shape) });

  it("reports the named variant's own rules at their paths, not one 'matches no variant' error", () => {
    expect(
      messages(list, {
        shapes: [
          { kind: 'circle', r: -1 },
          { kind: 'square', side: 'x', r: 1 },
        ],
      }),
    ).toEqual([
      'shapes[0].r: must be ≥ 0',
      'shapes[1].r: unknown field (allowed: kind, side)',
      'shapes[1].side: must be a number',
    ]);
  });

  it('an unknown or missing discriminator is reported at its own path; a non-object by the typeMessage', () => {
    expect(messages(list, { shapes: [{ kind: 'hexagon' }, {}, 7] })).toEqual([
      'shapes[0].kind: must be circle or square (got "hexagon")',
      'shapes[1].kind: must be circle or square (got nothing)',
      'shapes[2]: must be a shape object',
    ]);
  });
});

describe('schemaErrors: records', () => {
  const rec = Type.Record(Type.String({ pattern: '^[a-z]+$' }), Type.Number(), {
    additionalProperties: false,
    maxProperties: 3,
    keyMessage: '{path}: the name must be lowercase letters',
    errorMessage: '{path}: may hold at most 3 entries (got {length})',
  });
  const doc = Type.Object({ m: rec });

  it('every field name that breaks the key pattern is named (TypeBox itself stops at the first)', () => {
    expect(messages(doc, { m: { ok: 1, 'Bad 1': 2, 'a/b': 3 } })).toEqual([
      'm.Bad 1: the name must be lowercase letters',
      'm.a/b: the name must be lowercase letters',
    ]);
  });

  it('{length} of an object is its number of fields', () => {
    expect(messages(doc, { m: { a: 1, b: 2, c: 3, d: 4 } })).toEqual(['m: may hold at most 3 entries (got 4)']);
  });
});

describe('schemaErrors: unknown fields and the root', () => {
  it('"<path>: <rule>" style names the unknown field itself, at any depth', () => {
    const s = Type.Object(
      { inner: Type.Object({ a: Type.Number() }, { additionalProperties: false }) },
      { additionalProperties: false },
    );
    expect(messages(s, { inner: { a: 1, b: 2 }, c: 3 })).toEqual([
      'c: unknown field (allowed: inner)',
      'inner.b: unknown field (allowed: a)',
    ]);
  });

  it('rootName names the checked value itself when there is no prefix', () => {
    const s = Type.Object({}, { typeMessage: '{path}: must be an object' });
    expect(schemaErrors(s, 5, { separator: ': ', rootName: 'thing' })).toEqual([
      { field: 'thing', message: 'thing: must be an object' },
    ]);
    expect(schemaErrors(s, 5, { separator: ': ', prefix: 'req.thing', rootName: 'thing' })[0]?.message).toBe(
      'req.thing: must be an object',
    );
  });
});
