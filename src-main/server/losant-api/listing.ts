// Losant's collection parameters: sortField, sortDirection, page (0-based), perPage, filterField
// and filter (a glob: `*` matches any run of characters, case-insensitive), and the collection
// envelope {items, count, totalCount, perPage, page, sortField, sortDirection, …}.
import { HttpError } from '../http-errors.ts';

export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 1000;

export interface ListSpec<T> {
  /** Accepted sortField values → the value to sort by. */
  sortFields: Readonly<Record<string, (item: T) => string | number | undefined>>;
  defaultSortField: string;
  defaultSortDirection: 'asc' | 'desc';
  /** Accepted filterField values → the text the glob is matched against. The first is the default. */
  filterFields: Readonly<Record<string, (item: T) => string | undefined>>;
  /** Tie-breaker so pages are stable. */
  id: (item: T) => string;
}

export interface ListParams {
  sortField: string;
  sortDirection: 'asc' | 'desc';
  page: number;
  perPage: number;
  filterField?: string;
  filter?: string;
}

export interface ListEnvelope<R> {
  items: R[];
  count: number;
  totalCount: number;
  perPage: number;
  page: number;
  sortField: string;
  sortDirection: 'asc' | 'desc';
  filterField?: string;
  filter?: string;
}

function badParam(name: string, message: string): HttpError {
  return new HttpError(400, 'Validation', `${name}: ${message}`);
}

function intParam(q: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw))
    throw badParam(name, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  const n = Number(raw);
  if (n < min || n > max) throw badParam(name, `must be from ${min} to ${max} (got ${n})`);
  return n;
}

/**
 * A list request's advanced `query` (null when absent or empty) and its collection parameters.
 * Like Losant, a `query` overrides filterField and filter (and, for devices, deviceClass and tagFilter).
 */
export function parseListRequest<T>(url: URL, spec: ListSpec<T>): { query: string | null; params: ListParams } {
  const raw = url.searchParams.get('query');
  const query = raw === null || raw === '' ? null : raw;
  return { query, params: parseListParams(url.searchParams, spec, { ignoreFilter: query !== null }) };
}

/** Reads the collection parameters; unknown values get a 400 naming the parameter. */
export function parseListParams<T>(
  q: URLSearchParams,
  spec: ListSpec<T>,
  opts: { ignoreFilter?: boolean } = {},
): ListParams {
  const sortFieldRaw = q.get('sortField');
  const sortField = sortFieldRaw === null || sortFieldRaw === '' ? spec.defaultSortField : sortFieldRaw;
  if (!Object.hasOwn(spec.sortFields, sortField)) {
    throw badParam(
      'sortField',
      `${JSON.stringify(sortField)} is not accepted (accepted: ${Object.keys(spec.sortFields).join(', ')})`,
    );
  }
  const dirRaw = (q.get('sortDirection') ?? '').toLowerCase();
  if (dirRaw !== '' && dirRaw !== 'asc' && dirRaw !== 'desc') {
    throw badParam('sortDirection', `must be asc or desc (got ${JSON.stringify(q.get('sortDirection'))})`);
  }
  const sortDirection = dirRaw === '' ? spec.defaultSortDirection : dirRaw;
  const page = intParam(q, 'page', 0, 1_000_000, 0);
  const perPage = intParam(q, 'perPage', 1, MAX_PER_PAGE, DEFAULT_PER_PAGE);
  const params: ListParams = { sortField, sortDirection, page, perPage };
  if (opts.ignoreFilter) return params;
  const filter = q.get('filter') ?? '';
  const filterFieldRaw = q.get('filterField') ?? '';
  if (filterFieldRaw !== '' && !Object.hasOwn(spec.filterFields, filterFieldRaw)) {
    throw badParam(
      'filterField',
      `${JSON.stringify(filterFieldRaw)} is not accepted (accepted: ${Object.keys(spec.filterFields).join(', ')})`,
    );
  }
  if (filter !== '') {
    if (filter.length > 1024) throw badParam('filter', 'must be at most 1024 characters');
    params.filter = filter;
    params.filterField = filterFieldRaw || (Object.keys(spec.filterFields)[0] as string);
  } else if (filterFieldRaw !== '') {
    params.filterField = filterFieldRaw;
  }
  return params;
}

/** A Losant filter glob → a whole-string, case-insensitive matcher. Only `*` is special. */
export function globMatcher(glob: string): (text: string | undefined) => boolean {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 'is');
  return (text) => text !== undefined && re.test(text);
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Filters (glob), sorts and pages `items`, and maps each returned one with `shape`. */
export function listPage<T, R>(
  items: readonly T[],
  params: ListParams,
  spec: ListSpec<T>,
  shape: (item: T) => R,
): ListEnvelope<R> {
  let rows = [...items];
  if (params.filter !== undefined && params.filterField !== undefined) {
    const get = spec.filterFields[params.filterField];
    const match = globMatcher(params.filter);
    if (get) rows = rows.filter((r) => match(get(r)));
  }
  const key = spec.sortFields[params.sortField];
  const dir = params.sortDirection === 'desc' ? -1 : 1;
  if (key) rows.sort((a, b) => dir * (compare(key(a), key(b)) || compare(spec.id(a), spec.id(b))));
  const start = params.page * params.perPage;
  const pageItems = rows.slice(start, start + params.perPage).map(shape);
  return {
    items: pageItems,
    count: pageItems.length,
    totalCount: rows.length,
    perPage: params.perPage,
    page: params.page,
    sortField: params.sortField,
    sortDirection: params.sortDirection,
    ...(params.filterField !== undefined ? { filterField: params.filterField } : {}),
    ...(params.filter !== undefined ? { filter: params.filter } : {}),
  };
}
