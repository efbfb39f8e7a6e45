import { describe, expect, it } from 'vitest';
import {
  parseAttrArg,
  LIMITS,
  TAG_KEY_PATTERN,
  formatErrors,
  parseTagArg,
  parseTagMatchArg,
  validateDeviceInput,
  validateKeyInput,
  validateKeyPatch,
  validateTags,
} from '../../../src-main/core/validation.ts';
import type { AddressFilterType, FieldError, Result } from '../../../src-main/core/types.ts';
import { hexId } from '../../helpers/core-fixtures.ts';

const s = (n: number, ch = 'x'): string => ch.repeat(n);
const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
const ids = (n: number) => Array.from({ length: n }, (_, i) => hexId(i + 1));

function errorsOf<T>(r: Result<T>): FieldError[] {
  return r.ok ? [] : r.errors;
}

/** The result failed, with an error on `field` whose message contains `text`; every error names a field. */
function expectError<T>(r: Result<T>, field: string, text: string): void {
  expect(r.ok).toBe(false);
  const errors = errorsOf(r);
  for (const e of errors) {
    expect(typeof e.field).toBe('string');
    expect(e.field.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(0);
  }
  const hit = errors.find((e) => e.field === field);
  expect(hit, `no error on ${field}; got ${JSON.stringify(errors)}`).toBeDefined();
  expect(hit!.message).toContain(text);
}

describe('validateDeviceInput', () => {
  it.each<[string, Record<string, unknown>]>([
    ['name of 1', { name: 'a' }],
    ['name of 255', { name: s(255) }],
    ['every field', { name: 'n', description: 'd', tags: [{ key: 'a-B_9', value: 'v' }], deviceClass: 'standalone' }],
    ['empty description', { name: 'n', description: '' }],
    ['description of 32767', { name: 'n', description: s(32767) }],
    ['tag key of 255', { name: 'n', tags: [{ key: s(255, 'k'), value: 'v' }] }],
    ['tag value of 255', { name: 'n', tags: [{ key: 'k', value: s(255) }] }],
    [
      'a repeated tag key',
      {
        name: 'n',
        tags: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      },
    ],
    ['tag value with spaces and symbols', { name: 'n', tags: [{ key: 'k', value: 'a b=c/é' }] }],
    ['class gateway', { name: 'n', deviceClass: 'gateway' }],
    ['class system', { name: 'n', deviceClass: 'system' }],
    ['peripheral without gateway', { name: 'n', deviceClass: 'peripheral' }],
    ['peripheral with gateway', { name: 'n', deviceClass: 'peripheral', gatewayId: hexId(1) }],
  ])('accepts %s', (_what, input) => {
    const r = validateDeviceInput(input);
    expect(errorsOf(r)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', 'device', 'body', 'JSON object'],
    ['an array', [], 'body', 'JSON object'],
    ['null', null, 'body', 'JSON object'],
    ['no name', {}, 'name', 'name is required'],
    ['name of 0', { name: '' }, 'name', '1-255'],
    ['name of 256', { name: s(256) }, 'name', '1-255'],
    ['name not a string', { name: 42 }, 'name', 'must be a string'],
    ['description of 32768', { name: 'n', description: s(32768) }, 'description', '32767'],
    ['tags not an array', { name: 'n', tags: { key: 'a', value: 'b' } }, 'tags', 'array'],
    ['tag not an object', { name: 'n', tags: ['a=b'] }, 'tags[0]', 'object'],
    ['tag key with a space', { name: 'n', tags: [{ key: 'a b', value: 'v' }] }, 'tags[0].key', 'letters, digits'],
    [
      'tag key with a dot',
      {
        name: 'n',
        tags: [
          { key: 'ok', value: 'v' },
          { key: 'a.b', value: 'v' },
        ],
      },
      'tags[1].key',
      'letters, digits',
    ],
    ['empty tag key', { name: 'n', tags: [{ key: '', value: 'v' }] }, 'tags[0].key', '1-255'],
    ['tag key of 256', { name: 'n', tags: [{ key: s(256, 'k'), value: 'v' }] }, 'tags[0].key', '1-255'],
    ['tag key missing', { name: 'n', tags: [{ value: 'v' }] }, 'tags[0].key', 'letters'],
    ['empty tag value', { name: 'n', tags: [{ key: 'k', value: '' }] }, 'tags[0].value', '1-255'],
    ['tag value of 256', { name: 'n', tags: [{ key: 'k', value: s(256) }] }, 'tags[0].value', '1-255'],
    ['tag value a number', { name: 'n', tags: [{ key: 'k', value: 5 }] }, 'tags[0].value', 'string'],
    ['tag with an unknown field', { name: 'n', tags: [{ key: 'k', value: 'v', extra: 1 }] }, 'tags[0]', 'extra'],
    ['unknown field', { name: 'n', color: 'red' }, 'color', 'unknown field "color"'],
    ['id is not settable', { name: 'n', id: hexId(1) }, 'id', 'unknown field'],
    [
      'bad class',
      { name: 'n', deviceClass: 'router' },
      'deviceClass',
      'standalone, gateway, peripheral, floating, edgeCompute, embedded, system',
    ],
    ['class in upper case', { name: 'n', deviceClass: 'Gateway' }, 'deviceClass', 'one of'],
    [
      'gatewayId not an id',
      { name: 'n', deviceClass: 'peripheral', gatewayId: 'gw-1' },
      'gatewayId',
      '24 lowercase hex',
    ],
    [
      'gatewayId on a standalone',
      { name: 'n', deviceClass: 'standalone', gatewayId: hexId(1) },
      'gatewayId',
      'only for devices of class peripheral',
    ],
    [
      'gatewayId on a gateway',
      { name: 'n', deviceClass: 'gateway', gatewayId: hexId(1) },
      'gatewayId',
      'only for devices of class peripheral',
    ],
    [
      'gatewayId with no class (created as standalone)',
      { name: 'n', gatewayId: hexId(1) },
      'gatewayId',
      'only for devices of class peripheral',
    ],
  ])('rejects %s', (_what, input, field, text) => {
    expectError(validateDeviceInput(input), field, text);
  });

  it('reports every problem at once, each naming its field', () => {
    const r = validateDeviceInput({ name: '', deviceClass: 'x', tags: [{ key: '!', value: '' }], zzz: 1 });
    expect(
      errorsOf(r)
        .map((e) => e.field)
        .sort(),
    ).toEqual(['deviceClass', 'name', 'tags[0].key', 'tags[0].value', 'zzz']);
  });

  it('partial (update): nothing is required; the gateway/class pairing is left to the caller who knows the device', () => {
    expect(validateDeviceInput({}, true).ok).toBe(true);
    expect(validateDeviceInput({ description: 'x' }, true).ok).toBe(true);
    expect(validateDeviceInput({ gatewayId: hexId(1) }, true).ok).toBe(true);
    expectError(validateDeviceInput({ name: '' }, true), 'name', '1-255');
    expectError(
      validateDeviceInput({ gatewayId: hexId(1), deviceClass: 'standalone' }, true),
      'gatewayId',
      'peripheral',
    );
  });
});

describe('validateTags / TAG_KEY_PATTERN / parseTagArg', () => {
  it('enforces the count given', () => {
    expect(validateTags('deviceTags', tags(3), 3)).toEqual([]);
    const errors = validateTags('deviceTags', tags(4), 3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ field: 'deviceTags' });
    expect(errors[0]!.message).toContain('at most 3');
  });

  it.each([
    ['abc', true],
    ['A_b-9', true],
    ['a b', false],
    ['a.b', false],
    ['ä', false],
    ['', false],
    [s(255, 'k'), true],
    [s(256, 'k'), false],
  ])('TAG_KEY_PATTERN %j → %s', (key, ok) => {
    expect(TAG_KEY_PATTERN.test(key)).toBe(ok);
  });

  it.each([
    ['room=kitchen', { key: 'room', value: 'kitchen' }],
    ['expr=a=b', { key: 'expr', value: 'a=b' }],
    ['k=', { key: 'k', value: '' }],
    ['=v', null],
    ['novalue', null],
  ])('parseTagArg(%j)', (text, tag) => {
    expect(parseTagArg(text)).toEqual(tag);
  });

  it.each([
    ['room=kitchen', { key: 'room', value: 'kitchen' }],
    ['expr=a=b', { key: 'expr', value: 'a=b' }],
    ['room', { key: 'room' }],
    ['room=', { key: 'room' }],
    ['=kitchen', { value: 'kitchen' }],
    ['==x', { value: '=x' }],
    ['=', null],
    ['', null],
  ])('parseTagMatchArg(%j) (keys create --tag)', (text, item) => {
    expect(parseTagMatchArg(text)).toEqual(item);
  });

  it('device tags need both sides; key restriction items may have one', () => {
    expect(validateTags('tags', [{ key: 'room' }], 10).map((e) => e.field)).toEqual(['tags[0].value']);
    expect(validateTags('deviceTags', [{ key: 'room' }, { value: '2' }], 10, true)).toEqual([]);
  });
});

describe('validateKeyInput', () => {
  it.each<[string, Record<string, unknown>]>([
    ['nothing (all devices, all defaults)', {}],
    ['name of 1 and of 255', { name: s(255) }],
    ['description of 32767', { description: s(32767) }],
    ['status inactive', { status: 'inactive' }],
    ['1000 deviceIds', { deviceIds: ids(1000) }],
    ['100 deviceTags', { deviceTags: tags(100) }],
    ['ids and tags', { deviceIds: [hexId(1)], deviceTags: [{ key: 'room', value: 'kitchen' }] }],
    ['a key-only and a value-only tag item', { deviceTags: [{ key: 'room' }, { value: 'kitchen' }] }],
    [
      'whitelist with v4, v6 and CIDRs',
      { addressFilterType: 'whitelist', addresses: ['10.0.0.1', '10.0.0.0/8', '2001:db8::/32', '::1'] },
    ],
    ['blacklist', { addressFilterType: 'blacklist', addresses: ['192.0.2.0/24'] }],
    ['addressFilterType all with no list', { addressFilterType: 'all' }],
    ['topic whitelist', { filterType: 'whitelist', pubTopics: ['sensors/+/temp'], subTopics: ['cmd/#', '+'] }],
    ['topic blacklist', { filterType: 'blacklist', pubTopics: ['#'], subTopics: [] }],
    ['every createdVia', { createdVia: 'device-page' }],
  ])('accepts %s', (_what, input) => {
    const r = validateKeyInput(input);
    expect(errorsOf(r)).toEqual([]);
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', 'key', 'body', 'JSON object'],
    ['name of 0', { name: '' }, 'name', '1-255'],
    ['name of 256', { name: s(256) }, 'name', '1-255'],
    ['description of 32768', { description: s(32768) }, 'description', '32767'],
    ['bad status', { status: 'paused' }, 'status', 'active, inactive'],
    ['deviceIds not an array', { deviceIds: hexId(1) }, 'deviceIds', 'array'],
    ['1001 deviceIds', { deviceIds: ids(1001) }, 'deviceIds', 'at most 1000'],
    ['a bad device id', { deviceIds: [hexId(1), 'ABC'] }, 'deviceIds[1]', '24 lowercase hex'],
    ['an upper-case device id', { deviceIds: ['A' + hexId(1).slice(1)] }, 'deviceIds[0]', 'device id'],
    ['101 deviceTags', { deviceTags: tags(101) }, 'deviceTags', 'at most 100'],
    ['deviceTags not an array', { deviceTags: 'room=kitchen' }, 'deviceTags', 'array'],
    ['a bad deviceTags key', { deviceTags: [{ key: 'a b', value: 'v' }] }, 'deviceTags[0].key', 'letters'],
    ['an empty deviceTags value', { deviceTags: [{ key: 'a', value: '' }] }, 'deviceTags[0].value', '1-255'],
    ['a deviceTags item with neither side', { deviceTags: [{}] }, 'deviceTags[0]', 'a key, a value or both'],
    ['a value-only item with a bad value', { deviceTags: [{ value: 7 }] }, 'deviceTags[0].value', '1-255'],
    ['a key-only item with a bad key', { deviceTags: [{ key: 'a b' }] }, 'deviceTags[0].key', 'letters'],
    ['bad filterType', { filterType: 'some' }, 'filterType', 'none, all, whitelist, blacklist'],
    ['pubTopics not an array', { pubTopics: 'a/b' }, 'pubTopics', 'array'],
    ['pubTopics with $SYS', { filterType: 'whitelist', pubTopics: ['ok/x', '$SYS/#'] }, 'pubTopics[1]', 'system topic'],
    ['subTopics with losant/', { filterType: 'whitelist', subTopics: ['losant/+/state'] }, 'subTopics[0]', 'reserved'],
    [
      'subTopics with a bad wildcard',
      { filterType: 'blacklist', subTopics: ['a/#/b'] },
      'subTopics[0]',
      'not a valid MQTT topic filter',
    ],
    ['pubTopics with an empty rule', { pubTopics: [''] }, 'pubTopics[0]', 'empty'],
    ['101 pubTopics', { pubTopics: Array.from({ length: 101 }, (_, i) => `t/${i}`) }, 'pubTopics', 'at most 100'],
    ['bad addressFilterType', { addressFilterType: 'deny' }, 'addressFilterType', 'all, whitelist, blacklist'],
    ['whitelist with no addresses', { addressFilterType: 'whitelist' }, 'addresses', 'at least one'],
    ['blacklist with an empty list', { addressFilterType: 'blacklist', addresses: [] }, 'addresses', 'at least one'],
    ['addresses with type all', { addresses: ['10.0.0.1'] }, 'addresses', 'must be empty'],
    ['a bad CIDR prefix', { addressFilterType: 'whitelist', addresses: ['10.0.0.0/33'] }, 'addresses[0]', 'prefix'],
    [
      'a host name',
      { addressFilterType: 'whitelist', addresses: ['10.0.0.1', 'example.com'] },
      'addresses[1]',
      'not a valid IP address',
    ],
    [
      'a leading-zero IPv4',
      { addressFilterType: 'blacklist', addresses: ['010.0.0.1'] },
      'addresses[0]',
      'leading zeros',
    ],
    ['addresses not an array', { addressFilterType: 'whitelist', addresses: '10.0.0.1' }, 'addresses', 'array'],
    [
      '101 addresses',
      { addressFilterType: 'whitelist', addresses: Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`) },
      'addresses',
      'at most 100',
    ],
    ['bad createdVia', { createdVia: 'web' }, 'createdVia', 'keys-page'],
    ['a secret cannot be supplied', { secret: 'a'.repeat(64) }, 'secret', 'unknown field'],
    ['a verifier cannot be supplied', { secretVerifier: 'x' }, 'secretVerifier', 'unknown field'],
    ['the key cannot be supplied', { key: '3b241101-e2bb-4255-8caf-4136c566a962' }, 'key', 'unknown field'],
  ])('rejects %s', (_what, input, field, text) => {
    expectError(validateKeyInput(input), field, text);
  });

  it('reports several problems, each naming its field', () => {
    const r = validateKeyInput({
      name: '',
      filterType: 'x',
      pubTopics: ['$a'],
      addressFilterType: 'whitelist',
      addresses: ['nope'],
    });
    expect(
      errorsOf(r)
        .map((e) => e.field)
        .sort(),
    ).toEqual(['addresses[0]', 'filterType', 'name', 'pubTopics[0]']);
  });
});

describe('validateKeyPatch', () => {
  const open = { addressFilterType: 'all' as AddressFilterType, addresses: [] as string[] };
  const listed = { addressFilterType: 'whitelist' as AddressFilterType, addresses: ['10.0.0.0/8'] };

  it.each<[string, Record<string, unknown>, typeof open]>([
    ['nothing', {}, open],
    ['status', { status: 'inactive' }, open],
    ['name and description', { name: 'n', description: '' }, open],
    ['topic rules', { filterType: 'whitelist', pubTopics: ['a/#'], subTopics: ['b/+'] }, open],
    ['switch to whitelist with addresses', { addressFilterType: 'whitelist', addresses: ['10.0.0.1'] }, open],
    ['new addresses for the current whitelist', { addresses: ['192.0.2.0/24'] }, listed],
    ['whitelist → blacklist keeping the addresses', { addressFilterType: 'blacklist' }, listed],
    ['back to all (addresses dropped)', { addressFilterType: 'all' }, listed],
  ])('accepts %s', (_what, patch, current) => {
    expect(errorsOf(validateKeyPatch(patch, current))).toEqual([]);
  });

  it.each<[string, unknown, typeof open, string, string]>([
    ['deviceIds', { deviceIds: [hexId(1)] }, open, 'deviceIds', 'cannot be changed after'],
    ['deviceIds emptied', { deviceIds: [] }, open, 'deviceIds', 'cannot be changed after'],
    ['deviceTags', { deviceTags: [{ key: 'a', value: 'b' }] }, open, 'deviceTags', 'cannot be changed after'],
    ['createdVia', { createdVia: 'cli' }, open, 'createdVia', 'unknown field'],
    ['not an object', [1], open, 'body', 'JSON object'],
    ['name of 0', { name: '' }, open, 'name', '1-255'],
    ['bad status', { status: 'on' }, open, 'status', 'active, inactive'],
    ['bad filterType', { filterType: 'nope' }, open, 'filterType', 'one of'],
    ['bad pubTopics rule', { pubTopics: ['losant/x'] }, open, 'pubTopics[0]', 'reserved'],
    [
      'whitelist with no addresses (current all)',
      { addressFilterType: 'whitelist' },
      open,
      'addresses',
      'at least one',
    ],
    ['addresses while the current type is all', { addresses: ['10.0.0.1'] }, open, 'addresses', 'must be empty'],
    ['emptying the current whitelist', { addresses: [] }, listed, 'addresses', 'at least one'],
    ['a bad address', { addresses: ['10.0.0.256'] }, listed, 'addresses[0]', 'not a valid IP'],
  ])('rejects %s', (_what, patch, current, field, text) => {
    expectError(validateKeyPatch(patch, current), field, text);
  });

  it('a patch touching the device restriction gets exactly one error per field (not also "unknown field")', () => {
    const errors = errorsOf(validateKeyPatch({ deviceIds: [hexId(1)], deviceTags: [] }, open));
    expect(errors.map((e) => e.field)).toEqual(['deviceIds', 'deviceTags']);
  });
});

describe('LIMITS / formatErrors', () => {
  it('matches docs/design.md §2', () => {
    expect(LIMITS).toMatchObject({ name: 255, description: 32767, deviceIds: 1000, deviceTags: 100, tagValue: 255 });
  });

  it('joins every message on one line', () => {
    const r = validateKeyInput({ name: '', status: 'x' });
    const text = formatErrors(errorsOf(r));
    expect(text).not.toContain('\n');
    expect(text).toContain('name');
    expect(text).toContain('status');
  });
});

describe('declared attributes and device classes (issue 14 item 4)', () => {
  it.each(['standalone', 'gateway', 'peripheral', 'floating', 'edgeCompute', 'embedded', 'system'])(
    'accepts class %s',
    (deviceClass) => {
      expect(validateDeviceInput({ name: 'n', deviceClass }).ok).toBe(true);
    },
  );
  it('accepts declared attributes of every data type', () => {
    const attributes = ['number', 'string', 'boolean', 'gps', 'blob'].map((dataType, i) => ({
      name: `a${i}`,
      dataType,
    }));
    expect(validateDeviceInput({ name: 'n', attributes }).ok).toBe(true);
  });
  it.each<[string, unknown, string, string]>([
    ['not an array', { temp: 'number' }, 'attributes', 'must be an array of {name, dataType}'],
    ['an item not an object', ['temp'], 'attributes[0]', 'must be an object {name, dataType}'],
    ['a bad name', [{ name: 'a b', dataType: 'number' }], 'attributes[0].name', 'letters, digits'],
    ['a missing name', [{ dataType: 'number' }], 'attributes[0].name', 'letters, digits'],
    [
      'a bad data type',
      [{ name: 't', dataType: 'int' }],
      'attributes[0].dataType',
      'number, string, boolean, gps, blob',
    ],
    ['an unknown field', [{ name: 't', dataType: 'number', unit: 'C' }], 'attributes[0]', 'unit'],
    [
      'a name declared twice',
      [
        { name: 't', dataType: 'number' },
        { name: 't', dataType: 'string' },
      ],
      'attributes[1].name',
      'already declared at attributes[0]',
    ],
  ])('rejects attributes with %s', (_what, attributes, field, text) => {
    expectError(validateDeviceInput({ name: 'n', attributes }), field, text);
  });
  it('parses --attr name:type (type defaults to number) and refuses an unknown type', () => {
    expect(parseAttrArg('temp:number')).toEqual({ name: 'temp', dataType: 'number' });
    expect(parseAttrArg('where:gps')).toEqual({ name: 'where', dataType: 'gps' });
    expect(parseAttrArg('count')).toEqual({ name: 'count', dataType: 'number' });
    expect(parseAttrArg('t:int')).toContain('must be one of number, string, boolean, gps, blob');
  });
});
