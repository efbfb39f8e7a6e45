// The Losant shapes of a device (losant-rest lib/schemas/device.json) and the device history
// reads (device.getState / device.getCommand: limit, since, sortDirection), without sockets.
import { describe, expect, it } from 'vitest';
import type { Device } from '../../../src-main/core/types.ts';
import { parseHistoryParams, selectHistory } from '../../../src-main/server/losant-api/history-params.ts';
import { readNestedQuery, tagFilterParam } from '../../../src-main/server/losant-api/query-params.ts';
import { deviceToLosant } from '../../../src-main/server/losant-api/shapes.ts';

const base: Device = {
  id: 'a'.repeat(24),
  name: 'd',
  description: '',
  tags: [],
  deviceClass: 'standalone',
  creationDate: '2030-01-01T00:00:00.000Z',
  lastUpdated: '2030-01-01T00:00:00.000Z',
};

describe('deviceToLosant', () => {
  it('carries declared attributes (name, dataType, description) when the device has them', () => {
    const withAttrs = {
      ...base,
      attributes: [
        { name: 'temp', dataType: 'number', description: 'room' },
        { name: 'on', dataType: 'boolean' },
      ],
    } as Device;
    expect(deviceToLosant(withAttrs, 'b'.repeat(24)).attributes).toEqual([
      { name: 'temp', dataType: 'number', description: 'room' },
      { name: 'on', dataType: 'boolean' },
    ]);
    expect(deviceToLosant(base, 'b'.repeat(24)).attributes).toEqual([]);
  });

  it("reports connectionInfo as Losant's {connected: 1|0|null, time}", () => {
    expect(deviceToLosant(base, 'b'.repeat(24)).connectionInfo).toEqual({ connected: null });
    const on = {
      ...base,
      connectionStatus: { status: 'connected', connectedAt: '2030-01-01T00:00:01.000Z', transport: 'ws' },
    } as Device;
    expect(deviceToLosant(on, 'b'.repeat(24)).connectionInfo).toMatchObject({
      connected: 1,
      time: '2030-01-01T00:00:01.000Z',
    });
  });
});

describe('history parameters', () => {
  const at = (s: number): { time: string; n: number } => ({ time: new Date(s * 1000).toISOString(), n: s });
  // Arrival order differs from time order: a late report came last.
  const entries = [at(10), at(30), at(20)];

  it('defaults to the newest one entry', () => {
    expect(selectHistory(entries, parseHistoryParams(new URLSearchParams()))).toEqual([at(30)]);
  });
  it('applies since (inclusive, ms), limit and sortDirection by time', () => {
    const p = parseHistoryParams(new URLSearchParams({ since: '20000', limit: '5', sortDirection: 'asc' }));
    expect(selectHistory(entries, p)).toEqual([at(20), at(30)]);
  });
  it('names the bad parameter', () => {
    expect(() => parseHistoryParams(new URLSearchParams({ limit: '1001' }))).toThrow(/limit/);
    expect(() => parseHistoryParams(new URLSearchParams({ since: '1e3' }))).toThrow(/since/);
    expect(() => parseHistoryParams(new URLSearchParams({ sortDirection: 'up' }))).toThrow(/sortDirection/);
  });
});

describe('qs-encoded tagFilter', () => {
  const read = (search: string): unknown => tagFilterParam(readNestedQuery(new URL(`http://x/?${search}`)));
  it('reads the encoding losant-rest sends (qs.stringify, indices, encoded brackets)', () => {
    expect(read('tagFilter%5B0%5D%5Bkey%5D=floor&tagFilter%5B0%5D%5Bvalue%5D=2&tagFilter%5B1%5D%5Bvalue%5D=x')).toEqual(
      [{ key: 'floor', value: '2' }, { value: 'x' }],
    );
  });
  it('refuses prototype keys, unknown fields, empty items and over-deep nesting with a 400 message', () => {
    expect(() => read('tagFilter[0][__proto__]=1')).toThrow(/needs a key or a value/);
    expect(() => read('tagFilter[0][colour]=red')).toThrow(/tagFilter\[0\]\.colour/);
    expect(() => read('tagFilter[0][key][x][y]=1')).toThrow(/depth/);
    expect(() => read('tagFilter=plain')).toThrow(/tagFilter\[0\]/);
  });
});
