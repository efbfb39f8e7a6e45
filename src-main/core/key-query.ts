// The advanced query for access keys (docs/design.md §10), in the JSON shape of Losant's
// "advancedApplicationKeyQuery": {"$or": [{"name": {"$contains": "therm", "$ci": true}},
// {"deviceTags": {"$tagKey": "type", "$tagValue": "thermostat"}}]}.
// Parse once with parseKeyQuery (errors name the bad part, e.g. `query.$or[1].name: ...`), then
// evaluate many times with matchesKeyQuery / filterKeys. Semantics choices are listed in README.
import {
  QueryError,
  childPath,
  compileQuery,
  compileValueMatcher,
  dateField,
  isJsonObject,
  show,
  stringArrayField,
  stringField,
  type FieldCompiler,
  type Json,
  type JsonObject,
  type Predicate,
  type ValueMatcher,
} from './advanced-query.ts';
import { ADDRESS_FILTER_TYPES, KEY_STATUSES, TOPIC_FILTER_TYPES, type AccessKey, type Tag } from './types.ts';

export { QUERY_LIMITS } from './advanced-query.ts';

/** A parsed and compiled key query: parse once, evaluate many times. */
export interface KeyQuery {
  /** The query as read from the input (plain JSON), e.g. to echo back to the raw JSON editor. */
  readonly source: Readonly<Record<string, unknown>>;
  /** The compiled predicate (prefer matchesKeyQuery / filterKeys). */
  readonly test: (key: AccessKey) => boolean;
}

const TAG_KEY = /^[0-9a-zA-Z_-]{1,255}$/;
const TAG_OPERATORS = ['$tagKey', '$tagValue'] as const;
const NO_TAGS: readonly Tag[] = [];
const tagsOf = (k: AccessKey): readonly Tag[] => k.deviceTags ?? NO_TAGS;

/** Inside deviceTags conditions, a bare null means "any" (see compileTagSide); null in operators is refused. */
const TAG_DOMAIN = { kind: 'string', allowNull: false } as const;

/** null → undefined (no constraint on that side of the tag pair). */
function compileTagSide(spec: Json, path: string): ValueMatcher | undefined {
  return spec === null ? undefined : compileValueMatcher(spec, path, TAG_DOMAIN);
}

/**
 * One tag condition:
 *  - {"$tagKey": K} / {"$tagValue": V} alone: K (V) is tested against the list of the key's tag keys
 *    (values) with array semantics: positive operators match when ANY tag does, $ne/$nin when NONE does.
 *  - {"$tagKey": K, "$tagValue": V}: some single tag pair satisfies both.
 *  - {"type": V, "floor": W}: for each entry, V is tested against the values of the key's tags named
 *    "type" (array semantics again); every entry must hold. A bare null V means "any value".
 */
function compileTagCondition(spec: Json, path: string): Predicate<AccessKey> {
  if (!isJsonObject(spec) || Object.keys(spec).length === 0) {
    throw new QueryError(
      path,
      'must be a non-empty object such as {"$tagKey": "type"}, {"$tagValue": "thermostat"} or {"type": "thermostat"}',
    );
  }
  const keys = Object.keys(spec);
  if (keys.some((k) => (TAG_OPERATORS as readonly string[]).includes(k))) {
    for (const k of keys) {
      if (!(TAG_OPERATORS as readonly string[]).includes(k)) {
        throw new QueryError(
          childPath(path, k),
          k.startsWith('$')
            ? `unknown operator ${show(k)} (allowed next to $tagKey/$tagValue: ${TAG_OPERATORS.join(', ')})`
            : 'cannot mix {"tagKey": value} pairs with $tagKey/$tagValue in one object; use $and',
        );
      }
    }
    const km = spec['$tagKey'] === undefined ? undefined : compileTagSide(spec['$tagKey'], childPath(path, '$tagKey'));
    const vm =
      spec['$tagValue'] === undefined ? undefined : compileTagSide(spec['$tagValue'], childPath(path, '$tagValue'));
    if (km && vm) return (k) => tagsOf(k).some((t) => km.one(t.key) && vm.one(t.value));
    if (km) return (k) => km.many(tagsOf(k).map((t) => t.key));
    if (vm) return (k) => vm.many(tagsOf(k).map((t) => t.value));
    return (k) => tagsOf(k).length > 0;
  }
  const preds = keys.map((name): Predicate<AccessKey> => {
    const p = childPath(path, name);
    if (name.startsWith('$')) {
      throw new QueryError(
        p,
        `unknown operator ${show(name)} (allowed in deviceTags: $tagKey, $tagValue, $eq, $ne, or {"tagKey": value})`,
      );
    }
    if (!TAG_KEY.test(name))
      throw new QueryError(p, `${show(name)} is not a valid tag key (letters, digits, _ and -, 1-255 characters)`);
    const vm = compileTagSide(spec[name] as Json, p);
    if (!vm) return (k) => tagsOf(k).some((t) => t.key === name);
    return (k) =>
      vm.many(
        tagsOf(k)
          .filter((t) => t.key === name)
          .map((t) => t.value),
      );
  });
  return preds.length === 1 && preds[0] ? preds[0] : (k) => preds.every((pred) => pred(k));
}

/** deviceTags: null (no tag restriction), a tag condition, or Losant's {"$eq": cond} / {"$ne": cond}. */
const deviceTagsField: FieldCompiler<AccessKey> = (spec, path) => {
  if (spec === null) return (k) => tagsOf(k).length === 0;
  if (isJsonObject(spec)) {
    const keys = Object.keys(spec);
    const [only] = keys;
    if (keys.length === 1 && (only === '$eq' || only === '$ne')) {
      const inner = compileTagCondition(spec[only] as Json, childPath(path, only));
      return only === '$eq' ? inner : (k) => !inner(k);
    }
  }
  return compileTagCondition(spec, path);
};

const KEY_FIELDS: Readonly<Record<string, FieldCompiler<AccessKey>>> = {
  id: stringField((k) => k.id),
  creationDate: dateField((k) => k.creationDate),
  lastUpdated: dateField((k) => k.lastUpdated),
  status: stringField((k) => k.status, { kind: 'string', allowed: KEY_STATUSES }),
  deviceIds: stringArrayField((k) => k.deviceIds),
  deviceTags: deviceTagsField,
  key: stringField((k) => k.key),
  name: stringField((k) => k.name),
  description: stringField((k) => k.description),
  filterType: stringField((k) => k.filterType, { kind: 'string', allowed: TOPIC_FILTER_TYPES }),
  pubTopics: stringArrayField((k) => k.pubTopics),
  subTopics: stringArrayField((k) => k.subTopics),
  addressFilterType: stringField((k) => k.addressFilterType, { kind: 'string', allowed: ADDRESS_FILTER_TYPES }),
  addresses: stringArrayField((k) => k.addresses),
};

/** The fields a key query may name, in Losant's order. */
export const KEY_QUERY_FIELDS: readonly string[] = Object.freeze(Object.keys(KEY_FIELDS));

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
