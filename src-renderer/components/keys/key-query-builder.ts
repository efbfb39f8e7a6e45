// Builds a Losant-style advanced key query (docs/design.md §10) from the simple filter bar's fields.
// Pure: the same object is shown in the JSON mode so users can learn the syntax.
//   {name: "x", status: "active"} -> {"$and":[{"name":{"$contains":"x","$ci":true}},{"status":"active"}]}
import type { KeyStatus } from '../../../src-main/core/types.ts';

export interface SimpleKeyFilter {
  /** Case-insensitive substring of the key's name. */
  name: string;
  status: 'any' | KeyStatus;
  /** A device id the key lists in deviceIds; '' = any. */
  deviceId: string;
  /** "key=value" (a key restricted to that tag pair), "key" (any value) or "=value" (any key). */
  tag: string;
}

export const EMPTY_FILTER: SimpleKeyFilter = { name: '', status: 'any', deviceId: '', tag: '' };

export type KeyQueryObject = Record<string, unknown>;

/** "type=thermostat" -> {key, value}; "type" -> {key, value: null}; "=2" -> {key: null, value}; "" -> null. */
export function parseTagFilter(text: string): { key: string | null; value: string | null } | null {
  const t = text.trim();
  if (!t) return null;
  const eq = t.indexOf('=');
  if (eq < 0) return { key: t, value: null };
  const key = t.slice(0, eq).trim();
  const value = t.slice(eq + 1).trim();
  if (key === '' && value === '') return null;
  return { key: key === '' ? null : key, value: value === '' ? null : value };
}

/** One condition per filled-in field; several are combined with $and. null when nothing is set. */
export function buildKeyQuery(f: SimpleKeyFilter): KeyQueryObject | null {
  const parts: KeyQueryObject[] = [];
  const name = f.name.trim();
  if (name) parts.push({ name: { $contains: name, $ci: true } });
  if (f.status !== 'any') parts.push({ status: f.status });
  if (f.deviceId) parts.push({ deviceIds: f.deviceId });
  const tag = parseTagFilter(f.tag);
  if (tag) {
    const cond =
      tag.key === null
        ? { $tagValue: tag.value }
        : tag.value === null
          ? { $tagKey: tag.key }
          : { [tag.key]: tag.value };
    parts.push({ deviceTags: cond });
  }
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] ?? null;
  return { $and: parts };
}

/** The query pretty-printed for the JSON editor ("{}" when empty). */
export function queryText(q: KeyQueryObject | null): string {
  return q === null ? '{}' : JSON.stringify(q, null, 2);
}
