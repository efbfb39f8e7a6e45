// ONE table of tag-condition cases, run against BOTH the key query (`deviceTags`) and the device
// query (`tags`), in the style of MQTT.js' abstract_store suite: the two used to be compiled by two
// copies that drifted apart (issue 11: `{"$tagKey":{"$ne":"type"}}` was false for keys and true for
// devices with the same tags; `{"type":null}` was accepted for keys and refused for devices).
import { describe, expect, it } from 'vitest';
import { parseDeviceQuery } from '../../../src-main/core/device-query.ts';
import { filterKeys, parseKeyQuery } from '../../../src-main/core/key-query.ts';
import type { AccessKey, Device, Tag } from '../../../src-main/core/types.ts';

/** Six tag lists; record rN (key kN, device dN) carries TAGS[N-1]. */
const TAGS: Tag[][] = [
  [
    { key: 'type', value: 'thermostat' },
    { key: 'floor', value: '1' },
  ],
  [],
  [],
  [{ key: 'type', value: 'Thermostat' }],
  [
    { key: 'type', value: 'sensor' },
    { key: 'floor', value: '2' },
  ],
  [
    { key: 'location', value: 'thermostat-room' },
    { key: 'floor', value: '1' },
  ],
];
const ALL = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
const except = (...out: string[]): string[] => ALL.filter((r) => !out.includes(r));
const T = '2024-01-01T00:00:00.000Z';
const hex = (n: number): string => `aaaaaaaaaaaaaaaaaaaaaa0${n}`;

const KEYS: AccessKey[] = TAGS.map((tags, i) => ({
  id: hex(i + 1),
  key: `${i + 1}b8f5e2a-1c3d-4e5f-8a9b-000000000000`,
  status: 'active',
  ...(tags.length ? { deviceTags: tags } : {}),
  addressFilterType: 'all',
  addresses: [],
  filterType: 'none',
  pubTopics: [],
  subTopics: [],
  creationDate: T,
  lastUpdated: T,
  createdVia: 'api',
}));
const DEVICES: Device[] = TAGS.map((tags, i) => ({
  id: hex(i + 1),
  name: `d${i + 1}`,
  description: '',
  tags,
  deviceClass: 'standalone',
  creationDate: T,
  lastUpdated: T,
}));
const label = (r: { id: string }): string => `r${r.id.slice(-1)}`;

const IMPLEMENTATIONS = [
  {
    name: 'key query (deviceTags)',
    field: 'deviceTags',
    run(cond: unknown): string[] | string {
      const r = parseKeyQuery({ deviceTags: cond });
      return r.ok ? filterKeys(r.query, KEYS).map(label) : r.error;
    },
  },
  {
    name: 'device query (tags)',
    field: 'tags',
    run(cond: unknown): string[] | string {
      const r = parseDeviceQuery({ tags: cond });
      return r.ok ? DEVICES.filter(r.test).map(label) : r.error;
    },
  },
];

type Case = [condition: unknown, expected: string[]];
const CASES: Case[] = [
  [{ $tagKey: 'type' }, ['r1', 'r4', 'r5']],
  [{ $tagKey: 'TYPE' }, []],
  [{ $tagKey: { $eq: 'TYPE', $ci: true } }, ['r1', 'r4', 'r5']],
  [{ $tagKey: { $startsWith: 'loc' } }, ['r6']],
  [{ $tagKey: { $in: ['location', 'floor'] } }, ['r1', 'r5', 'r6']],
  // One rule for every form: SOME tag satisfies the condition. A tag whose key is not "type":
  [{ $tagKey: { $nin: ['type'] } }, ['r1', 'r5', 'r6']],
  [{ $tagKey: { $ne: 'type' } }, ['r1', 'r5', 'r6']],
  [{ $tagKey: { $ne: 'floor' } }, ['r1', 'r4', 'r5', 'r6']],
  // … and "no tag named type" is the $ne wrapper around the positive condition.
  [{ $ne: { $tagKey: 'type' } }, ['r2', 'r3', 'r6']],
  [{ $tagValue: 'thermostat' }, ['r1']],
  [{ $tagValue: { $eq: 'thermostat', $ci: true } }, ['r1', 'r4']],
  [{ $tagValue: { $contains: 'thermostat' } }, ['r1', 'r6']],
  [{ $tagValue: { $endsWith: '-room' } }, ['r6']],
  [{ $tagValue: { $in: ['sensor', 'Thermostat'] } }, ['r4', 'r5']],
  [{ $tagValue: { $nin: ['1', '2'] } }, ['r1', 'r4', 'r5', 'r6']],
  [{ $tagKey: 'type', $tagValue: 'thermostat' }, ['r1']],
  [{ $tagKey: 'type', $tagValue: { $eq: 'thermostat', $ci: true } }, ['r1', 'r4']],
  [{ $tagKey: 'floor', $tagValue: '1' }, ['r1', 'r6']],
  // both sides on the SAME tag: r6 has location=… and floor=1, but no location=1
  [{ $tagKey: 'location', $tagValue: '1' }, []],
  [{ $tagKey: 'type', $tagValue: { $nin: ['thermostat'] } }, ['r4', 'r5']],
  [{ $tagKey: { $in: ['type', 'location'] }, $tagValue: { $startsWith: 'thermostat' } }, ['r1', 'r6']],
  [{ $tagKey: 'type', $tagValue: null }, ['r1', 'r4', 'r5']],
  [{ $tagKey: null }, ['r1', 'r4', 'r5', 'r6']],
  [{ $tagValue: null }, ['r1', 'r4', 'r5', 'r6']],
  [{ type: 'thermostat' }, ['r1']],
  [{ type: 'thermostat', floor: '1' }, ['r1']],
  [{ type: 'sensor', floor: '1' }, []],
  [{ floor: { $in: ['1', '2'] } }, ['r1', 'r5', 'r6']],
  // a pair is one tag too: a type tag whose value is not thermostat (r6 has no type tag)
  [{ type: { $nin: ['thermostat'] } }, ['r4', 'r5']],
  [{ type: { $ne: 'thermostat', $ci: true } }, ['r5']],
  [{ type: { $eq: 'THERMOSTAT', $ci: true } }, ['r1', 'r4']],
  // a bare null is "any value": has a type tag (Losant's `type=*`)
  [{ type: null }, ['r1', 'r4', 'r5']],
  [{ floor: null, type: { $startsWith: 's' } }, ['r5']],
  [null, ['r2', 'r3']],
  [{ $eq: null }, ['r2', 'r3']],
  [{ $ne: null }, ['r1', 'r4', 'r5', 'r6']],
  [{ $eq: { $tagKey: 'floor' } }, ['r1', 'r5', 'r6']],
  [{ $ne: { type: 'thermostat' } }, except('r1')],
  [{ $ne: { $tagKey: 'type', $tagValue: 'sensor' } }, except('r5')],
];

type ErrorCase = [condition: unknown, message: string];
/** `FIELD` stands for the field's name (deviceTags or tags) in the expected message. */
const ERRORS: ErrorCase[] = [
  ['type', 'query.FIELD: must be a non-empty object'],
  [{}, 'query.FIELD: must be a non-empty object'],
  [{ $tagKey: 'type', type: 'x' }, 'query.FIELD.type: cannot mix'],
  [{ $tagKey: 'type', $tagName: 'x' }, 'query.FIELD.$tagName: unknown operator "$tagName"'],
  [{ $tagName: 'x' }, 'query.FIELD.$tagName: unknown operator "$tagName"'],
  [{ 'bad key': 'x' }, 'query.FIELD["bad key"]: "bad key" is not a valid tag key'],
  [{ $tagKey: { $regex: 'x' } }, 'query.FIELD.$tagKey: unknown operator "$regex"'],
  [{ $tagKey: { $in: [null] } }, 'query.FIELD.$tagKey.$in[0]: null is not allowed here'],
  [{ type: { $eq: null } }, 'query.FIELD.type.$eq: null is not allowed here'],
  [{ $ne: 'x' }, 'query.FIELD.$ne: must be a non-empty object'],
  [{ $ne: { $eq: { type: 'x' } } }, 'query.FIELD.$ne: $ne cannot hold another $eq/$ne'],
  [JSON.parse('{"__proto__": "x"}'), 'query.FIELD.__proto__: the property name "__proto__" is not allowed'],
  [{ constructor: 'x' }, 'query.FIELD.constructor: the property name "constructor" is not allowed'],
];

describe.each(IMPLEMENTATIONS)('tag conditions: $name', ({ field, run }) => {
  it.each(CASES.map(([cond, want]) => ({ name: JSON.stringify(cond), cond, want })))('$name', ({ cond, want }) => {
    expect(run(cond)).toEqual(want);
  });

  it.each(ERRORS.map(([cond, msg]) => ({ name: JSON.stringify(cond), cond, msg })))(
    'refuses $name',
    ({ cond, msg }) => {
      const got = run(cond);
      expect(typeof got).toBe('string');
      expect(got).toContain(msg.replace('FIELD', field));
    },
  );

  it('refuses an own __proto__ property as JSON.parse creates it', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"type": "thermostat"}}');
    expect(run(parsed)).toContain(`query.${field}.__proto__: the property name "__proto__" is not allowed`);
  });
});

describe('tag conditions against access-key tag items with one side', () => {
  // An access key's deviceTags item may hold only a key (`floor=*`) or only a value (`*=2`).
  const oneSided: AccessKey[] = [
    { ...(KEYS[0] as AccessKey), id: hex(7), deviceTags: [{ key: 'floor' }] },
    { ...(KEYS[0] as AccessKey), id: hex(8), deviceTags: [{ value: '2' }] },
  ];
  const run = (cond: unknown): string[] => {
    const r = parseKeyQuery({ deviceTags: cond });
    if (!r.ok) throw new Error(r.error);
    return filterKeys(r.query, oneSided).map(label);
  };
  it.each([
    [{ $tagKey: 'floor' }, ['r7']],
    [{ floor: null }, ['r7']],
    [{ floor: '2' }, []],
    [{ $tagValue: '2' }, ['r8']],
    [{ $tagKey: null, $tagValue: '2' }, ['r8']],
    [{ $tagKey: { $ne: 'floor' } }, ['r8']],
    [{ $tagValue: { $ne: '2' } }, ['r7']],
  ] as [unknown, string[]][])('%j', (cond, want) => {
    expect(run(cond)).toEqual(want);
  });
});
