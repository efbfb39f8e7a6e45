// Refuses the property names that reach or replace an object's prototype (`__proto__`,
// `constructor`, `prototype`) anywhere in a parsed JSON value, before the value is used.
//
// JSON.parse('{"__proto__": {...}}') creates an OWN property named "__proto__" (it does not set
// the prototype), so a later spread, Object.assign or `copy[k] = v` either pollutes or silently
// drops it: `{"__proto__":{"status":"inactive"}}` used to vanish from a key query and the query
// matched every key. No Keyport field, tag key or query operator uses these names, so refusing
// them loses nothing. Own keys are read with Object.keys, so an inherited `constructor` never counts.
// Pure code.
import { childPath } from './json-path.ts';

export const PROTOTYPE_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

export function isPrototypeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/**
 * Whether JSON text can hold a key named __proto__, constructor or prototype: only when one of
 * those names is in it as written ("proto" is in two of them), or spelt with an escape (a
 * backslash: `"\u005f_proto__"`). Text with neither, nearly every state report, needs no walk of
 * its parsed value (findPrototypeKey): that walk's key lists were a tenth of what a state report
 * allocated (issue 17 item 1).
 */
export function textMayHoldPrototypeKey(text: string): boolean {
  return text.includes('proto') || text.includes('constructor') || text.includes('\\');
}

/** How deep the walk goes before it stops looking (input deeper than this is refused elsewhere). */
const MAX_DEPTH = 256;

/**
 * The path of the first own property named __proto__, constructor or prototype in `value`
 * (objects and arrays are walked; `root` names the value, e.g. "body" or "query", or is ""
 * for a whole document), or null.
 */
export function findPrototypeKey(value: unknown, root: string): string | null {
  // The walk below names every node's path as it goes; most values have no such key, and a
  // 100,000-record store document took ~0.7 s that way. Look first, name only what is found.
  if (!hasPrototypeKey(value, 0)) return null;
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, path, depth } = item;
    if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) continue;
    // Only objects and arrays are walked into (a string or number holds no keys): no path is
    // built for them, which was most of the cost on a state report's flat data (issue 17).
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child: unknown = v[i];
        if (typeof child === 'object' && child !== null)
          stack.push({ v: child, path: childPath(path, i), depth: depth + 1 });
      }
      continue;
    }
    const keys = Object.keys(v);
    for (const k of keys) if (isPrototypeKey(k)) return childPath(path, k);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i] as string;
      const child = (v as Record<string, unknown>)[k];
      if (typeof child === 'object' && child !== null)
        stack.push({ v: child, path: childPath(path, k), depth: depth + 1 });
    }
  }
  return null;
}

/** Whether an own prototype key is anywhere in `value` (the same walk, no paths built). */
function hasPrototypeKey(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const item of v) if (hasPrototypeKey(item, depth + 1)) return true;
    return false;
  }
  for (const k of Object.keys(v)) {
    if (isPrototypeKey(k) || hasPrototypeKey((v as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

/** Why a key is refused, without the path: `the property name "__proto__" is not allowed (…)`. */
export function prototypeKeyDetail(key: string): string {
  return `the property name ${JSON.stringify(key)} is not allowed (__proto__, constructor and prototype are refused in every input)`;
}

/** The error message for a refused key, e.g. `body.tags[0].__proto__: the property name …`. */
export function prototypeKeyMessage(path: string): string {
  // The three names are identifier-like, so childPath always writes them as `.name`.
  return `${path}: ${prototypeKeyDetail(path.slice(path.lastIndexOf('.') + 1))}`;
}

/** Throws an Error naming the path of the first prototype key in `value`; returns the value otherwise. */
export function rejectPrototypeKeys<T>(value: T, root: string): T {
  const path = findPrototypeKey(value, root);
  if (path !== null) throw new PrototypeKeyError(path);
  return value;
}

export class PrototypeKeyError extends Error {
  constructor(readonly path: string) {
    super(prototypeKeyMessage(path));
    this.name = 'PrototypeKeyError';
  }
}
