// Which access keys admit a device, and why (docs/design.md §2, §13: the device page's "Access keys" card).
// The same inclusive rule as device-scope.ts: all devices, the device's id listed, or one listed
// tag item the device carries. Pure: the service answers `devices.keys` with it.
import { isAllDevices, tagMatchesItem } from './device-scope.ts';
import type { AccessKey, Device, TagMatch } from './types.ts';

export type AdmitReason = { kind: 'all' } | { kind: 'id' } | { kind: 'tag'; tag: TagMatch };

export interface KeyAdmitting {
  key: AccessKey;
  why: AdmitReason;
}

/** Why `key`'s device restriction admits `device`, or null when it does not. */
export function admitReason(
  key: Pick<AccessKey, 'deviceIds' | 'deviceTags'>,
  device: Pick<Device, 'id' | 'tags'>,
): AdmitReason | null {
  if (isAllDevices(key)) return { kind: 'all' };
  if (key.deviceIds?.includes(device.id)) return { kind: 'id' };
  const tag = key.deviceTags?.find((item) => device.tags.some((t) => tagMatchesItem(item, t)));
  return tag ? { kind: 'tag', tag } : null;
}

/** The keys that admit the device: id matches first, then tag matches, then all-device keys. */
export function keysAdmitting(device: Pick<Device, 'id' | 'tags'>, keys: readonly AccessKey[]): KeyAdmitting[] {
  const order = { id: 0, tag: 1, all: 2 } as const;
  return keys
    .map((key) => ({ key, why: admitReason(key, device) }))
    .filter((k): k is KeyAdmitting => k.why !== null)
    .sort((a, b) => order[a.why.kind] - order[b.why.kind]);
}
