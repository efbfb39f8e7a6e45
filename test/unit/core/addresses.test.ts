import { describe, it, expect } from 'vitest';
import {
  MAX_ADDRESSES,
  addressDecision,
  addressInEntry,
  normaliseAddress,
  parseAddressEntry,
  validateAddresses,
} from '../../../src-main/core/addresses.ts';
import type { AddressEntry } from '../../../src-main/core/addresses.ts';

function entry(text: string): AddressEntry {
  const parsed = parseAddressEntry(text);
  if (!parsed.ok) throw new Error(`test entry ${text} did not parse: ${parsed.message}`);
  return parsed.entry;
}

describe('parseAddressEntry', () => {
  it.each([
    ['10.0.0.1', 'ip', 'ipv4', '10.0.0.1'],
    ['0.0.0.0', 'ip', 'ipv4', '0.0.0.0'],
    ['10.0.0.0/8', 'cidr', 'ipv4', '10.0.0.0'],
    ['10.0.0.1/8', 'cidr', 'ipv4', '10.0.0.1'],
    ['0.0.0.0/0', 'cidr', 'ipv4', '0.0.0.0'],
    ['192.168.1.7/32', 'cidr', 'ipv4', '192.168.1.7'],
    ['::1', 'ip', 'ipv6', '::1'],
    ['2001:DB8::1', 'ip', 'ipv6', '2001:db8::1'],
    ['2001:db8:abcd:12::/64', 'cidr', 'ipv6', '2001:db8:abcd:12::'],
    ['::/0', 'cidr', 'ipv6', '::'],
    ['::1/128', 'cidr', 'ipv6', '::1'],
    ['::ffff:10.0.0.1', 'ip', 'ipv4', '10.0.0.1'],
    ['::ffff:a00:1', 'ip', 'ipv4', '10.0.0.1'],
    ['  10.0.0.1  ', 'ip', 'ipv4', '10.0.0.1'],
  ] as const)('accepts %j as %s/%s', (text, kind, family, address) => {
    const e = entry(text);
    expect(e.kind).toBe(kind);
    expect(e.family).toBe(family);
    expect(e.text).toBe(text.trim());
    expect(e.kind === 'ip' ? e.address.toString() : e.range[0].toString()).toBe(address);
  });

  it('normalises IPv4-mapped CIDR blocks to IPv4 with prefix - 96', () => {
    const e = entry('::ffff:10.0.0.0/104');
    expect(e.kind).toBe('cidr');
    expect(e.family).toBe('ipv4');
    if (e.kind !== 'cidr') throw new Error('unreachable');
    expect(e.range[0].toString()).toBe('10.0.0.0');
    expect(e.range[1]).toBe(8);
    expect(addressInEntry('10.200.3.4', e)).toBe(true);
    expect(addressInEntry('11.0.0.1', e)).toBe(false);
  });

  it.each([
    ['999.1.1.1', 'not an IPv4 or IPv6 address'],
    ['1.2.3', 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros'],
    ['010.1.1.1', 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros'],
    ['0x7f.0.0.1', 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros'],
    ['1.2.3.4.5', 'not an IPv4 or IPv6 address'],
    ['10.0.0.0/33', 'prefix must be 0-32 for IPv4'],
    ['10.0.0.0/', 'prefix must be 0-32 for IPv4'],
    ['10.0.0.0/08', 'prefix must be 0-32 for IPv4'],
    ['10.0.0.0/-1', 'prefix must be 0-32 for IPv4'],
    ['10.0.0.0/8/8', 'prefix must be 0-32 for IPv4'],
    ['::1/129', 'prefix must be 0-128 for IPv6'],
    ['::ffff:10.0.0.0/129', 'prefix must be 0-128 for IPv6'],
    ['abc', 'not an IPv4 or IPv6 address'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['10.0. 0.1', 'contains whitespace'],
    ['1::2::3', 'not an IPv4 or IPv6 address'],
    ['12345::1', 'not an IPv4 or IPv6 address'],
    ['fe80::1%eth0', 'zone ids (%...) are not allowed'],
    ['::ffff:010.0.0.1', 'IPv4 addresses must be four decimal numbers 0-255 without leading zeros'],
    ['::1.2.3.4', 'IPv4-compatible IPv6 (::a.b.c.d) is deprecated; use ::ffff:a.b.c.d'],
    ['/8', 'empty'],
  ])('rejects %j', (text, why) => {
    const parsed = parseAddressEntry(text);
    expect(parsed).toEqual({
      ok: false,
      message: `${JSON.stringify(text.trim())} is not a valid IP address or CIDR block: ${why}`,
    });
  });

  it('names the entry exactly as the spec example', () => {
    expect(parseAddressEntry('10.0.0.0/33')).toEqual({
      ok: false,
      message: '"10.0.0.0/33" is not a valid IP address or CIDR block: prefix must be 0-32 for IPv4',
    });
  });
});

describe('normaliseAddress', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['::1', '::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25', 'fe80::1'],
  ])('%j → %j', (input, output) => {
    expect(normaliseAddress(input)).toBe(output);
  });

  it.each(['', 'localhost', '1.2.3', '010.1.1.1', '10.0.0.0/8', '1.2.3.4%eth0', 'fe80::1%', ' 1.2.3.4', '[::1]'])(
    '%j → null',
    (input) => {
      expect(normaliseAddress(input)).toBeNull();
    },
  );
});

describe('addressInEntry', () => {
  it.each([
    // IPv4 vs IPv4-mapped: the same address
    ['127.0.0.1', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.0/8', true],
    ['::ffff:127.0.0.1', '127.0.0.0/8', true],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['127.0.0.2', '::ffff:127.0.0.1', false],
    // /0 matches everything of its own family only
    ['203.0.113.9', '0.0.0.0/0', true],
    ['2001:db8::1', '0.0.0.0/0', false],
    ['::1', '::/0', true],
    ['10.0.0.1', '::/0', false],
    ['::ffff:10.0.0.1', '::/0', false],
    // /32 and single addresses match exactly one
    ['192.168.1.7', '192.168.1.7/32', true],
    ['192.168.1.8', '192.168.1.7/32', false],
    ['192.168.1.6', '192.168.1.7', false],
    // host bits set in an entry: the network is what counts
    ['10.9.9.9', '10.0.0.1/8', true],
    // IPv6 /64
    ['2001:db8:abcd:12::ffff', '2001:db8:abcd:12::/64', true],
    ['2001:db8:abcd:12:ffff:ffff:ffff:ffff', '2001:db8:abcd:12::/64', true],
    ['2001:db8:abcd:13::1', '2001:db8:abcd:12::/64', false],
    ['::1', '::1/128', true],
    ['::2', '::1/128', false],
    ['::1', '::1', true],
    ['fe80::1%eth0', 'fe80::1', true],
    // non-IP client address never matches
    ['garbage', '0.0.0.0/0', false],
  ] as const)('%j in %j → %s', (address, text, expected) => {
    expect(addressInEntry(address, entry(text))).toBe(expected);
  });
});

describe('validateAddresses', () => {
  it.each([
    ['all', []],
    ['all', undefined],
    ['whitelist', ['10.0.0.0/8', '::1']],
    ['blacklist', ['203.0.113.7']],
  ])('%s %j is valid', (type, list) => {
    expect(validateAddresses(type, list)).toEqual([]);
  });

  it('rejects an unknown filter type', () => {
    expect(validateAddresses('some', [])).toEqual([
      { field: 'addressFilterType', message: 'addressFilterType must be one of all, whitelist, blacklist' },
    ]);
    expect(validateAddresses(undefined, []).map((e) => e.field)).toEqual(['addressFilterType']);
  });

  it('requires at least one address for whitelist and blacklist', () => {
    expect(validateAddresses('whitelist', [])).toEqual([
      {
        field: 'addresses',
        message: 'addresses must list at least one IP address or CIDR block when addressFilterType is whitelist',
      },
    ]);
    expect(validateAddresses('blacklist', undefined)).toEqual([
      {
        field: 'addresses',
        message: 'addresses must list at least one IP address or CIDR block when addressFilterType is blacklist',
      },
    ]);
  });

  it('rejects addresses with filter type all', () => {
    expect(validateAddresses('all', ['10.0.0.1'])).toEqual([
      { field: 'addresses', message: 'addresses must be empty when addressFilterType is all' },
    ]);
  });

  it('names each invalid entry by index', () => {
    expect(validateAddresses('whitelist', ['10.0.0.1', '10.0.0.0/33', 7, '::1/129'])).toEqual([
      {
        field: 'addresses[1]',
        message: '"10.0.0.0/33" is not a valid IP address or CIDR block: prefix must be 0-32 for IPv4',
      },
      { field: 'addresses[2]', message: 'each address must be a string' },
      {
        field: 'addresses[3]',
        message: '"::1/129" is not a valid IP address or CIDR block: prefix must be 0-128 for IPv6',
      },
    ]);
  });

  it('rejects a non-array and more than 100 entries', () => {
    expect(validateAddresses('whitelist', '10.0.0.1')).toEqual([
      { field: 'addresses', message: 'addresses must be an array of IP addresses or CIDR blocks' },
    ]);
    const many = Array.from({ length: MAX_ADDRESSES + 1 }, (_, i) => `10.0.${i}.1`);
    expect(MAX_ADDRESSES).toBe(100);
    expect(validateAddresses('whitelist', many)).toEqual([
      { field: 'addresses', message: 'addresses may hold at most 100 entries (got 101)' },
    ]);
    expect(validateAddresses('whitelist', many.slice(0, 100))).toEqual([]);
  });
});

describe('addressDecision', () => {
  const list = ['10.0.0.0/8', '2001:db8::/32', '::ffff:192.168.1.5'];
  it.each([
    ['all', [], '203.0.113.7', true, 'connect.accepted', 'addressFilterType all'],
    ['whitelist', list, '10.1.2.3', true, 'connect.accepted', 'addresses whitelist entry "10.0.0.0/8"'],
    ['whitelist', list, '::ffff:10.1.2.3', true, 'connect.accepted', 'addresses whitelist entry "10.0.0.0/8"'],
    ['whitelist', list, '2001:db8:1::5', true, 'connect.accepted', 'addresses whitelist entry "2001:db8::/32"'],
    ['whitelist', list, '192.168.1.5', true, 'connect.accepted', 'addresses whitelist entry "::ffff:192.168.1.5"'],
    ['whitelist', list, '192.168.1.6', false, 'address.denied', 'not in addresses whitelist'],
    ['whitelist', list, '11.0.0.1', false, 'address.denied', 'not in addresses whitelist'],
    ['blacklist', list, '10.1.2.3', false, 'address.denied', 'addresses blacklist entry "10.0.0.0/8"'],
    ['blacklist', list, '2001:db8::1', false, 'address.denied', 'addresses blacklist entry "2001:db8::/32"'],
    ['blacklist', list, '11.0.0.1', true, 'connect.accepted', 'not in addresses blacklist'],
    ['blacklist', list, '2001:db9::1', true, 'connect.accepted', 'not in addresses blacklist'],
    ['whitelist', list, 'not-an-ip', false, 'address.malformed', 'client address "not-an-ip" is not an IP address'],
    ['blacklist', list, '', false, 'address.malformed', 'client address "" is not an IP address'],
    // invalid stored entries: never match a whitelist, make a blacklist fail closed
    ['whitelist', ['bogus', '10.0.0.1'], '10.0.0.1', true, 'connect.accepted', 'addresses whitelist entry "10.0.0.1"'],
    [
      'blacklist',
      ['bogus'],
      '10.0.0.1',
      false,
      'address.denied',
      'addresses blacklist entry "bogus" is invalid (fail closed)',
    ],
  ] as const)('%s %j, client %j → %s %s', (type, addresses, client, allowed, reason, rule) => {
    expect(addressDecision(type, addresses, client)).toEqual({ allowed, reason, rule });
  });

  it('returns the first matching entry in list order', () => {
    expect(addressDecision('whitelist', ['10.0.0.0/8', '10.1.0.0/16'], '10.1.0.1').rule).toBe(
      'addresses whitelist entry "10.0.0.0/8"',
    );
  });

  it('notices an in-place mutation of a cached array', () => {
    const mutable = ['10.0.0.0/8'];
    expect(addressDecision('whitelist', mutable, '172.16.0.1').allowed).toBe(false);
    mutable[0] = '172.16.0.0/12';
    expect(addressDecision('whitelist', mutable, '172.16.0.1')).toEqual({
      allowed: true,
      reason: 'connect.accepted',
      rule: 'addresses whitelist entry "172.16.0.0/12"',
    });
  });
});
