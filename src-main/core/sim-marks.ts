// Simulator-made records (docs/design.md §7): how a device or key made by the simulator is marked, so the
// UI can hide it by default and a simulation's removal can delete exactly what it made.
//
// Devices carry the tag `keyport-sim` (value: what made it, `scenario:tag-scope`, `fleet:<id>`).
// Tag keys starting with `keyport-` are reserved: the normal create and update paths (UI, CLI,
// HTTP API) refuse to add them, so no user device carries a simulator mark or a scenario's tags
// (`keyport-demo-type`, …) by accident, and a scenario key scoped by tag never admits a user's
// device. Keys are marked by `createdVia: "simulator"`. Pure: the renderer uses it too.
import type { AccessKey, Device, Tag } from './types.ts';

export const RESERVED_TAG_PREFIX = 'keyport-';
/** The tag key that marks a simulator-made device. */
export const SIM_TAG = 'keyport-sim';

export const scenarioMark = (scenario: string): Tag => ({ key: SIM_TAG, value: `scenario:${scenario}` });
export const fleetMark = (fleetId: string): Tag => ({ key: SIM_TAG, value: `fleet:${fleetId}` });

export const isReservedTagKey = (key: string): boolean => key.startsWith(RESERVED_TAG_PREFIX);

/** The device's simulator mark (`scenario:NAME`, `fleet:ID`), if it has one. */
export function simMarkOf(device: Pick<Device, 'tags'>): string | undefined {
  return device.tags.find((t) => t.key === SIM_TAG)?.value;
}

export const isSimDevice = (device: Pick<Device, 'tags'>): boolean => simMarkOf(device) !== undefined;
export const isSimKey = (key: Pick<AccessKey, 'createdVia'>): boolean => key.createdVia === 'simulator';

/**
 * Errors for reserved tag keys in a user's tags. `allowed` lists the reserved tags the device
 * already carries (an update may keep them, or drop them, but not add new ones).
 */
export function reservedTagErrors(
  field: string,
  tags: readonly Tag[] | undefined,
  allowed: readonly Tag[] = [],
): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  (tags ?? []).forEach((t, i) => {
    if (!isReservedTagKey(t.key)) return;
    if (allowed.some((a) => a.key === t.key && a.value === t.value)) return;
    out.push({
      field: `${field}[${i}].key`,
      message: `${field}[${i}].key: tag keys starting with "${RESERVED_TAG_PREFIX}" are reserved for simulator-made devices (got "${t.key}")`,
    });
  });
  return out;
}
