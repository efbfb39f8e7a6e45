// Fleet names (docs/design.md §7): the names the fleet dialog promises are the names made.
import { describe, expect, it } from 'vitest';
import { fleetDeviceName, fleetNamesHint } from '../../../src-main/core/fleet-names.ts';

describe('fleetDeviceName', () => {
  it('puts the number right after a prefix that ends in a separator, after a space otherwise', () => {
    expect(fleetDeviceName('bench-', 1, 10)).toBe('bench-01');
    expect(fleetDeviceName('bench_', 7, 9)).toBe('bench_7');
    expect(fleetDeviceName('bench ', 3, 100)).toBe('bench 003');
    expect(fleetDeviceName('Fleet device', 12, 500)).toBe('Fleet device 012');
  });
  it('never makes a name over 255 characters', () => {
    expect(fleetDeviceName('x'.repeat(260), 1, 1)).toHaveLength(255);
  });
});

describe('fleetNamesHint', () => {
  it('shows the first two names and the last, made by the same function', () => {
    expect(fleetNamesHint('bench-', 10)).toBe('bench-01, bench-02, … bench-10');
    expect(fleetNamesHint('bench-', 2)).toBe('bench-1, bench-2');
    expect(fleetNamesHint('sim-', 1)).toBe('sim-1');
  });
});
