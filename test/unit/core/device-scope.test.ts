import { describe, expect, it, vi } from 'vitest';
import {
  describeRestriction,
  describeTags,
  deviceMatches,
  inScope,
  isAllDevices,
  ListedIds,
  matchRule,
  resolveScope,
  scanTagLookup,
  UnionIds,
  type DeviceScope,
  type Restriction,
} from '../../../src-main/core/device-scope.ts';
import type { Device } from '../../../src-main/core/types.ts';
import { device, hexId, tag } from '../../helpers/core-fixtures.ts';

const A = hexId(0xa);
const B = hexId(0xb);
const C = hexId(0xc);

const kitchenSensor = device({ id: A, tags: [tag('room', 'kitchen'), tag('kind', 'sensor')] });
const kitchenOnly = device({ id: B, tags: [tag('room', 'kitchen')] });
const hallSensor = device({ id: C, tags: [tag('room', 'hall'), tag('kind', 'sensor')] });
const untagged = device({ id: hexId(0xd) });
const all = [kitchenSensor, kitchenOnly, hallSensor, untagged];

describe('isAllDevices', () => {
  it.each<[string, Restriction, boolean]>([
    ['no restriction', {}, true],
    ['empty lists', { deviceIds: [], deviceTags: [] }, true],
    ['ids', { deviceIds: [A] }, false],
    ['tags', { deviceTags: [tag('room', 'kitchen')] }, false],
    ['empty ids + tags', { deviceIds: [], deviceTags: [tag('a', 'b')] }, false],
  ])('%s → %s', (_what, r, expected) => {
    expect(isAllDevices(r)).toBe(expected);
  });
});

describe('deviceMatches / matchRule', () => {
  const two = [tag('room', 'kitchen'), tag('kind', 'sensor')];
  it.each<[string, Restriction, Device, string | null]>([
    ['all-devices key, untagged device', {}, untagged, 'all devices'],
    ['all-devices key, any device', { deviceIds: [], deviceTags: [] }, hallSensor, 'all devices'],
    ['listed id', { deviceIds: [A, C] }, hallSensor, `deviceIds entry "${C}"`],
    ['id not listed', { deviceIds: [A] }, kitchenOnly, null],
    ['one tag, carried', { deviceTags: [tag('room', 'kitchen')] }, kitchenOnly, 'deviceTags entry "room=kitchen"'],
    ['one tag, other value', { deviceTags: [tag('room', 'kitchen')] }, hallSensor, null],
    // Inclusive (docs.losant.com/devices/device-queries): ANY one listed tag item is enough.
    ['two tags, both carried', { deviceTags: two }, kitchenSensor, 'deviceTags entry "room=kitchen"'],
    [
      'two tags, only the first carried (ANY one is enough)',
      { deviceTags: two },
      kitchenOnly,
      'deviceTags entry "room=kitchen"',
    ],
    [
      'two tags, only the second carried (ANY one is enough)',
      { deviceTags: two },
      hallSensor,
      'deviceTags entry "kind=sensor"',
    ],
    ['two tags, untagged device', { deviceTags: two }, untagged, null],
    ['tag key matches but value case differs', { deviceTags: [tag('room', 'Kitchen')] }, kitchenOnly, null],
    ['key only: any value of that key', { deviceTags: [{ key: 'room' }] }, hallSensor, 'deviceTags entry "room=*"'],
    ['key only: device without that key', { deviceTags: [{ key: 'floor' }] }, kitchenSensor, null],
    [
      'value only: that value under any key',
      { deviceTags: [{ value: 'sensor' }] },
      hallSensor,
      'deviceTags entry "*=sensor"',
    ],
    ['value only: no tag with that value', { deviceTags: [{ value: 'hall' }] }, kitchenOnly, null],
    ['value only is exact, not a key', { deviceTags: [{ value: 'room' }] }, kitchenOnly, null],
    ['ids OR tags: matched by id only', { deviceIds: [C], deviceTags: two }, hallSensor, `deviceIds entry "${C}"`],
    [
      'ids OR tags: matched by tags only',
      { deviceIds: [C], deviceTags: two },
      kitchenSensor,
      'deviceTags entry "room=kitchen"',
    ],
    ['ids OR tags: neither', { deviceIds: [C], deviceTags: two }, untagged, null],
    [
      'ids OR tags: neither (tags carried, none listed)',
      { deviceIds: [C], deviceTags: [tag('room', 'hall')] },
      kitchenOnly,
      null,
    ],
  ])('%s', (_what, r, d, rule) => {
    expect(deviceMatches(r, d)).toBe(rule !== null);
    const got = matchRule(r, d);
    if (rule === null) expect(got).toBeNull();
    else expect(got).toContain(rule);
  });

  it('a device carrying extra tags and duplicate keys still matches', () => {
    const d = device({ tags: [tag('room', 'hall'), tag('room', 'kitchen'), tag('x', 'y')] });
    expect(deviceMatches({ deviceTags: [tag('room', 'kitchen')] }, d)).toBe(true);
    expect(deviceMatches({ deviceTags: [tag('room', 'kitchen'), tag('room', 'hall')] }, d)).toBe(true);
  });
});

describe('resolveScope / inScope', () => {
  const scan = scanTagLookup(() => all);
  const sorted = (scope: DeviceScope): string[] => (scope.kind === 'devices' ? [...scope.ids].sort() : ['*']);

  it('all-devices key → kind all, without looking up tags', () => {
    const tagged = vi.fn(scan);
    const scope = resolveScope({}, tagged);
    expect(scope).toEqual({ kind: 'all' });
    expect(tagged).not.toHaveBeenCalled();
    expect(inScope(scope, hexId(12345))).toBe(true);
  });

  it('an id-only key never looks up tags', () => {
    const tagged = vi.fn(scan);
    const scope = resolveScope({ deviceIds: [A, B] }, tagged);
    expect(tagged).not.toHaveBeenCalled();
    expect(scope.kind).toBe('devices');
    expect(inScope(scope, A)).toBe(true);
    expect(inScope(scope, B)).toBe(true);
    expect(inScope(scope, C)).toBe(false);
  });

  it('a tag key looks up each item once and keeps devices carrying ANY one listed tag', () => {
    const tagged = vi.fn(scan);
    const scope = resolveScope({ deviceTags: [tag('room', 'kitchen'), tag('kind', 'sensor')] }, tagged);
    expect(tagged).toHaveBeenCalledTimes(2);
    expect(sorted(scope)).toEqual([A, B, C].sort());
    expect(scope.kind === 'devices' && scope.ids.size).toBe(3);
    expect(inScope(scope, untagged.id)).toBe(false);
  });

  it('a single tag item: the scope IS the set the lookup gave (no copy)', () => {
    const ids = new Set([A]);
    const scope = resolveScope({ deviceTags: [tag('room', 'kitchen')] }, () => ids);
    expect(scope.kind === 'devices' && scope.ids).toBe(ids);
  });

  it('key-only and value-only items resolve like the wildcards they are', () => {
    expect(sorted(resolveScope({ deviceTags: [{ key: 'kind' }] }, scan))).toEqual([A, C].sort());
    expect(sorted(resolveScope({ deviceTags: [{ value: 'kitchen' }] }, scan))).toEqual([A, B].sort());
  });

  it('ids OR tags: the union, each id once', () => {
    const scope = resolveScope({ deviceIds: [C, A], deviceTags: [tag('room', 'kitchen')] }, scan);
    expect(sorted(scope)).toEqual([A, B, C].sort());
    expect(scope.kind === 'devices' && scope.ids.size).toBe(3);
    const seen: string[] = [];
    if (scope.kind === 'devices') scope.ids.forEach((id) => seen.push(id));
    expect(seen.sort()).toEqual([A, B, C].sort());
  });

  it('a stored (frozen) short id list is read in place, as the Set it replaces would answer', () => {
    const ids = Object.freeze([C, A]) as string[]; // as the store hands out records: deep-frozen
    const scope = resolveScope({ deviceIds: ids }, scan);
    if (scope.kind !== 'devices') throw new Error('expected devices');
    expect(scope.ids).toBeInstanceOf(ListedIds);
    expect([scope.ids.has(A), scope.ids.has(B), scope.ids.has(C)]).toEqual([true, false, true]);
    expect(scope.ids.size).toBe(2);
    expect([...scope.ids]).toEqual([C, A]);
    expect([...scope.ids.keys()]).toEqual([C, A]);
    expect([...scope.ids.entries()]).toEqual([
      [C, C],
      [A, A],
    ]);
    const seen: string[] = [];
    scope.ids.forEach((id, id2, set) => seen.push(`${id}${id2 === id && set === scope.ids ? '' : '!'}`));
    expect(seen).toEqual([C, A]);
  });

  it('an id list that could change, repeats an id or is long gets a Set of its own (a snapshot)', () => {
    const mutable = [A];
    const scope = resolveScope({ deviceIds: mutable }, scan);
    mutable.push(B);
    expect(inScope(scope, B)).toBe(false);
    expect(ListedIds.of(Object.freeze([A, A]))).toBeInstanceOf(Set);
    expect(ListedIds.of(Object.freeze([A, A])).size).toBe(1);
    const long = Object.freeze(Array.from({ length: ListedIds.MAX + 1 }, (_, i) => hexId(i + 1)));
    expect(ListedIds.of(long)).toBeInstanceOf(Set);
  });

  it('a tag item matching nothing adds nothing', () => {
    expect(sorted(resolveScope({ deviceTags: [tag('room', 'attic')] }, scan))).toEqual([]);
  });

  it('a tag change takes a device out of scope at the next resolve, not the one already made', () => {
    const d1 = device({ id: A, tags: [tag('room', 'kitchen')] });
    const d2 = device({ id: B, tags: [tag('room', 'kitchen')] });
    const devices = [d1, d2];
    const lookup = scanTagLookup(() => devices);
    const r: Restriction = { deviceTags: [tag('room', 'kitchen')] };
    const before = resolveScope(r, lookup);
    expect(sorted(before)).toEqual([A, B]);

    d2.tags = [tag('room', 'hall')];
    const after = resolveScope(r, lookup);
    expect(sorted(after)).toEqual([A]);
    expect(inScope(after, B)).toBe(false);
    // The scope resolved earlier (at connect) is a snapshot.
    expect(inScope(before, B)).toBe(true);
    expect(deviceMatches(r, d2)).toBe(false);
  });
});

describe('UnionIds', () => {
  it('has() asks every part; iteration, size and entries count shared ids once', () => {
    const u = new UnionIds([new Set([A, B]), new Set([B, C]), new Set([C])]);
    expect(u.has(A) && u.has(B) && u.has(C)).toBe(true);
    expect(u.has(untagged.id)).toBe(false);
    expect([...u]).toEqual([A, B, C]);
    expect(u.size).toBe(3);
    expect([...u.entries()]).toEqual([
      [A, A],
      [B, B],
      [C, C],
    ]);
    expect([...u.keys()]).toEqual([A, B, C]);
  });
});

describe('describeRestriction / describeTags', () => {
  it.each<[string, Restriction, string]>([
    ['nothing', {}, 'all devices'],
    ['empty lists', { deviceIds: [], deviceTags: [] }, 'all devices'],
    ['one id', { deviceIds: [A] }, `device ${A}`],
    ['three ids', { deviceIds: [A, B, C] }, '3 devices'],
    [
      'tags',
      { deviceTags: [tag('room', 'kitchen'), tag('kind', 'sensor')] },
      'devices tagged any of room=kitchen, kind=sensor',
    ],
    ['one-sided tags', { deviceTags: [{ key: 'room' }, { value: '2' }] }, 'devices tagged any of room=*, *=2'],
    ['id and tags', { deviceIds: [A], deviceTags: [tag('room', 'hall')] }, `device ${A} or devices tagged room=hall`],
  ])('%s → %j', (_what, r, text) => {
    expect(describeRestriction(r)).toBe(text);
  });

  it('describeTags joins key=value pairs, * for a missing side', () => {
    expect(describeTags([tag('a', '1'), tag('b', '2')])).toBe('a=1, b=2');
    expect(describeTags([{ key: 'a' }, { value: '2' }])).toBe('a=*, *=2');
    expect(describeTags([])).toBe('');
  });
});
