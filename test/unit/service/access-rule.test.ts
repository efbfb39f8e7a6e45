// The one re-check of a credential at each use (service/access-rule.ts, docs/design.md §4a), case by case, in
// the order the checks run: first failure wins.
import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../../src-main/core/client-address.ts';
import type { AccessKeyRecord, Device } from '../../../src-main/core/types.ts';
import { FIXTURE_TIME, makeDevice, makeKeyRecord } from '../../helpers/fixtures.ts';
import {
  ACCESS_RULE,
  checkCredentialUse,
  sessionDeviceReaction,
  sessionKeyReaction,
  tokenAction,
  type CredentialUse,
} from '../../../src-main/service/access-rule.ts';

const A = 'a'.repeat(24);
const B = 'b'.repeat(24);
const REV = FIXTURE_TIME;
const device = (id: string, tags: Device['tags'] = []): Device => makeDevice({ id, name: id, tags });
const key = (over: Partial<AccessKeyRecord> = {}): AccessKeyRecord => makeKeyRecord({ id: 'c'.repeat(24), ...over });
const devices = new Map([
  [A, device(A, [{ key: 'site', value: 'north' }])],
  [B, device(B)],
]);
const env = { trustedProxies: parseTrustedProxies(['127.0.0.0/8']), getDevice: (id: string) => devices.get(id) };
const use = (over: Partial<CredentialUse> = {}): CredentialUse => ({
  key: key(),
  deviceId: A,
  client: { peer: '127.0.0.1' },
  issued: { keyRevision: REV },
  ...over,
});

describe('checkCredentialUse', () => {
  it.each<[string, Partial<CredentialUse>, string]>([
    ['the key was deleted', { key: undefined }, 'key.deleted'],
    ['the key is inactive', { key: key({ status: 'inactive' }) }, 'key.inactive'],
    [
      'the key changed after issue (e.g. off and on again)',
      { key: key({ lastUpdated: '2026-01-02T00:00:00.000Z' }) },
      'key.changed',
    ],
    [
      'the address rule refuses this request',
      { key: key({ addressFilterType: 'whitelist', addresses: ['10.0.0.5'] }) },
      'address.denied',
    ],
    ['a trusted proxy forwards garbage', { client: { peer: '127.0.0.1', forwardedFor: 'x' } }, 'address.malformed'],
    ['the device was deleted', { deviceId: 'd'.repeat(24) }, 'device.unknown'],
    [
      'the device no longer matches the tag restriction',
      { key: key({ deviceTags: [{ key: 'site', value: 'south' }] }) },
      'device.out-of-scope',
    ],
    ['the device is not in the id list', { key: key({ deviceIds: [B] }) }, 'device.out-of-scope'],
  ])('refuses when %s', (_what, over, reason) => {
    const d = checkCredentialUse(use(over), env);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe(reason);
    expect(d.rule.length).toBeGreaterThan(0);
  });

  it('allows an unchanged key, a matching device and an allowed address, naming the rule and the address', () => {
    const d = checkCredentialUse(
      use({
        key: key({
          deviceTags: [{ key: 'site', value: 'north' }],
          addressFilterType: 'whitelist',
          addresses: ['10.0.0.0/8'],
        }),
        client: { peer: '127.0.0.1', forwardedFor: '10.0.0.5' },
      }),
      env,
    );
    expect(d).toMatchObject({ allowed: true, reason: 'connect.accepted', address: '10.0.0.5' });
    expect(d.rule).toContain('site=north');
  });

  it('ignores X-Forwarded-For from an untrusted peer, like an MQTT WebSocket CONNECT', () => {
    const d = checkCredentialUse(
      use({
        key: key({ addressFilterType: 'whitelist', addresses: ['10.0.0.5'] }),
        client: { peer: '192.0.2.7', forwardedFor: '10.0.0.5' },
      }),
      env,
    );
    expect(d).toMatchObject({ allowed: false, reason: 'address.denied', address: '192.0.2.7' });
  });

  it('checks the key before the address and the address before the device', () => {
    const all = use({
      key: key({ status: 'inactive', addressFilterType: 'whitelist', addresses: ['10.0.0.5'] }),
      deviceId: 'd'.repeat(24),
    });
    expect(checkCredentialUse(all, env).reason).toBe('key.inactive');
    expect(
      checkCredentialUse({ ...all, key: key({ addressFilterType: 'whitelist', addresses: ['10.0.0.5'] }) }, env).reason,
    ).toBe('address.denied');
  });
});

describe('ACCESS_RULE (docs/design.md §4a)', () => {
  it('names every reason once, and the 401/403 class of each', () => {
    const reasons = ACCESS_RULE.flatMap((r) => r.reasons);
    expect(new Set(reasons).size).toBe(reasons.length);
    expect(Object.fromEntries(reasons.map((r) => [r, tokenAction(r)]))).toEqual({
      'key.deleted': 'unauthorized',
      'key.inactive': 'unauthorized',
      'key.changed': 'unauthorized',
      'address.malformed': 'forbidden',
      'address.denied': 'forbidden',
      'device.unknown': 'unauthorized',
      'device.out-of-scope': 'forbidden',
    });
  });

  it('live sessions: key deleted or switched off closes, any other key edit does not', () => {
    const k = { ...key(), status: 'active' as const };
    expect(sessionKeyReaction(k, undefined)).toBe('key.deleted');
    expect(sessionKeyReaction(k, { ...k, status: 'inactive' })).toBe('key.inactive');
    expect(sessionKeyReaction(k, { ...k, name: 'renamed' })).toBeNull();
    expect(sessionKeyReaction({ ...k, status: 'inactive' }, k)).toBeNull();
  });

  it('live sessions: device deleted closes; a tag change marks only when it flips the match', () => {
    const k = key({ deviceTags: [{ key: 'site', value: 'north' }] });
    const a = device(A, [{ key: 'site', value: 'north' }]);
    expect(sessionDeviceReaction(k, a, undefined)).toEqual({ close: 'device.unknown' });
    expect(sessionDeviceReaction(k, a, { ...a, tags: [] })).toEqual({ mark: true });
    expect(sessionDeviceReaction(k, { ...a, tags: [] }, a)).toEqual({ mark: true });
    expect(sessionDeviceReaction(k, a, { ...a, tags: [...a.tags, { key: 'floor', value: '2' }] })).toBeNull();
    expect(sessionDeviceReaction(k, a, { ...a, name: 'renamed' })).toBeNull();
  });
});
