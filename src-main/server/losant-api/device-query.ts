// Losant's "advancedDeviceQuery" for GET /applications/{appId}/devices?query=…, built on the same
// query machinery as the key query (core/advanced-query.ts): $and/$or/$nor, value operators, $ci.
// Fields: id, creationDate, lastUpdated, name, description, deviceClass, gatewayId, tags,
// connectionStatus, connectedAt, disconnectedAt.
import {
  QueryError,
  childPath,
  compileQuery,
  compileValueMatcher,
  dateField,
  isJsonObject,
  show,
  stringField,
  type FieldCompiler,
  type Json,
  type Predicate,
} from '../../core/advanced-query.ts';
import { DEVICE_CLASSES, type Device, type Tag } from '../../core/types.ts';

const TAG_KEY = /^[0-9a-zA-Z_-]{1,255}$/;
const STRICT = { kind: 'string', allowNull: false } as const;

/** {"$tagKey": K, "$tagValue": V} (one tag satisfies both) or {"key": "value", …} (every pair held). */
function tagCondition(spec: Json, path: string): Predicate<Device> {
  if (!isJsonObject(spec) || Object.keys(spec).length === 0) {
    throw new QueryError(
      path,
      'must be a non-empty object such as {"$tagKey": "floor"}, {"$tagValue": "2"} or {"floor": "2"}',
    );
  }
  const keys = Object.keys(spec);
  if (keys.includes('$tagKey') || keys.includes('$tagValue')) {
    for (const k of keys) {
      if (k !== '$tagKey' && k !== '$tagValue')
        throw new QueryError(childPath(path, k), `not allowed next to $tagKey/$tagValue`);
    }
    const km =
      spec['$tagKey'] === undefined
        ? undefined
        : compileValueMatcher(spec['$tagKey'] as Json, childPath(path, '$tagKey'), STRICT);
    const vm =
      spec['$tagValue'] === undefined
        ? undefined
        : compileValueMatcher(spec['$tagValue'] as Json, childPath(path, '$tagValue'), STRICT);
    return (d) => d.tags.some((t: Tag) => (km ? km.one(t.key) : true) && (vm ? vm.one(t.value) : true));
  }
  const preds = keys.map((name): Predicate<Device> => {
    const p = childPath(path, name);
    if (name.startsWith('$'))
      throw new QueryError(
        p,
        `unknown operator ${show(name)} (allowed in tags: $tagKey, $tagValue, $eq, $ne, or {"tagKey": value})`,
      );
    if (!TAG_KEY.test(name))
      throw new QueryError(p, `${show(name)} is not a valid tag key (letters, digits, _ and -, 1-255 characters)`);
    const vm = compileValueMatcher(spec[name] as Json, p, STRICT);
    return (d) => vm.many(d.tags.filter((t) => t.key === name).map((t) => t.value));
  });
  return (d) => preds.every((pred) => pred(d));
}

const tagsField: FieldCompiler<Device> = (spec, path) => {
  if (isJsonObject(spec)) {
    const keys = Object.keys(spec);
    const [only] = keys;
    if (keys.length === 1 && (only === '$eq' || only === '$ne')) {
      const inner = tagCondition(spec[only] as Json, childPath(path, only));
      return only === '$eq' ? inner : (d) => !inner(d);
    }
  }
  return tagCondition(spec, path);
};

const DEVICE_FIELDS: Readonly<Record<string, FieldCompiler<Device>>> = {
  id: stringField((d) => d.id),
  creationDate: dateField((d) => d.creationDate),
  lastUpdated: dateField((d) => d.lastUpdated),
  name: stringField((d) => d.name),
  description: stringField((d) => d.description),
  deviceClass: stringField((d) => d.deviceClass, { kind: 'string', allowed: DEVICE_CLASSES }),
  gatewayId: stringField((d) => d.gatewayId),
  tags: tagsField,
  connectionStatus: stringField((d) => d.connectionStatus?.status ?? 'disconnected', {
    kind: 'string',
    allowed: ['connected', 'disconnected'],
  }),
  connectedAt: dateField((d) => d.connectionStatus?.connectedAt),
  disconnectedAt: dateField((d) => d.connectionStatus?.disconnectedAt),
};

export function parseDeviceQuery(input: unknown): { ok: true; test: Predicate<Device> } | { ok: false; error: string } {
  const r = compileQuery(DEVICE_FIELDS, input, 'query');
  return r.ok ? { ok: true, test: r.test } : r;
}
