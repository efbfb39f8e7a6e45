// Generic machinery for Losant-style "advanced queries" (docs/design.md §10): parsing untrusted input,
// size limits, error paths, value operators and the logical operators. Queries are compiled once
// into closures, so evaluating one against thousands of records costs no re-parsing and no
// re-lowercasing of query values. The access-key specifics live in key-query.ts.
// Pure code: no fs/net.

/**
 * Limits on the shape of a query. The HTTP API and the raw JSON mode take queries from users, so a
 * query must not be able to blow the stack (depth) or make filtering arbitrarily slow (nodes).
 * A node is any JSON value: object, array, string, number, boolean or null.
 */
export const QUERY_LIMITS = { maxDepth: 32, maxNodes: 1000 } as const;

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}
export type Predicate<T> = (record: T) => boolean;

/** A problem in a query, located by a JSON-path-like string such as `query.$or[1].name`. */
export class QueryError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'QueryError';
  }
}

export const isJsonObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[$A-Za-z_][$\w-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export const show = (v: Json): string => JSON.stringify(v);

// ---------------------------------------------------------------------------------------------
// Input: an object or a JSON string, checked to be plain, bounded JSON.

/**
 * Parses `input` (a JSON object, or a string holding one), checks the limits and returns a plain
 * copy (so later changes to the caller's object cannot leak in). Object properties whose value is
 * undefined are dropped, as JSON.stringify would. Throws QueryError.
 */
export function readQueryInput(input: unknown, root: string): JsonObject {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new QueryError(root, `invalid JSON at position ${jsonErrorPosition(input)}`);
    }
  }
  const copy = copyTree(value, root, root, 1, { nodes: 0 });
  if (!isJsonObject(copy)) throw new QueryError(root, `must be a JSON object (got ${describe(copy)})`);
  return copy;
}

function describe(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string'
    ? `the string ${show(v)}`
    : typeof v === 'object'
      ? 'an object'
      : `${typeof v} ${show(v)}`;
}

function copyTree(v: unknown, path: string, root: string, depth: number, counter: { nodes: number }): Json {
  if (++counter.nodes > QUERY_LIMITS.maxNodes) {
    throw new QueryError(
      root,
      `too large: more than ${QUERY_LIMITS.maxNodes} JSON values (objects, arrays and scalars)`,
    );
  }
  if (depth > QUERY_LIMITS.maxDepth) {
    throw new QueryError(path, `nested deeper than ${QUERY_LIMITS.maxDepth} levels`);
  }
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new QueryError(path, `${v} is not a JSON number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((item, i) => copyTree(item, childPath(path, i), root, depth + 1, counter));
  if (typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const out: JsonObject = {};
      for (const [k, item] of Object.entries(v)) {
        if (item !== undefined) out[k] = copyTree(item, childPath(path, k), root, depth + 1, counter);
      }
      return out;
    }
  }
  throw new QueryError(path, `not a JSON value (${typeof v})`);
}

/** Offset of the first syntax error in `s` (JSON.parse does not always report one). */
export function jsonErrorPosition(s: string): number {
  let i = 0;
  const stack: string[] = [];
  let state: 'value' | 'key' | 'after' = 'value';
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const scanString = (): boolean => {
    i++; // opening quote
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
        else return false;
      } else i++;
    }
    return false;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (;;) {
    skipWs();
    const c = s[i];
    if (state === 'value') {
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        skipWs();
        if (s[i] === (c === '{' ? '}' : ']')) {
          i++;
          stack.pop();
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
      } else if (c === '"') {
        if (!scanString()) return i;
        state = 'after';
      } else if (s.startsWith('true', i) || s.startsWith('null', i)) {
        i += 4;
        state = 'after';
      } else if (s.startsWith('false', i)) {
        i += 5;
        state = 'after';
      } else {
        NUMBER.lastIndex = i;
        if (c === undefined || !NUMBER.test(s)) return i;
        i = NUMBER.lastIndex;
        state = 'after';
      }
    } else if (state === 'key') {
      if (c !== '"' || !scanString()) return i;
      skipWs();
      if (s[i] !== ':') return i;
      i++;
      state = 'value';
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return i < s.length ? i : 0;
      if (c === ',') {
        i++;
        state = top === '{' ? 'key' : 'value';
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        i++;
        stack.pop();
      } else return i;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Dates: ISO 8601 strings, epoch milliseconds, or {"$date": ...}.

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

/** Strict ISO 8601 parse (no rollover: 2024-02-30 is invalid). No offset means UTC. */
export function parseIsoDate(s: string): number | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) =>
    x === undefined ? undefined : Number(x),
  );
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (y === undefined || mo === undefined || d === undefined || h > 23 || mi > 59 || sec > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  const off = m[8];
  if (off === undefined || off === 'Z' || off === 'z') return t;
  const oh = Number(off.slice(1, 3));
  const om = Number(off.slice(-2));
  if (oh > 23 || om > 59) return undefined;
  return t - (off.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/** A date given in a query: ISO string, epoch ms, or {"$date": ISO | ms}. */
export function queryDate(v: Json, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = parseIsoDate(v);
    if (t !== undefined) return t;
  } else if (isJsonObject(v) && Object.keys(v).length === 1 && v['$date'] !== undefined) {
    const inner = v['$date'];
    if (typeof inner === 'number' || typeof inner === 'string') return queryDate(inner, childPath(path, '$date'));
  }
  throw new QueryError(
    path,
    `${show(v)} is not a date (use an ISO 8601 string, epoch milliseconds or {"$date": "..."})`,
  );
}

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
