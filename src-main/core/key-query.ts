// The advanced query for access keys (docs/design.md §10), in the JSON shape of Losant's
// "advancedApplicationKeyQuery": {"$or": [{"name": {"$contains": "therm", "$ci": true}},
// {"deviceTags": {"$tagKey": "type", "$tagValue": "thermostat"}}]}.
// Parse once with parseKeyQuery (errors name the bad part, e.g. `query.$or[1].name: ...`), then
// evaluate many times with matchesKeyQuery / filterKeys. Tag conditions (deviceTags) share their
// compiler with the device query (tag-query.ts). Semantics choices are listed in README.
import {
  compileQuery,
  dateField,
  stringArrayField,
  stringField,
  type FieldCompiler,
  type JsonObject,
} from './advanced-query.ts';
import { tagsField } from './tag-query.ts';
import { ADDRESS_FILTER_TYPES, KEY_STATUSES, TOPIC_FILTER_TYPES, type AccessKey } from './types.ts';

export { QUERY_LIMITS } from './advanced-query.ts';

/** A parsed and compiled key query: parse once, evaluate many times. */
export interface KeyQuery {
  /** The query as read from the input (plain JSON), e.g. to echo back to the raw JSON editor. */
  readonly source: Readonly<Record<string, unknown>>;
  /** The compiled predicate (prefer matchesKeyQuery / filterKeys). */
  readonly test: (key: AccessKey) => boolean;
}

const KEY_FIELDS: Readonly<Record<string, FieldCompiler<AccessKey>>> = {
  id: stringField((k) => k.id),
  creationDate: dateField((k) => k.creationDate),
  lastUpdated: dateField((k) => k.lastUpdated),
  status: stringField((k) => k.status, { kind: 'string', allowed: KEY_STATUSES }),
  deviceIds: stringArrayField((k) => k.deviceIds),
  deviceTags: tagsField((k) => k.deviceTags),
  key: stringField((k) => k.key),
  name: stringField((k) => k.name),
  description: stringField((k) => k.description),
  filterType: stringField((k) => k.filterType, { kind: 'string', allowed: TOPIC_FILTER_TYPES }),
  pubTopics: stringArrayField((k) => k.pubTopics),
  subTopics: stringArrayField((k) => k.subTopics),
  addressFilterType: stringField((k) => k.addressFilterType, { kind: 'string', allowed: ADDRESS_FILTER_TYPES }),
  addresses: stringArrayField((k) => k.addresses),
};

/** Parses a key query given as an object or a JSON string. Never throws on bad input. */
export function parseKeyQuery(input: unknown): { ok: true; query: KeyQuery } | { ok: false; error: string } {
  const r = compileQuery(KEY_FIELDS, input, 'query');
  if (!r.ok) return r;
  const source: JsonObject = r.source;
  return { ok: true, query: Object.freeze({ source, test: r.test }) };
}

export function matchesKeyQuery(query: KeyQuery, key: AccessKey): boolean {
  return query.test(key);
}

export function filterKeys<T extends AccessKey>(query: KeyQuery, keys: readonly T[]): T[] {
  const test = query.test;
  const out: T[] = [];
  for (const k of keys) if (test(k)) out.push(k);
  return out;
}
