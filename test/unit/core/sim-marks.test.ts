// Simulator marks and reserved tag keys (docs/design.md §7).
import { describe, expect, it } from 'vitest';
import { admitReason } from '../../../src-main/core/device-keys.ts';
import { isSimDevice, isSimKey, reservedTagErrors, scenarioMark } from '../../../src-main/core/sim-marks.ts';

describe('reservedTagErrors', () => {
  it('names each keyport- tag key by its index; other keys pass', () => {
    expect(
      reservedTagErrors('tags', [
        { key: 'type', value: 'a' },
        { key: 'keyport-sim', value: 'x' },
        { key: 'keyportish', value: 'y' },
      ]),
    ).toEqual([
      {
        field: 'tags[1].key',
        message:
          'tags[1].key: tag keys starting with "keyport-" are reserved for simulator-made devices (got "keyport-sim")',
      },
    ]);
  });
  it('lets an update keep the reserved tags the device already carries, not add others', () => {
    const mark = scenarioMark('gateway');
    expect(reservedTagErrors('tags', [mark], [mark])).toEqual([]);
    expect(reservedTagErrors('tags', [{ ...mark, value: 'scenario:other' }], [mark])).toHaveLength(1);
  });
});

describe('marks', () => {
  it('a device is simulator-made by its keyport-sim tag, a key by createdVia', () => {
    expect(isSimDevice({ tags: [scenarioMark('tag-scope')] })).toBe(true);
    expect(isSimDevice({ tags: [{ key: 'sim', value: 'keyport-sim' }] })).toBe(false);
    expect(isSimKey({ createdVia: 'simulator' })).toBe(true);
    expect(isSimKey({ createdVia: 'cli' })).toBe(false);
  });
  it("a scenario key scoped by a reserved tag admits no device without it (a user's thermostat)", () => {
    const key = { deviceTags: [{ key: 'keyport-demo-type', value: 'thermostat' }] };
    expect(admitReason(key, { id: 'a'.repeat(24), tags: [{ key: 'type', value: 'thermostat' }] })).toBeNull();
    expect(admitReason(key, { id: 'a'.repeat(24), tags: [{ key: 'keyport-demo-type', value: 'thermostat' }] })).toEqual(
      {
        kind: 'tag',
        tag: { key: 'keyport-demo-type', value: 'thermostat' },
      },
    );
  });
});
