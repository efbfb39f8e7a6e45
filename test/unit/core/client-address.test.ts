import { describe, it, expect } from 'vitest';
import {
  DEFAULT_TRUSTED_PROXIES,
  effectiveClientAddress,
  isTrustedProxy,
  parseTrustedProxies,
} from '../../../src-main/core/client-address.ts';

const loopback = parseTrustedProxies(DEFAULT_TRUSTED_PROXIES);
const withPrivate = parseTrustedProxies([...DEFAULT_TRUSTED_PROXIES, '10.0.0.0/8', 'fd00::/8']);

const fromPeer = (address: string) => ({ ok: true, address, via: 'peer' });
const fromHeader = (address: string) => ({ ok: true, address, via: 'x-forwarded-for' });
const malformed = (rule: string) => ({ ok: false, reason: 'address.malformed', rule });

describe('parseTrustedProxies', () => {
  it('parses the default list (loopback only)', () => {
    expect(DEFAULT_TRUSTED_PROXIES).toEqual(['127.0.0.0/8', '::1/128']);
    expect(loopback.texts).toEqual(['127.0.0.0/8', '::1/128']);
    expect(loopback.entries).toHaveLength(2);
  });

  it('throws naming the bad entry', () => {
    expect(() => parseTrustedProxies(['127.0.0.1', '10.0.0.0/33'])).toThrow(
      'Invalid trusted proxy: "10.0.0.0/33" is not a valid IP address or CIDR block: prefix must be 0-32 for IPv4',
    );
    expect(() => parseTrustedProxies(['localhost'])).toThrow('"localhost"');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::ffff:127.0.0.1', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['::2', false],
    ['garbage', false],
  ])('isTrustedProxy(%j) → %s with the default list', (address, expected) => {
    expect(isTrustedProxy(address, loopback)).toBe(expected);
  });
});

describe('effectiveClientAddress', () => {
  it.each([
    // no header: the (normalised) peer
    ['127.0.0.1', undefined, loopback, fromPeer('127.0.0.1')],
    ['::ffff:127.0.0.1', undefined, loopback, fromPeer('127.0.0.1')],
    ['::ffff:203.0.113.7', undefined, loopback, fromPeer('203.0.113.7')],
    ['2001:DB8::7', undefined, loopback, fromPeer('2001:db8::7')],
    ['fe80::1%eth0', undefined, loopback, fromPeer('fe80::1')],
    ['127.0.0.1', [], loopback, fromPeer('127.0.0.1')],
    // a peer that is not an IP fails closed
    ['', undefined, loopback, malformed('peer address "" is not an IP address')],
    ['unknown', '1.2.3.4', loopback, malformed('peer address "unknown" is not an IP address')],
    // trusted peer: header honoured, walked from the right
    ['127.0.0.1', '203.0.113.7', loopback, fromHeader('203.0.113.7')],
    ['::ffff:127.0.0.1', '203.0.113.7', loopback, fromHeader('203.0.113.7')],
    ['::1', '203.0.113.7', loopback, fromHeader('203.0.113.7')],
    // spoofed leftmost entry is ignored: the rightmost untrusted entry wins
    ['127.0.0.1', '6.6.6.6, 203.0.113.7', loopback, fromHeader('203.0.113.7')],
    // a chain of trusted proxies is skipped
    ['127.0.0.1', '203.0.113.7, 10.0.0.2', withPrivate, fromHeader('203.0.113.7')],
    ['10.0.0.3', '6.6.6.6, 203.0.113.7, 10.0.0.2, 127.0.0.1', withPrivate, fromHeader('203.0.113.7')],
    // ... but with loopback-only trust, 10.0.0.2 is the client
    ['127.0.0.1', '203.0.113.7, 10.0.0.2', loopback, fromHeader('10.0.0.2')],
    // every entry trusted: the leftmost entry is the client
    ['127.0.0.1', '10.0.0.5, 10.0.0.2', withPrivate, fromHeader('10.0.0.5')],
    ['127.0.0.1', '127.0.0.9', loopback, fromHeader('127.0.0.9')],
    // untrusted peer: header ignored entirely (even garbage), peer used
    ['198.51.100.4', '127.0.0.1', loopback, fromPeer('198.51.100.4')],
    ['198.51.100.4', '6.6.6.6, 10.0.0.2', withPrivate, fromPeer('198.51.100.4')],
    ['198.51.100.4', 'garbage', loopback, fromPeer('198.51.100.4')],
    ['::ffff:198.51.100.4', ['1.1.1.1'], loopback, fromPeer('198.51.100.4')],
    ['10.0.0.2', '203.0.113.7', loopback, fromPeer('10.0.0.2')],
    // garbage from a trusted peer fails closed — any malformed entry, even one the walk would not reach
    ['127.0.0.1', 'garbage', loopback, malformed('X-Forwarded-For entry "garbage" is not an IP address')],
    ['127.0.0.1', '1.2.3.4, , 5.6.7.8', loopback, malformed('X-Forwarded-For entry "" is not an IP address')],
    ['127.0.0.1', '1.2.3.4, nonsense', loopback, malformed('X-Forwarded-For entry "nonsense" is not an IP address')],
    ['127.0.0.1', 'nonsense, 1.2.3.4', loopback, malformed('X-Forwarded-For entry "nonsense" is not an IP address')],
    ['127.0.0.1', '', loopback, malformed('X-Forwarded-For entry "" is not an IP address')],
    ['127.0.0.1', '1.2.3.4,', loopback, malformed('X-Forwarded-For entry "" is not an IP address')],
    ['127.0.0.1', 'unknown', loopback, malformed('X-Forwarded-For entry "unknown" is not an IP address')],
    ['127.0.0.1', '010.1.1.1', loopback, malformed('X-Forwarded-For entry "010.1.1.1" is not an IP address')],
    ['127.0.0.1', '10.0.0.0/8', loopback, malformed('X-Forwarded-For entry "10.0.0.0/8" is not an IP address')],
    // ports are stripped
    ['127.0.0.1', '203.0.113.7:5678', loopback, fromHeader('203.0.113.7')],
    ['127.0.0.1', '[2001:db8::1]:443', loopback, fromHeader('2001:db8::1')],
    ['127.0.0.1', '[2001:db8::1]', loopback, fromHeader('2001:db8::1')],
    ['127.0.0.1', '203.0.113.7:5678, 127.0.0.1:1234', loopback, fromHeader('203.0.113.7')],
    [
      '127.0.0.1',
      '203.0.113.7:99999',
      loopback,
      malformed('X-Forwarded-For entry "203.0.113.7:99999" is not an IP address'),
    ],
    ['127.0.0.1', '203.0.113.7:', loopback, malformed('X-Forwarded-For entry "203.0.113.7:" is not an IP address')],
    ['127.0.0.1', '[2001:db8::1', loopback, malformed('X-Forwarded-For entry "[2001:db8::1" is not an IP address')],
    ['127.0.0.1', '[2001:db8::1]x', loopback, malformed('X-Forwarded-For entry "[2001:db8::1]x" is not an IP address')],
    ['127.0.0.1', '[1.2.3.4]:80', loopback, malformed('X-Forwarded-For entry "[1.2.3.4]:80" is not an IP address')],
    // a zone id in a forwarded entry fails closed (issue 12): it is never stripped there, only from the peer
    ...([
      '::ffff:10.0.0.5%eth0',
      'fe80::1%eth0',
      '[fe80::1%eth0]:443',
      '10.0.0.5%eth0',
      '203.0.113.7, fe80::1%25eth0',
    ].map(
      (header) =>
        [
          '127.0.0.1',
          header,
          loopback,
          malformed(
            `X-Forwarded-For entry ${JSON.stringify(header.split(', ').pop())} has a zone id (%…), which is refused in forwarded addresses`,
          ),
        ] as const,
    ) as never[]),
    ['fe80::1%eth0', '203.0.113.7', parseTrustedProxies(['fe80::/10']), fromHeader('203.0.113.7')],
    // IPv6 and IPv4-mapped entries
    ['::1', '2001:db8::1', loopback, fromHeader('2001:db8::1')],
    ['127.0.0.1', '2001:db8::1, ::1', loopback, fromHeader('2001:db8::1')],
    ['127.0.0.1', '::ffff:203.0.113.7', loopback, fromHeader('203.0.113.7')],
    ['127.0.0.1', '[::ffff:203.0.113.7]:80', loopback, fromHeader('203.0.113.7')],
    ['127.0.0.1', '203.0.113.7, ::ffff:127.0.0.1', loopback, fromHeader('203.0.113.7')],
    ['127.0.0.1', '6.6.6.6, fd00::5', withPrivate, fromHeader('6.6.6.6')],
    // several header values are joined in order
    ['127.0.0.1', ['6.6.6.6', '203.0.113.7'], loopback, fromHeader('203.0.113.7')],
    ['127.0.0.1', ['6.6.6.6, 203.0.113.7', '10.0.0.2'], withPrivate, fromHeader('203.0.113.7')],
    [
      '127.0.0.1',
      ['203.0.113.7', 'garbage'],
      loopback,
      malformed('X-Forwarded-For entry "garbage" is not an IP address'),
    ],
  ] as const)('peer %j, X-Forwarded-For %j', (peer, header, trusted, expected) => {
    const forwardedFor = Array.isArray(header) ? [...header] : (header as string | undefined);
    expect(effectiveClientAddress(peer, forwardedFor, trusted)).toEqual(expected);
  });

  it('truncates a long garbage entry in the rule', () => {
    const result = effectiveClientAddress('127.0.0.1', 'x'.repeat(500), loopback);
    expect(result).toEqual(malformed(`X-Forwarded-For entry "${'x'.repeat(64)}…" is not an IP address`));
  });

  it('trusts nothing with an empty trusted list', () => {
    const none = parseTrustedProxies([]);
    expect(effectiveClientAddress('127.0.0.1', '203.0.113.7', none)).toEqual(fromPeer('127.0.0.1'));
  });
});
