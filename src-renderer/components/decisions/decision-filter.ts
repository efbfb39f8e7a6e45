// Pure filtering of the decision feed (docs/design.md §8) for the Decisions view: the structured filters
// (action, result, reason, device) plus a free-text search over an event's fields. No state and
// no imports of live data: names are resolved through the `Names` the caller passes in.
import type { DecisionFilter } from '../../../src-main/contract.ts';
import type { DecisionAction, DecisionEvent } from '../../../src-main/core/decision-event.ts';

export interface DecisionQuery {
  action: DecisionAction | '';
  result: DecisionEvent['result'] | '';
  reason: string;
  deviceId: string;
  /** Free text; every whitespace-separated term must occur somewhere in the event (case-insensitive). */
  text: string;
}

export const EMPTY_QUERY: DecisionQuery = { action: '', result: '', reason: '', deviceId: '', text: '' };

/** How ids are shown to people, so a search for a device or key name finds its events. */
export interface Names {
  device(id: string | undefined): string;
  key(id: string | undefined): string;
}

const NO_NAMES: Names = { device: () => '', key: () => '' };

export function searchTerms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

/** Everything a free-text search looks at, lower-cased and joined. */
export function searchableText(e: DecisionEvent, names: Names = NO_NAMES): string {
  return [
    e.action,
    e.result,
    e.reason,
    e.rule,
    e.transport,
    e.deviceId,
    names.device(e.deviceId),
    e.keyId,
    names.key(e.keyId),
    e.sourceAddress,
    e.forwardedFor,
    e.topic,
  ]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join('\n')
    .toLowerCase();
}

export function isEmptyQuery(q: DecisionQuery): boolean {
  return !q.action && !q.result && !q.reason && !q.deviceId && searchTerms(q.text).length === 0;
}

/** A predicate for one query; build it once per query, then run it over many events. */
export function decisionPredicate(q: DecisionQuery, names: Names = NO_NAMES): (e: DecisionEvent) => boolean {
  const terms = searchTerms(q.text);
  return (e) => {
    if (q.action && e.action !== q.action) return false;
    if (q.result && e.result !== q.result) return false;
    if (q.reason && e.reason !== q.reason) return false;
    if (q.deviceId && e.deviceId !== q.deviceId) return false;
    if (terms.length === 0) return true;
    const hay = searchableText(e, names);
    return terms.every((t) => hay.includes(t));
  };
}

/** The part of a query the backend understands (decisions.list / decisions.export). */
export function toServerFilter(q: DecisionQuery): DecisionFilter {
  const f: DecisionFilter = {};
  if (q.action) f.action = q.action;
  if (q.result) f.result = q.result;
  if (q.reason) f.reason = q.reason;
  if (q.deviceId) f.deviceId = q.deviceId;
  return f;
}

/** Reason codes that occur in `events`, sorted, for the reason select. */
export function reasonsPresent(events: readonly DecisionEvent[]): string[] {
  return [...new Set(events.map((e) => e.reason))].sort();
}

/** Device ids that occur in `events` (including ones that are not, or no longer, devices). */
export function deviceIdsPresent(events: readonly DecisionEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) if (e.deviceId) ids.add(e.deviceId);
  return [...ids];
}

/**
 * Applies the free-text part of a query to exported JSON lines (the backend filters the rest).
 * Lines that do not parse are kept, so an export never silently loses data.
 */
export function filterJsonLines(
  jsonl: string,
  q: DecisionQuery,
  names: Names = NO_NAMES,
): { jsonl: string; count: number } {
  const lines = jsonl.split('\n').filter((l) => l.length > 0);
  if (searchTerms(q.text).length === 0) return { jsonl, count: lines.length };
  const keep = decisionPredicate({ ...EMPTY_QUERY, text: q.text }, names);
  const kept = lines.filter((line) => {
    try {
      return keep(JSON.parse(line) as DecisionEvent);
    } catch {
      return true;
    }
  });
  return { jsonl: kept.map((l) => l + '\n').join(''), count: kept.length };
}

/** `HH:MM:SS.mmm` in local time. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A file name for an export made at `now`: keyport-decisions-2024-05-01T12-30-05Z.jsonl. */
export function exportFileName(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `keyport-decisions-${stamp}.jsonl`;
}
