import { describe, expect, it } from 'vitest';
import {
  QUERY_LIMITS,
  filterKeys,
  matchesKeyQuery,
  parseKeyQuery,
  type KeyQuery,
} from '../../../src-main/core/key-query.ts';
import { jsonErrorPosition, parseIsoDate } from '../../../src-main/core/advanced-query.ts';
import type { AccessKey } from '../../../src-main/core/types.ts';

// ---------------------------------------------------------------------------------------------
// Fixture: six varied keys. Labels k1..k6 are the last character of the id.

const D1 = 'bbbbbbbbbbbbbbbbbbbbbb01';
const D2 = 'bbbbbbbbbbbbbbbbbbbbbb02';
const D3 = 'bbbbbbbbbbbbbbbbbbbbbb03';
const id = (n: number): string => `aaaaaaaaaaaaaaaaaaaaaa0${n}`;
const uuid = (n: number): string => `${n}b8f5e2a-1c3d-4e5f-8a9b-00000000000${n}`;

const base: Pick<
  AccessKey,
  'status' | 'addressFilterType' | 'addresses' | 'filterType' | 'pubTopics' | 'subTopics' | 'createdVia'
> = {
  status: 'active',
  addressFilterType: 'all',
  addresses: [],
  filterType: 'none',
  pubTopics: [],
  subTopics: [],
  createdVia: 'keys-page',
};

const KEYS: AccessKey[] = [
  {
    ...base,
    id: id(1),
    key: uuid(1),
    name: 'Thermostat Floor 1',
    description: 'Living room thermostat',
    deviceTags: [
      { key: 'type', value: 'thermostat' },
      { key: 'floor', value: '1' },
    ],
    creationDate: '2024-01-10T08:00:00.000Z',
    lastUpdated: '2024-02-01T00:00:00.000Z',
  },
  {
    ...base,
    id: id(2),
    key: uuid(2),
    name: 'Gateway key',
    description: 'Edge gateway',
    status: 'inactive',
    deviceIds: [D1, D2],
    filterType: 'whitelist',
    pubTopics: ['sensors/+/temp', 'alerts/#'],
    subTopics: ['commands/#'],
    addressFilterType: 'whitelist',
    addresses: ['10.0.0.0/8', '192.168.1.5'],
    creationDate: '2024-03-05T12:00:00.000Z',
    lastUpdated: '2024-03-05T12:00:00.000Z',
    createdVia: 'api',
  },
  {
    // all-devices key without name or description
    ...base,
    id: id(3),
    key: uuid(3),
    filterType: 'all',
    creationDate: '2024-06-01T12:00:00.000Z',
    lastUpdated: '2024-07-01T00:00:00.000Z',
  },
  {
    ...base,
    id: id(4),
    key: uuid(4),
    name: 'THERMOSTAT backup',
    description: 'Backup key',
    status: 'inactive',
    deviceTags: [{ key: 'type', value: 'Thermostat' }],
    filterType: 'blacklist',
    pubTopics: ['secret/#'],
    addressFilterType: 'blacklist',
    addresses: ['203.0.113.7'],
    creationDate: '2024-09-15T00:00:00.000Z',
    lastUpdated: '2024-09-15T00:00:00.000Z',
  },
  {
    ...base,
    id: id(5),
    key: uuid(5),
    name: 'Sensor hub',
    description: 'Hub for sensors',
    deviceIds: [D3],
    deviceTags: [
      { key: 'type', value: 'sensor' },
      { key: 'floor', value: '2' },
    ],
    filterType: 'whitelist',
    pubTopics: ['sensors/#'],
    subTopics: ['sensors/#'],
    creationDate: '2025-01-01T00:00:00.000Z',
    lastUpdated: '2025-01-02T00:00:00.000Z',
  },
  {
    ...base,
    id: id(6),
    key: uuid(6),
    name: 'legacy',
    description: 'old device',
    deviceIds: [D1],
    deviceTags: [
      { key: 'location', value: 'thermostat-room' },
      { key: 'floor', value: '1' },
    ],
    creationDate: '2023-12-31T23:59:59.999Z',
    lastUpdated: '2024-01-01T00:00:00.000Z',
    createdVia: 'device-page',
  },
];
const ALL = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
const except = (...out: string[]): string[] => ALL.filter((k) => !out.includes(k));
const label = (k: AccessKey): string => `k${k.id.slice(-1)}`;

function compile(q: unknown): KeyQuery {
  const r = parseKeyQuery(q);
  if (!r.ok) throw new Error(`unexpected parse error: ${r.error}`);
  return r.query;
}
const run = (q: unknown): string[] => filterKeys(compile(q), KEYS).map(label);
function errorOf(q: unknown): string {
  const r = parseKeyQuery(q);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(q)}`);
  return r.error;
}

type Case = [query: unknown, expected: string[]];
const table = (cases: Case[]): { name: string; q: unknown; want: string[] }[] =>
  cases.map(([q, want]) => ({ name: JSON.stringify(q), q, want }));

// ---------------------------------------------------------------------------------------------

describe('comparison operators on string fields', () => {
  it.each(
    table([
      [{ status: 'active' }, ['k1', 'k3', 'k5', 'k6']],
      [{ status: { $eq: 'inactive' } }, ['k2', 'k4']],
      [{ status: { $ne: 'active' } }, ['k2', 'k4']],
      [{ status: { $eq: 'ACTIVE', $ci: true } }, ['k1', 'k3', 'k5', 'k6']],
      [{ name: 'Gateway key' }, ['k2']],
      [{ name: { $eq: 'gateway KEY' } }, []],
      [{ name: { $eq: 'gateway KEY', $ci: true } }, ['k2']],
      [{ name: { $ne: 'legacy' } }, except('k6')],
      [{ name: { $ne: 'LEGACY' } }, ALL],
      [{ name: { $ne: 'LEGACY', $ci: true } }, except('k6')],
      [{ name: { $gt: 'S' } }, ['k1', 'k4', 'k5', 'k6']],
      [{ name: { $lt: 'S' } }, ['k2']],
      [{ name: { $gte: 'Sensor hub' } }, ['k1', 'k4', 'k5', 'k6']],
      [{ name: { $lte: 'Sensor hub' } }, ['k2', 'k5']],
      [{ name: { $gt: 'G', $lt: 'T' } }, ['k2', 'k5']],
      [{ filterType: { $in: ['whitelist', 'blacklist'] } }, ['k2', 'k4', 'k5']],
      [{ filterType: { $nin: ['whitelist', 'blacklist'] } }, ['k1', 'k3', 'k6']],
      [{ addressFilterType: { $in: ['WHITELIST'], $ci: true } }, ['k2']],
      [{ name: { $in: ['legacy', 'GATEWAY KEY'] } }, ['k6']],
      [{ name: { $in: ['legacy', 'GATEWAY KEY'], $ci: true } }, ['k2', 'k6']],
      [{ name: { $nin: ['legacy', 'GATEWAY KEY'] } }, except('k6')],
      [{ name: { $nin: ['legacy', 'GATEWAY KEY'], $ci: true } }, ['k1', 'k3', 'k4', 'k5']],
      [{ name: { $in: [] } }, []],
      [{ name: { $startsWith: 'Therm' } }, ['k1']],
      [{ name: { $startsWith: 'therm', $ci: true } }, ['k1', 'k4']],
      [{ name: { $startsWith: 'therm', $ci: false } }, []],
      [{ description: { $endsWith: 'KEY' } }, []],
      [{ description: { $endsWith: 'KEY', $ci: true } }, ['k4']],
      [{ description: { $endsWith: 'thermostat' } }, ['k1']],
      [{ name: { $contains: 'therm' } }, []],
      [{ name: { $contains: 'therm', $ci: true } }, ['k1', 'k4']],
      [{ name: { $contains: 'O', $ci: true, $ne: 'legacy' } }, ['k1', 'k4', 'k5']],
      [{ id: id(3) }, ['k3']],
      [{ id: { $in: [id(1), id(5)] } }, ['k1', 'k5']],
      [{ key: uuid(4) }, ['k4']],
      [{ key: { $startsWith: '2B8F', $ci: true } }, ['k2']],
    ]),
  )('$name', ({ q, want }) => {
    expect(run(q)).toEqual(want);
  });
});

describe('missing optional fields (name, description)', () => {
  it.each(
    table([
      [{ name: null }, ['k3']],
      [{ name: { $eq: null } }, ['k3']],
      [{ name: { $ne: null } }, except('k3')],
      [{ name: { $in: [null, 'legacy'] } }, ['k3', 'k6']],
      [{ name: { $nin: [null] } }, except('k3')],
      [{ description: { $ne: 'Edge gateway' } }, except('k2')],
      [{ description: { $nin: ['Edge gateway'] } }, except('k2')],
      [{ description: { $startsWith: 'L' } }, ['k1']],
      [{ description: { $contains: 'e', $ci: true } }, except('k3')],
      [{ name: { $gte: '' } }, except('k3')],
      [{ name: { $lt: 'zzz' } }, except('k3')],
    ]),
  )('$name', ({ q, want }) => {
    expect(run(q)).toEqual(want);
  });
});

describe('array fields match when any element matches', () => {
  it.each(
    table([
      [{ pubTopics: 'sensors/#' }, ['k5']],
      [{ pubTopics: { $eq: 'SENSORS/#', $ci: true } }, ['k5']],
      [{ pubTopics: { $startsWith: 'sensors/' } }, ['k2', 'k5']],
      [{ pubTopics: { $ne: 'sensors/#' } }, except('k5')],
      [{ pubTopics: { $in: ['alerts/#', 'secret/#'] } }, ['k2', 'k4']],
      [{ pubTopics: { $nin: ['secret/#', 'alerts/#'] } }, ['k1', 'k3', 'k5', 'k6']],
      [{ pubTopics: { $gt: 'sensors/' } }, ['k2', 'k5']],
      [{ pubTopics: { $startsWith: 'sensors', $ne: 'sensors/#' } }, ['k2']],
      [{ pubTopics: null }, ['k1', 'k3', 'k6']],
      [{ pubTopics: { $ne: null } }, ['k2', 'k4', 'k5']],
      [{ subTopics: { $contains: '#' } }, ['k2', 'k5']],
      [{ subTopics: { $endsWith: '/#' } }, ['k2', 'k5']],
      [{ deviceIds: D1 }, ['k2', 'k6']],
      [{ deviceIds: { $in: [D3, D2] } }, ['k2', 'k5']],
      [{ deviceIds: { $nin: [D1] } }, ['k1', 'k3', 'k4', 'k5']],
      [{ deviceIds: null }, ['k1', 'k3', 'k4']],
      [{ addresses: { $startsWith: '10.' } }, ['k2']],
      [{ addresses: '203.0.113.7' }, ['k4']],
      [{ addresses: { $contains: ':' } }, []],
    ]),
  )('$name', ({ q, want }) => {
    expect(run(q)).toEqual(want);
  });
});

describe('dates compare as time values', () => {
  it.each(
    table([
      [{ creationDate: '2024-03-05T12:00:00Z' }, ['k2']],
      [{ creationDate: '2024-03-05T14:00:00+02:00' }, ['k2']],
      [{ creationDate: Date.parse('2024-03-05T12:00:00Z') }, ['k2']],
      [{ creationDate: { $date: '2024-06-01T14:00:00.000+02:00' } }, ['k3']],
      [{ creationDate: { $eq: { $date: 1735689600000 } } }, ['k5']],
      [{ creationDate: { $ne: '2024-03-05T12:00:00Z' } }, except('k2')],
      [{ creationDate: { $gt: '2024-06-01T12:00:00.000Z' } }, ['k4', 'k5']],
      [{ creationDate: { $gte: '2024-06-01T12:00:00Z' } }, ['k3', 'k4', 'k5']],
      [{ creationDate: { $lt: 1704067200000 } }, ['k6']],
      [{ creationDate: { $lte: { $date: '2024-01-10T08:00:00.000Z' } } }, ['k1', 'k6']],
      [{ creationDate: { $gte: '2024-01-01', $lt: '2024-06-01' } }, ['k1', 'k2']],
      [{ creationDate: { $in: ['2024-03-05T12:00:00Z', 1735689600000] } }, ['k2', 'k5']],
      [{ creationDate: { $nin: ['2024-03-05T12:00:00Z', { $date: 1735689600000 }] } }, ['k1', 'k3', 'k4', 'k6']],
      [{ creationDate: { $startsWith: '2024-0' } }, ['k1', 'k2', 'k3', 'k4']],
      [{ creationDate: null }, []],
      [{ lastUpdated: { $gt: '2024-08-01' } }, ['k4', 'k5']],
      [{ lastUpdated: { $lt: { $date: '2024-02-01T00:00:00Z' } } }, ['k6']],
    ]),
  )('$name', ({ q, want }) => {
    expect(run(q)).toEqual(want);
  });

  it('parses ISO strictly (no rollover, offsets applied, no offset = UTC)', () => {
    expect(parseIsoDate('2024-02-30')).toBeUndefined();
    expect(parseIsoDate('2024-13-01')).toBeUndefined();
    expect(parseIsoDate('2024-01-01T24:00:00Z')).toBeUndefined();
    expect(parseIsoDate('March 7, 2024')).toBeUndefined();
    expect(parseIsoDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoDate('2024-01-01T10:00')).toBe(Date.UTC(2024, 0, 1, 10));
    expect(parseIsoDate('2024-01-01T10:00:00.5-0130')).toBe(Date.UTC(2024, 0, 1, 11, 30, 0, 500));
  });
});

describe('logical operators', () => {
  it.each(
    table([
      [{}, ALL],
      [{ $or: [{ name: 'legacy' }, { status: 'inactive' }] }, ['k2', 'k4', 'k6']],
      [{ $and: [{ status: 'active' }, { filterType: 'whitelist' }] }, ['k5']],
      [{ $nor: [{ status: 'inactive' }, { filterType: 'none' }] }, ['k3', 'k5']],
      [{ status: 'active', filterType: 'none' }, ['k1', 'k6']],
      [{ status: 'active', $or: [{ name: { $contains: 'hub' } }, { name: null }] }, ['k3', 'k5']],
      [
        {
          $or: [
            { $and: [{ status: 'inactive' }, { pubTopics: 'secret/#' }] },
            { $nor: [{ deviceTags: { $tagKey: 'floor' } }] },
          ],
        },
        ['k2', 'k3', 'k4'],
      ],
      [
        {
          $and: [
            { $or: [{ name: { $startsWith: 'T', $ci: true } }, { name: 'legacy' }] },
            { $nor: [{ status: 'inactive' }] },
          ],
        },
        ['k1', 'k6'],
      ],
      [{ $or: [{ id: id(1) }], $and: [{ id: id(2) }] }, []],
    ]),
  )('$name', ({ q, want }) => {
    expect(run(q)).toEqual(want);
  });
});

describe('input forms and API', () => {
  it('accepts a JSON string', () => {
    expect(filterKeys(compile('{"status": "active", "name": {"$contains": "o"}}'), KEYS).map(label)).toEqual([
      'k1',
      'k5',
    ]);
  });

  it('exposes the parsed source and matches one key', () => {
    const q = compile({ name: { $contains: 'therm', $ci: true } });
    expect(q.source).toEqual({ name: { $contains: 'therm', $ci: true } });
    expect(KEYS.map((k) => matchesKeyQuery(q, k))).toEqual([true, false, false, true, false, false]);
  });

  it('filterKeys keeps the element type and order', () => {
    const records = KEYS.map((k) => ({ ...k, secretVerifier: `v-${k.id}` }));
    const out = filterKeys(compile({ status: 'inactive' }), records);
    expect(out.map((r) => r.secretVerifier)).toEqual([`v-${id(2)}`, `v-${id(4)}`]);
  });

  it('does not depend on the input object after parsing', () => {
    const input = { status: { $in: ['active'] } };
    const q = compile(input);
    input.status.$in.push('inactive');
    expect(filterKeys(q, KEYS).map(label)).toEqual(['k1', 'k3', 'k5', 'k6']);
    expect(q.source).toEqual({ status: { $in: ['active'] } });
  });

  it('ignores object properties whose value is undefined (as JSON would)', () => {
    const q = compile({
      status: 'inactive',
      name: undefined,
      $or: [{ description: undefined, filterType: 'blacklist' }],
    });
    expect(filterKeys(q, KEYS).map(label)).toEqual(['k4']);
    expect(q.source).toEqual({ status: 'inactive', $or: [{ filterType: 'blacklist' }] });
  });
});

describe('errors name the bad part', () => {
  const deep = (levels: number): unknown => {
    let q: unknown = { status: 'active' };
    for (let i = 0; i < levels; i++) q = { $and: [q] };
    return q;
  };
  const cyclic: Record<string, unknown> = { $and: [] };
  (cyclic['$and'] as unknown[]).push(cyclic);

  it.each(
    (
      [
        [
          { $or: [{ status: 'active' }, { name: { $regex: 'x' } }] },
          'query.$or[1].name: unknown operator "$regex" (allowed: $eq, $ne, $gt, $lt, $gte, $lte, $in, $nin, $startsWith, $endsWith, $contains, $ci)',
        ],
        [
          { colour: 'red' },
          'query.colour: unknown field "colour" (allowed: id, creationDate, lastUpdated, status, deviceIds, deviceTags, key, name, description, filterType, pubTopics, subTopics, addressFilterType, addresses)',
        ],
        [{ 'colour code': 'red' }, 'query["colour code"]: unknown field "colour code"'],
        [{ $not: { status: 'active' } }, 'query.$not: unknown operator "$not" (allowed here: $and, $or, $nor)'],
        [{ $and: [] }, 'query.$and: must be a non-empty array'],
        [{ $or: { status: 'active' } }, 'query.$or: must be a non-empty array'],
        [{ $nor: 'x' }, 'query.$nor: must be a non-empty array'],
        [{ $or: [{ status: 'active' }, 'x'] }, 'query.$or[1]: must be a query object'],
        [
          { $and: [{ $or: [{ name: { $eq: 'a' } }, { name: { $foo: 1 } }] }] },
          'query.$and[0].$or[1].name: unknown operator "$foo"',
        ],
        [{ creationDate: { $gt: 'yesterday' } }, 'query.creationDate.$gt: "yesterday" is not a date'],
        [{ creationDate: '2024-02-30' }, 'query.creationDate: "2024-02-30" is not a date'],
        [{ lastUpdated: true }, 'query.lastUpdated: true is not a date'],
        [{ creationDate: { $in: ['2024-01-01', 'nope'] } }, 'query.creationDate.$in[1]: "nope" is not a date'],
        [{ creationDate: { $lt: { $date: 'soon' } } }, 'query.creationDate.$lt.$date: "soon" is not a date'],
        [{ creationDate: { $date: true } }, 'query.creationDate: {"$date":true} is not a date'],
        [{ status: { $in: 'active' } }, 'query.status.$in: must be an array'],
        [{ deviceIds: { $nin: {} } }, 'query.deviceIds.$nin: must be an array'],
        [
          { name: { $ci: true } },
          'query.name.$ci: only allowed next to $eq/$ne/$in/$nin/$startsWith/$endsWith/$contains',
        ],
        [
          { name: { $gt: 'a', $ci: true } },
          'query.name.$ci: only allowed next to $eq/$ne/$in/$nin/$startsWith/$endsWith/$contains',
        ],
        [{ name: { $eq: 'a', $ci: 'yes' } }, 'query.name.$ci: must be true or false'],
        [{ status: 'actve' }, 'query.status: "actve" is not a valid value (allowed: active, inactive)'],
        [
          { filterType: { $in: ['all', 'some'] } },
          'query.filterType.$in[1]: "some" is not a valid value (allowed: none, all, whitelist, blacklist)',
        ],
        [{ name: 5 }, 'query.name: must be a string or null (got 5)'],
        [{ name: { $in: ['a', false] } }, 'query.name.$in[1]: must be a string or null'],
        [{ name: ['a'] }, 'query.name: an array is not allowed here; use {"$in": [...]}'],
        [{ name: {} }, 'query.name: empty operator object'],
        [{ name: { $startsWith: '' } }, 'query.name.$startsWith: must be a non-empty string'],
        [{ name: { $contains: 3 } }, 'query.name.$contains: must be a non-empty string'],
        [{ name: { $gt: null } }, 'query.name.$gt: must be a string'],
        [{ $or: [{ creationDate: new Date(0) }] }, 'query.$or[0].creationDate: not a JSON value'],
        [{ name: { $in: ['a', undefined] } }, 'query.name.$in[1]: not a JSON value'],
        [{ name: Number.NaN }, 'query.name: NaN is not a JSON number'],
        [[], 'query: must be a JSON object (got an array)'],
        [null, 'query: must be a JSON object (got null)'],
        [42, 'query: must be a JSON object (got number 42)'],
        ['"status"', 'query: must be a JSON object (got the string "status")'],
        ['{"name": }', 'query: invalid JSON at position 9'],
        ['{"status": "active"', 'query: invalid JSON at position 19'],
        ['{"a": 1} x', 'query: invalid JSON at position 9'],
        ['', 'query: invalid JSON at position 0'],
        [deep(20), 'nested deeper than 32 levels'],
        [deep(20), 'query.$and[0].$and[0].$and[0]'],
        [cyclic, 'nested deeper than 32 levels'],
        [
          { id: { $in: Array.from({ length: QUERY_LIMITS.maxNodes }, (_, i) => `id${i}`) } },
          'query: too large: more than 1000 JSON values',
        ],
      ] as [unknown, string][]
    ).map(([q, message]) => ({ q, message })),
  )('$message', ({ q, message }) => {
    expect(errorOf(q)).toContain(message);
  });

  it('accepts queries up to the limits', () => {
    expect(run(deep(15))).toEqual(['k1', 'k3', 'k5', 'k6']);
    expect(
      run({ id: { $in: Array.from({ length: QUERY_LIMITS.maxNodes - 4 }, (_, i) => (i === 0 ? id(2) : `id${i}`)) } }),
    ).toEqual(['k2']);
  });

  it.each([
    ['{"a": tru}', 6],
    ['{"a": [1, 2,]}', 12],
    ['{"a": "x\\q"}', 8],
    ['{a: 1}', 1],
    ['{"a" 1}', 5],
    ['[1}', 2],
  ])('jsonErrorPosition(%s) = %i', (text, pos) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorPosition(text)).toBe(pos);
  });
});
