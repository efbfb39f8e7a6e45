// Device restriction of an access key (docs/design.md §2, §4): all devices, or listed ids and/or tag items.
//
// Inclusive, as Losant documents device queries (https://docs.losant.com/devices/device-queries/:
// "Queries are inclusive, meaning that if any condition in the query returns true, the device ID
// or tagged devices are returned"; access keys use device queries to "limit access to specific
// devices"): a device is in scope when its id is listed, OR it matches ANY ONE listed tag item.
// A tag item is a key and a value (`type=thermostat`), a key alone (`type=*`: any device with a
// tag of that key, whatever its value) or a value alone (`*=2`: any tag with that value), the
// `key=*` / `value=*` wildcards of the same page and the optional `key`/`value` of Losant's
// applicationKeyPost deviceTags items. Comparison is exact (case-sensitive), as for tags elsewhere.
//
// Before issue 14 Keyport required EVERY listed tag pair; a key for type=thermostat + floor=2 now
// admits devices carrying EITHER tag (README, "Device restriction").
import type { AccessKey, Device, Tag, TagMatch } from './types.ts';

export type Restriction = Pick<AccessKey, 'deviceIds' | 'deviceTags'>;

/** The set of devices a session may act on, resolved once at CONNECT (tags read then, not later). */
export type DeviceScope = { kind: 'all' } | { kind: 'devices'; ids: ReadonlySet<string> };

export function isAllDevices(r: Restriction): boolean {
  return (
    (r.deviceIds === undefined || r.deviceIds.length === 0) && (r.deviceTags === undefined || r.deviceTags.length === 0)
  );
}

/** Whether one device tag satisfies one restriction item (a missing side matches anything). */
export function tagMatchesItem(item: TagMatch, tag: Tag): boolean {
  return (item.key === undefined || item.key === tag.key) && (item.value === undefined || item.value === tag.value);
}

/** The first listed tag item the device matches, if any. */
function matchingItem(r: Restriction, device: Pick<Device, 'tags'>): TagMatch | undefined {
  const items = r.deviceTags;
  if (items === undefined || items.length === 0 || device.tags.length === 0) return undefined;
  return items.find((item) => device.tags.some((t) => tagMatchesItem(item, t)));
}

export function deviceMatches(r: Restriction, device: Pick<Device, 'id' | 'tags'>): boolean {
  if (isAllDevices(r)) return true;
  if (r.deviceIds?.includes(device.id)) return true;
  return matchingItem(r, device) !== undefined;
}

/** Which rule let the device in (for the decision feed), or null when it does not match. */
export function matchRule(r: Restriction, device: Pick<Device, 'id' | 'tags'>): string | null {
  if (isAllDevices(r)) return 'device restriction: all devices';
  if (r.deviceIds?.includes(device.id)) return `deviceIds entry "${device.id}"`;
  const item = matchingItem(r, device);
  return item === undefined ? null : `deviceTags entry "${describeTag(item)}"`;
}

/** A plain copy of a restriction item, without undefined sides (for storing and answering). */
export function copyTagMatch(t: TagMatch): TagMatch {
  return { ...(t.key !== undefined ? { key: t.key } : {}), ...(t.value !== undefined ? { value: t.value } : {}) };
}

/** `type=thermostat`, `type=*` (key only) or `*=2` (value only). */
export function describeTag(t: TagMatch): string {
  return `${t.key ?? '*'}=${t.value ?? '*'}`;
}

export function describeTags(tags: readonly TagMatch[]): string {
  return tags.map(describeTag).join(', ');
}

export function describeRestriction(r: Restriction): string {
  if (isAllDevices(r)) return 'all devices';
  const parts: string[] = [];
  if (r.deviceIds?.length)
    parts.push(r.deviceIds.length === 1 ? `device ${r.deviceIds[0]}` : `${r.deviceIds.length} devices`);
  const tags = r.deviceTags ?? [];
  if (tags.length === 1) parts.push(`devices tagged ${describeTags(tags)}`);
  else if (tags.length > 1) parts.push(`devices tagged any of ${describeTags(tags)}`);
  return parts.join(' or ');
}

/** Resolve the scope now: listed ids plus every device whose tags match at this moment.
 * `devices` is only called for tag restrictions, so id-scoped keys never scan the device list. */
export function resolveScope(r: Restriction, devices: () => Iterable<Device>): DeviceScope {
  if (isAllDevices(r)) return { kind: 'all' };
  const ids = new Set(r.deviceIds ?? []);
  if (r.deviceTags?.length) {
    for (const d of devices()) if (matchingItem(r, d) !== undefined) ids.add(d.id);
  }
  return { kind: 'devices', ids };
}

export function inScope(scope: DeviceScope, deviceId: string): boolean {
  return scope.kind === 'all' || scope.ids.has(deviceId);
}
