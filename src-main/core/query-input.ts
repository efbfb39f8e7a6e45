// Reading an advanced query (docs/design.md §10) from untrusted input: JSON text or an object, checked to be
// plain, bounded JSON with no prototype keys, and the QueryError that names the bad part by path.
// Shared by every query (keys, devices). Pure code: no fs/net.
import { childPath } from './json-path.ts';
import { isPrototypeKey, prototypeKeyDetail } from './prototype-keys.ts';

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

export { childPath };

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

export function describe(v: Json): string {
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
        // Object.entries lists the OWN "__proto__" that JSON.parse creates; `out[k] = …` would then
        // set out's prototype instead and the condition would silently vanish (issue 12).
        if (isPrototypeKey(k)) throw new QueryError(childPath(path, k), prototypeKeyDetail(k));
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
