// Dates in advanced queries (docs/design.md §10): strict ISO 8601 strings, epoch milliseconds or
// {"$date": ...}. Pure code.
import { QueryError, childPath, isJsonObject, show, type Json } from './query-input.ts';

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
