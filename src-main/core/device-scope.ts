// Device restriction of an access key (docs/design.md §2, §4): all devices, or listed ids and/or tag pairs.
// A device matches when its id is listed, OR when it carries EVERY listed tag pair (the stricter
// reading of Losant's "by specific ID and/or by tag comparison"; see README).
import type { AccessKey, Device, Tag } from './types.ts';

export type Restriction = Pick<AccessKey, 'deviceIds' | 'deviceTags'>;

/** The set of devices a session may act on, resolved once at CONNECT (tags read then, not later). */
export type DeviceScope = { kind: 'all' } | { kind: 'devices'; ids: ReadonlySet<string> };

export function isAllDevices(r: Restriction): boolean {
  return (
    (r.deviceIds === undefined || r.deviceIds.length === 0) && (r.deviceTags === undefined || r.deviceTags.length === 0)
  );
}

function hasTag(tags: readonly Tag[], wanted: Tag): boolean {
  return tags.some((t) => t.key === wanted.key && t.value === wanted.value);
}

export function deviceMatches(r: Restriction, device: Pick<Device, 'id' | 'tags'>): boolean {
  if (isAllDevices(r)) return true;
  if (r.deviceIds?.includes(device.id)) return true;
  const wanted = r.deviceTags;
  return wanted !== undefined && wanted.length > 0 && wanted.every((t) => hasTag(device.tags, t));
}

/** Which rule let the device in (for the decision feed), or null when it does not match. */
export function matchRule(r: Restriction, device: Pick<Device, 'id' | 'tags'>): string | null {
  if (isAllDevices(r)) return 'device restriction: all devices';
  if (r.deviceIds?.includes(device.id)) return `deviceIds entry "${device.id}"`;
  if (deviceMatches(r, device)) return `deviceTags ${describeTags(r.deviceTags ?? [])}`;
  return null;
}

export function describeTags(tags: readonly Tag[]): string {
  return tags.map((t) => `${t.key}=${t.value}`).join(', ');
}

export function describeRestriction(r: Restriction): string {
  if (isAllDevices(r)) return 'all devices';
  const parts: string[] = [];
  if (r.deviceIds?.length)
    parts.push(r.deviceIds.length === 1 ? `device ${r.deviceIds[0]}` : `${r.deviceIds.length} devices`);
  if (r.deviceTags?.length) parts.push(`devices tagged ${describeTags(r.deviceTags)}`);
  return parts.join(' or ');
}

/** Resolve the scope now: listed ids plus every device whose tags match at this moment.
 * `devices` is only called for tag restrictions, so id-scoped keys never scan the device list. */
export function resolveScope(r: Restriction, devices: () => Iterable<Device>): DeviceScope {
  if (isAllDevices(r)) return { kind: 'all' };
  const ids = new Set(r.deviceIds ?? []);
  if (r.deviceTags?.length) {
    for (const d of devices()) if (deviceMatches(r, d)) ids.add(d.id);
  }
  return { kind: 'devices', ids };
}

export function inScope(scope: DeviceScope, deviceId: string): boolean {
  return scope.kind === 'all' || scope.ids.has(deviceId);
}
