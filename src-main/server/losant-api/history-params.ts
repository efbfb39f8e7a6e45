// The query of Losant's device history reads (losant-rest device.getState / device.getCommand):
// `limit` (how many entries, default 1), `since` (ms since the epoch, inclusive) and
// `sortDirection` (by time, default desc = newest first). Bad values get a 400 naming the parameter.
import { validation } from './context.ts';

export const MAX_HISTORY_LIMIT = 1000;

export interface HistoryParams {
  limit: number;
  since?: number;
  sortDirection: 'asc' | 'desc';
}

export function parseHistoryParams(q: URLSearchParams): HistoryParams {
  const limitRaw = q.get('limit');
  let limit = 1;
  if (limitRaw !== null && limitRaw !== '') {
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_HISTORY_LIMIT)
      throw validation(
        `limit: must be a whole number from 1 to ${MAX_HISTORY_LIMIT} (got ${JSON.stringify(limitRaw)})`,
      );
    limit = Number(limitRaw);
  }
  const sinceRaw = q.get('since');
  let since: number | undefined;
  if (sinceRaw !== null && sinceRaw !== '') {
    if (!/^-?\d+$/.test(sinceRaw) || !Number.isSafeInteger(Number(sinceRaw)))
      throw validation(`since: must be milliseconds since the epoch (got ${JSON.stringify(sinceRaw)})`);
    since = Number(sinceRaw);
  }
  const dir = (q.get('sortDirection') ?? '').toLowerCase();
  if (dir !== '' && dir !== 'asc' && dir !== 'desc')
    throw validation(`sortDirection: must be asc or desc (got ${JSON.stringify(q.get('sortDirection'))})`);
  return { limit, ...(since !== undefined ? { since } : {}), sortDirection: dir === 'asc' ? 'asc' : 'desc' };
}

/**
 * Entries (oldest first, each with an ISO `time`) at or after `since`, the newest `limit` of
 * them, in the order asked.
 */
export function selectHistory<T extends { time: string }>(entries: readonly T[], p: HistoryParams): T[] {
  // Stable sort by time: a late report (older `time`) arrives after newer ones.
  let list = [...entries].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  if (p.since !== undefined) {
    const since = p.since;
    list = list.filter((e) => Date.parse(e.time) >= since);
  }
  list = list.slice(Math.max(0, list.length - p.limit));
  if (p.sortDirection === 'desc') list.reverse();
  return list;
}
