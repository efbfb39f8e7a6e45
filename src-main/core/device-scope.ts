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

/**
 * The ids of the devices carrying a tag that matches `item`, as they are NOW. The set returned is
 * a snapshot the caller may keep: later tag changes never alter it (the store's tag index hands out
 * copy-on-write sets, see store/tag-index.ts; scanTagLookup builds a fresh one).
 */
export type TagLookup = (item: TagMatch) => ReadonlySet<string>;

/** A TagLookup that scans `devices` on each call (explanations and lints over a plain list). */
export function scanTagLookup(devices: () => Iterable<Device>): TagLookup {
  return (item) => {
    const ids = new Set<string>();
    for (const d of devices()) if (d.tags.some((t) => tagMatchesItem(item, t))) ids.add(d.id);
    return ids;
  };
}

/**
 * The union of a few snapshot sets, read without copying them: `has` asks each part (a key lists at
 * most LIMITS.deviceTags tag items plus one set of ids, so a delivery check costs a handful of
 * lookups, whatever the number of devices). Iteration yields each id once.
 */
export class UnionIds implements ReadonlySet<string> {
  #size: number | undefined;

  constructor(private readonly parts: readonly ReadonlySet<string>[]) {}

  has(id: string): boolean {
    // Indexed: runs for every state report and delivery (no iterator per call; issue 17 item 1).
    const parts = this.parts;
    for (let i = 0; i < parts.length; i++) if ((parts[i] as ReadonlySet<string>).has(id)) return true;
    return false;
  }

  get size(): number {
    if (this.#size === undefined) {
      let n = 0;
      for (const _ of this) n++;
      this.#size = n; // the parts are snapshots: the count cannot change
    }
    return this.#size;
  }

  *values(): SetIterator<string> {
    const { parts } = this;
    for (let i = 0; i < parts.length; i++) {
      next: for (const id of parts[i] as ReadonlySet<string>) {
        for (let j = 0; j < i; j++) if ((parts[j] as ReadonlySet<string>).has(id)) continue next;
        yield id;
      }
    }
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const id of this.values()) yield [id, id];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  forEach(cb: (value: string, value2: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const id of this.values()) cb.call(thisArg, id, id, this);
  }
}

/**
 * A key's listed device ids read in place (issue 17 item 4): one small object over the stored,
 * frozen `deviceIds` array instead of a Set built per CONNECT (a one-id Set costs ~150 bytes per
 * live session). Only for short lists without repeats (checked once here), where `includes` is
 * as quick as a hash lookup; iteration is the list's order, as `new Set(list)` would give.
 */
export class ListedIds implements ReadonlySet<string> {
  /** Longest list read in place; longer ones get a Set. */
  static readonly MAX = 8;

  private constructor(private readonly ids: readonly string[]) {}

  /** The ids of `list` as a set snapshot: in place when frozen, short and without repeats. */
  static of(list: readonly string[]): ReadonlySet<string> {
    if (list.length > ListedIds.MAX || !Object.isFrozen(list)) return new Set(list);
    for (let i = 1; i < list.length; i++) if (list.lastIndexOf(list[i] as string, i - 1) >= 0) return new Set(list);
    return new ListedIds(list);
  }

  has(id: string): boolean {
    return this.ids.includes(id);
  }

  get size(): number {
    return this.ids.length;
  }

  values(): SetIterator<string> {
    return this.ids.values();
  }

  keys(): SetIterator<string> {
    return this.ids.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const id of this.ids) yield [id, id];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.ids.values();
  }

  forEach(cb: (value: string, value2: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const id of this.ids) cb.call(thisArg, id, id, this);
  }
}

/**
 * Resolve the scope now: listed ids plus every device whose tags match at this moment. `tagged` is
 * only called for tag restrictions (once per item), so id-scoped keys never look at other devices;
 * with the store's tag index a tag-scoped key costs the same at 100 and at 100,000 devices. The
 * sets `tagged` returns are kept as they are (snapshots), not copied: a single tag item's scope IS
 * the index's set, several are read through UnionIds.
 */
export function resolveScope(r: Restriction, tagged: TagLookup): DeviceScope {
  if (isAllDevices(r)) return { kind: 'all' };
  const parts: ReadonlySet<string>[] = [];
  if (r.deviceIds?.length) parts.push(ListedIds.of(r.deviceIds));
  for (const item of r.deviceTags ?? []) {
    const ids = tagged(item);
    if (ids.size > 0) parts.push(ids);
  }
  const [only] = parts;
  if (parts.length <= 1) return { kind: 'devices', ids: only ?? new Set() };
  return { kind: 'devices', ids: new UnionIds(parts) };
}

export function inScope(scope: DeviceScope, deviceId: string): boolean {
  return scope.kind === 'all' || scope.ids.has(deviceId);
}
