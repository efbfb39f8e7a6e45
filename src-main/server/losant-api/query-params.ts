// Losant list filters arrive qs-encoded: losant-rest serialises its query with `qs.stringify`
// (lib/api/index.js: `req.paramsSerializer = … qs.stringify(params)`), which writes arrays of
// objects with indices: `tagFilter[0][key]=a&tagFilter[0][value]=b` (URL-encoded brackets).
// Fastify's default parser does not nest, so the list endpoints read the raw query with qs, with
// tight limits (depth, array size, parameter count) and without prototype keys.
import qs from 'qs';
import { TAG_KEY_PATTERN } from '../../core/validation.ts';
import { validation } from './context.ts';

/** At most this many tag filter items and this many parameters in one query string. */
export const MAX_FILTER_ITEMS = 100;
const MAX_PARAMETERS = 1000;

export type NestedQuery = Record<string, unknown>;

/** The query string of `url` (without `?`) as qs reads it: `a[0][b]=c` → {a: [{b: 'c'}]}. */
export function parseNestedQuery(url: URL): NestedQuery {
  return qs.parse(url.search.replace(/^\?/, ''), {
    depth: 2,
    arrayLimit: MAX_FILTER_ITEMS,
    parameterLimit: MAX_PARAMETERS,
    allowPrototypes: false,
    plainObjects: true,
    strictDepth: true,
    throwOnLimitExceeded: true,
  });
}

/** Reads the query, turning qs' limit errors into a 400 that says which limit. */
export function readNestedQuery(url: URL): NestedQuery {
  try {
    return parseNestedQuery(url);
  } catch (err) {
    throw validation(`query string: ${(err as Error).message}`);
  }
}

/** qs gives an array, or an object with numeric keys when indices are sparse or large. */
function asList(v: unknown, name: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    if (entries.every(([k]) => /^\d+$/.test(k))) {
      if (entries.length > MAX_FILTER_ITEMS) throw validation(`${name}: at most ${MAX_FILTER_ITEMS} items`);
      return entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, x]) => x);
    }
  }
  return [v];
}

/** `name=a`, `name[]=a` or `name[0]=a&name[1]=b` → ['a', 'b']; undefined when absent. */
export function stringListParam(q: NestedQuery, name: string): string[] | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  return asList(v, name).map((x, i) => {
    if (typeof x !== 'string') throw validation(`${name}[${i}]: must be a plain value (got a nested object)`);
    return x;
  });
}

export interface TagFilterItem {
  key?: string;
  value?: string;
}

/**
 * `tagFilter[0][key]=a&tagFilter[0][value]=b` → [{key: 'a', value: 'b'}] (Losant's devices.get
 * tagFilter: an array of {key?, value?}). An item needs a key or a value; nothing else is allowed.
 */
export function tagFilterParam(q: NestedQuery): TagFilterItem[] | undefined {
  const v = q.tagFilter;
  if (v === undefined) return undefined;
  return asList(v, 'tagFilter').map((item, i) => {
    const where = `tagFilter[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw validation(`${where}: must be {key, value} (send tagFilter[${i}][key]=…&tagFilter[${i}][value]=…)`);
    const out: TagFilterItem = {};
    for (const [k, x] of Object.entries(item)) {
      if (k !== 'key' && k !== 'value') throw validation(`${where}.${k}: unknown field (allowed: key, value)`);
      if (typeof x !== 'string') throw validation(`${where}.${k}: must be a string`);
      out[k] = x;
    }
    if (out.key === undefined && out.value === undefined) throw validation(`${where}: needs a key or a value`);
    if (out.key !== undefined && !TAG_KEY_PATTERN.test(out.key))
      throw validation(`${where}.key: ${JSON.stringify(out.key)} is not a valid tag key`);
    return out;
  });
}
