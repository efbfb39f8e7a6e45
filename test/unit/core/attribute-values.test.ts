// core/attribute-values.ts: state against declared attributes (https://docs.losant.com/devices/attributes/).
import { describe, expect, it } from 'vitest';
import { checkAttributes } from '../../../src-main/core/attribute-values.ts';
import type { DeviceAttribute } from '../../../src-main/core/types.ts';

const declared: DeviceAttribute[] = [
  { name: 'temp', dataType: 'number' },
  { name: 'label', dataType: 'string' },
  { name: 'on', dataType: 'boolean' },
  { name: 'where', dataType: 'gps' },
  { name: 'raw', dataType: 'blob' },
];

describe('checkAttributes', () => {
  it('accepts values of the declared types', () => {
    expect(
      checkAttributes(declared, { temp: 1, label: 'x', on: false, where: '-33.9, 151.2', raw: 'AA==' }),
    ).toBeNull();
  });
  it('no declared attributes: any state (legacy devices)', () => {
    expect(checkAttributes(undefined, { x: 1 })).toBeNull();
    expect(checkAttributes([], { x: 1 })).toBeNull();
  });
  it.each<[Record<string, unknown>, string]>([
    [{ humidity: 1 }, 'attribute "humidity" is not declared on this device'],
    [{ temp: 'hot' }, 'attribute "temp" is a number; got the string "hot"'],
    [{ label: 5 }, 'attribute "label" is a string; got the number 5'],
    [{ on: 'true' }, 'attribute "on" is a boolean; got the string "true"'],
    [{ temp: { v: 1 } }, 'attribute "temp" is a number; got an object'],
    [{ where: '91,0' }, 'latitude must be within ±90'],
    [{ where: 42 }, 'attribute "where" is a gps; it takes a "lat,lon" string, got the number 42'],
    [{ raw: 'abc' }, 'attribute "raw" is a blob; it takes a base64 string'],
  ])('refuses %j', (data, message) => {
    expect(checkAttributes(declared, data as never)).toContain(message);
  });
});
