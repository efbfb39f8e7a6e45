// Generic machinery for Losant-style "advanced queries" (docs/design.md §10): value operators, field
// compilers and the logical operators. Queries are compiled once into closures, so evaluating one
// against thousands of records costs no re-parsing and no re-lowercasing of query values. Reading
// the input lives in query-input.ts, dates in query-dates.ts, tag conditions in tag-query.ts; the
// record types' field tables in key-query.ts and device-query.ts. Pure code: no fs/net.
import { queryDate } from './query-dates.ts';
import {
  QueryError,
  childPath,
  describe,
  isJsonObject,
  readQueryInput,
  show,
  type Json,
  type JsonObject,
  type Predicate,
} from './query-input.ts';

export {
  QUERY_LIMITS,
  QueryError,
  childPath,
  isJsonObject,
  jsonErrorPosition,
  readQueryInput,
  show,
  type Json,
  type JsonObject,
  type Predicate,
} from './query-input.ts';
export { parseIsoDate, queryDate } from './query-dates.ts';

// ---------------------------------------------------------------------------------------------
// Value operators.

export const VALUE_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$lt',
  '$gte',
  '$lte',
  '$in',
  '$nin',
  '$startsWith',
  '$endsWith',
  '$contains',
  '$ci',
] as const;
const CI_OPERATORS = ['$eq', '$ne', '$in', '$nin', '$startsWith', '$endsWith', '$contains'];

/** What the compared values are: plain strings (optionally a closed set), or dates stored as ISO text. */
export type Domain = { kind: 'string'; allowed?: readonly string[]; allowNull?: boolean } | { kind: 'date' };

/**
 * A compiled condition on one field. `one` tests a single optional value (undefined = missing);
 * `many` tests an array field: positive operators hold when ANY element matches, `$ne`/`$nin` when
 * NO element equals (Mongo semantics), and null means "absent or empty".
 */
export interface ValueMatcher {
  one(value: string | undefined): boolean;
  many(values: readonly string[]): boolean;
}

const lower = (s: string): string => s.toLowerCase();

function anyOf(test: (v: string) => boolean): (vs: readonly string[]) => boolean {
  return (vs) => {
    for (const v of vs) if (test(v)) return true;
    return false;
  };
}

/** A matcher for a test on present values: missing/empty never matches. */
function present(test: (v: string) => boolean): ValueMatcher {
  return { one: (v) => v !== undefined && test(v), many: anyOf(test) };
}

const NOT = (m: ValueMatcher): ValueMatcher => ({ one: (v) => !m.one(v), many: (vs) => !m.many(vs) });
const IS_NULL: ValueMatcher = { one: (v) => v === undefined, many: (vs) => vs.length === 0 };

/** Compiles a field condition: a bare value (= $eq) or an operator object. Throws QueryError. */
export function compileValueMatcher(spec: Json, path: string, domain: Domain): ValueMatcher {
  if (Array.isArray(spec)) throw new QueryError(path, 'an array is not allowed here; use {"$in": [...]}');
  if (!isJsonObject(spec) || (domain.kind === 'date' && isDateObject(spec)))
    return eqMatcher(spec, path, domain, false);
  const ops = Object.keys(spec);
  if (ops.length === 0) throw new QueryError(path, 'empty operator object; use e.g. {"$eq": ...}');
  for (const op of ops) {
    if (!(VALUE_OPERATORS as readonly string[]).includes(op)) {
      throw new QueryError(path, `unknown operator ${show(op)} (allowed: ${VALUE_OPERATORS.join(', ')})`);
    }
  }
  let ci = false;
  if (spec['$ci'] !== undefined) {
    const p = childPath(path, '$ci');
    if (typeof spec['$ci'] !== 'boolean') throw new QueryError(p, 'must be true or false');
    if (!ops.some((op) => CI_OPERATORS.includes(op))) {
      throw new QueryError(p, `only allowed next to ${CI_OPERATORS.join('/')}`);
    }
    ci = spec['$ci'];
  }
  const matchers: ValueMatcher[] = [];
  for (const op of ops) {
    if (op === '$ci') continue;
    matchers.push(operatorMatcher(op, spec[op] as Json, childPath(path, op), domain, ci));
  }
  return allOf(matchers);
}

function isDateObject(o: JsonObject): boolean {
  return Object.keys(o).length === 1 && o['$date'] !== undefined;
}

function allOf(ms: readonly ValueMatcher[]): ValueMatcher {
  const [a, b] = ms;
  if (ms.length === 1 && a) return a;
  if (ms.length === 2 && a && b) return { one: (v) => a.one(v) && b.one(v), many: (vs) => a.many(vs) && b.many(vs) };
  return { one: (v) => ms.every((m) => m.one(v)), many: (vs) => ms.every((m) => m.many(vs)) };
}

function operatorMatcher(op: string, v: Json, path: string, domain: Domain, ci: boolean): ValueMatcher {
  switch (op) {
    case '$eq':
      return eqMatcher(v, path, domain, ci);
    case '$ne':
      return NOT(eqMatcher(v, path, domain, ci));
    case '$in':
      return inMatcher(v, path, domain, ci);
    case '$nin':
      return NOT(inMatcher(v, path, domain, ci));
    case '$gt':
    case '$lt':
    case '$gte':
    case '$lte':
      return rangeMatcher(op, v, path, domain);
    default:
      return textMatcher(op, v, path, ci);
  }
}

function checkNull(path: string, domain: Domain): void {
  if (domain.kind === 'string' && domain.allowNull === false) throw new QueryError(path, 'null is not allowed here');
}

/** A string a string-domain comparison may use; enum fields reject values outside their set. */
function queryString(v: Json, path: string, domain: Domain & { kind: 'string' }, ci: boolean): string {
  if (typeof v !== 'string')
    throw new QueryError(path, `must be a string${domain.allowNull === false ? '' : ' or null'} (got ${show(v)})`);
  const allowed = domain.allowed;
  if (allowed && !allowed.some((a) => (ci ? lower(a) === lower(v) : a === v))) {
    throw new QueryError(path, `${show(v)} is not a valid value (allowed: ${allowed.join(', ')})`);
  }
  return v;
}

function eqMatcher(v: Json, path: string, domain: Domain, ci: boolean): ValueMatcher {
  if (v === null) {
    checkNull(path, domain);
    return IS_NULL;
  }
  if (domain.kind === 'date') {
    const t = queryDate(v, path);
    return present((x) => Date.parse(x) === t);
  }
  const s = queryString(v, path, domain, ci);
  if (!ci) return present((x) => x === s);
  const ls = lower(s);
  return present((x) => lower(x) === ls);
}

function inMatcher(v: Json, path: string, domain: Domain, ci: boolean): ValueMatcher {
  if (!Array.isArray(v)) throw new QueryError(path, `must be an array (got ${describe(v)})`);
  let hasNull = false;
  let test: (x: string) => boolean;
  if (domain.kind === 'date') {
    const times = new Set<number>();
    v.forEach((item, i) => {
      if (item === null) hasNull = true;
      else times.add(queryDate(item, childPath(path, i)));
    });
    test = (x) => times.has(Date.parse(x));
  } else {
    const set = new Set<string>();
    v.forEach((item, i) => {
      const p = childPath(path, i);
      if (item === null) {
        checkNull(p, domain);
        hasNull = true;
      } else {
        const s = queryString(item, p, domain, ci);
        set.add(ci ? lower(s) : s);
      }
    });
    test = ci ? (x) => set.has(lower(x)) : (x) => set.has(x);
  }
  const some = anyOf(test);
  return {
    one: (x) => (x === undefined ? hasNull : test(x)),
    many: (xs) => (hasNull && xs.length === 0) || some(xs),
  };
}

function rangeMatcher(op: string, v: Json, path: string, domain: Domain): ValueMatcher {
  if (domain.kind === 'date') {
    const t = queryDate(v, path);
    const cmp =
      op === '$gt'
        ? (x: number) => x > t
        : op === '$lt'
          ? (x: number) => x < t
          : op === '$gte'
            ? (x: number) => x >= t
            : (x: number) => x <= t;
    return present((x) => cmp(Date.parse(x)));
  }
  if (typeof v !== 'string') throw new QueryError(path, `must be a string (got ${show(v)})`);
  switch (op) {
    case '$gt':
      return present((x) => x > v);
    case '$lt':
      return present((x) => x < v);
    case '$gte':
      return present((x) => x >= v);
    default:
      return present((x) => x <= v);
  }
}

function textMatcher(op: string, v: Json, path: string, ci: boolean): ValueMatcher {
  if (typeof v !== 'string' || v === '') throw new QueryError(path, `must be a non-empty string (got ${show(v)})`);
  const needle = ci ? lower(v) : v;
  const norm = ci ? lower : (x: string): string => x;
  switch (op) {
    case '$startsWith':
      return present((x) => norm(x).startsWith(needle));
    case '$endsWith':
      return present((x) => norm(x).endsWith(needle));
    default:
      return present((x) => norm(x).includes(needle));
  }
}

// ---------------------------------------------------------------------------------------------
// Fields and logical operators.

/** Compiles the condition given for one field into a predicate. Throws QueryError. */
export type FieldCompiler<T> = (spec: Json, path: string) => Predicate<T>;

export const LOGICAL_OPERATORS = ['$and', '$or', '$nor'] as const;

export function stringField<T>(
  get: (r: T) => string | undefined,
  domain: Domain = { kind: 'string' },
): FieldCompiler<T> {
  return (spec, path) => {
    const m = compileValueMatcher(spec, path, domain);
    return (r) => m.one(get(r));
  };
}

const NO_VALUES: readonly string[] = [];
export function stringArrayField<T>(get: (r: T) => readonly string[] | undefined): FieldCompiler<T> {
  return (spec, path) => {
    const m = compileValueMatcher(spec, path, { kind: 'string' });
    return (r) => m.many(get(r) ?? NO_VALUES);
  };
}

export function dateField<T>(get: (r: T) => string | undefined): FieldCompiler<T> {
  return stringField(get, { kind: 'date' });
}

export function allPredicates<T>(ps: readonly Predicate<T>[]): Predicate<T> {
  const [a, b] = ps;
  if (ps.length === 0) return () => true;
  if (ps.length === 1 && a) return a;
  if (ps.length === 2 && a && b) return (r) => a(r) && b(r);
  return (r) => {
    for (const p of ps) if (!p(r)) return false;
    return true;
  };
}

function anyPredicate<T>(ps: readonly Predicate<T>[]): Predicate<T> {
  return (r) => {
    for (const p of ps) if (p(r)) return true;
    return false;
  };
}

/** Compiles a query object: fields and $and/$or/$nor, all ANDed. Throws QueryError. */
export function compileQueryObject<T>(
  fields: Readonly<Record<string, FieldCompiler<T>>>,
  obj: JsonObject,
  path: string,
): Predicate<T> {
  const preds: Predicate<T>[] = [];
  for (const [key, spec] of Object.entries(obj)) {
    const p = childPath(path, key);
    if ((LOGICAL_OPERATORS as readonly string[]).includes(key)) {
      if (!Array.isArray(spec) || spec.length === 0)
        throw new QueryError(p, 'must be a non-empty array of query objects');
      const subs = spec.map((sub, i) => {
        if (!isJsonObject(sub)) throw new QueryError(childPath(p, i), `must be a query object (got ${describe(sub)})`);
        return compileQueryObject(fields, sub, childPath(p, i));
      });
      const any = anyPredicate(subs);
      preds.push(key === '$and' ? allPredicates(subs) : key === '$or' ? any : (r) => !any(r));
    } else if (key.startsWith('$')) {
      throw new QueryError(p, `unknown operator ${show(key)} (allowed here: ${LOGICAL_OPERATORS.join(', ')})`);
    } else {
      const compile = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (!compile) throw new QueryError(p, `unknown field ${show(key)} (allowed: ${Object.keys(fields).join(', ')})`);
      preds.push(compile(spec, p));
    }
  }
  return allPredicates(preds);
}

export type CompileResult<T> = { ok: true; source: JsonObject; test: Predicate<T> } | { ok: false; error: string };

/** Reads, checks and compiles a query. Never throws on bad input: returns the first error found. */
export function compileQuery<T>(
  fields: Readonly<Record<string, FieldCompiler<T>>>,
  input: unknown,
  root = 'query',
): CompileResult<T> {
  try {
    const source = readQueryInput(input, root);
    return { ok: true, source, test: compileQueryObject(fields, source, root) };
  } catch (e) {
    if (e instanceof QueryError) return { ok: false, error: e.message };
    throw e;
  }
}
