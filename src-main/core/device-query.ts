// Losant's "advancedDeviceQuery" (GET /applications/{appId}/devices?query=…, docs/design.md §10), on the same
// machinery as the key query: $and/$or/$nor, value operators, $ci, and the one tag-condition
// compiler (tag-query.ts) that the key query's deviceTags uses too.
// Fields: id, creationDate, lastUpdated, name, description, deviceClass, gatewayId, tags,
// connectionStatus, connectedAt, disconnectedAt. Pure code.
import { compileQuery, dateField, stringField, type FieldCompiler, type Predicate } from './advanced-query.ts';
import { tagsField } from './tag-query.ts';
import { DEVICE_CLASSES, type Device } from './types.ts';

const DEVICE_FIELDS: Readonly<Record<string, FieldCompiler<Device>>> = {
  id: stringField((d) => d.id),
  creationDate: dateField((d) => d.creationDate),
  lastUpdated: dateField((d) => d.lastUpdated),
  name: stringField((d) => d.name),
  description: stringField((d) => d.description),
  deviceClass: stringField((d) => d.deviceClass, { kind: 'string', allowed: DEVICE_CLASSES }),
  gatewayId: stringField((d) => d.gatewayId),
  tags: tagsField((d) => d.tags),
  connectionStatus: stringField((d) => d.connectionStatus?.status ?? 'disconnected', {
    kind: 'string',
    allowed: ['connected', 'disconnected'],
  }),
  connectedAt: dateField((d) => d.connectionStatus?.connectedAt),
  disconnectedAt: dateField((d) => d.connectionStatus?.disconnectedAt),
};

/** Parses a device query given as an object or a JSON string. Never throws on bad input. */
export function parseDeviceQuery(input: unknown): { ok: true; test: Predicate<Device> } | { ok: false; error: string } {
  const r = compileQuery(DEVICE_FIELDS, input, 'query');
  return r.ok ? { ok: true, test: r.test } : r;
}
