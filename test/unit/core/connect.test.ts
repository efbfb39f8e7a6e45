import { describe, expect, it } from 'vitest';
import { evaluateConnect, type ConnectRequest } from '../../../src-main/core/connect.ts';
import { makeVerifier } from '../../../src-main/core/secrets.ts';
import type { AccessKeyRecord, Device, ReasonCode } from '../../../src-main/core/types.ts';
import {
  accessKey,
  connectEnv,
  connectRequest,
  device,
  hexId,
  tag,
  type KeyWithSecret,
} from '../../helpers/core-fixtures.ts';

const ME = hexId(1);
const OTHER = hexId(2);
const me = (): Device => device({ id: ME, tags: [tag('room', 'kitchen')] });
const other = (): Device => device({ id: OTHER, tags: [tag('room', 'hall')] });

interface Row {
  name: string;
  key?: Partial<AccessKeyRecord>;
  req?: (k: KeyWithSecret) => Partial<ConnectRequest>;
  devices?: () => Device[];
  reason: ReasonCode;
  returnCode: 0 | 1 | 4 | 5;
  rule?: string;
}

// Every row of docs/design.md §4, in order, plus protocol level and the accepted outcome.
const rows: Row[] = [
  {
    name: 'MQTT 5',
    req: () => ({ protocolVersion: 5 }),
    reason: 'protocol.unsupported',
    returnCode: 1,
    rule: 'level 5',
  },
  {
    name: 'MQTT 5 even without credentials',
    req: () => ({ protocolVersion: 5, username: undefined, password: undefined }),
    reason: 'protocol.unsupported',
    returnCode: 1,
  },
  {
    name: 'missing username',
    req: () => ({ username: undefined }),
    reason: 'credentials.missing',
    returnCode: 4,
    rule: 'required',
  },
  {
    name: 'missing password',
    req: () => ({ password: undefined }),
    reason: 'credentials.missing',
    returnCode: 4,
    rule: 'required',
  },
  { name: 'empty username', req: () => ({ username: '' }), reason: 'credentials.missing', returnCode: 4 },
  { name: 'empty password', req: () => ({ password: '' }), reason: 'credentials.missing', returnCode: 4 },
  {
    name: 'unknown key',
    req: () => ({ username: '3b241101-e2bb-4255-8caf-4136c566a962' }),
    reason: 'key.unknown',
    returnCode: 4,
    rule: 'no access key',
  },
  {
    name: 'wrong secret',
    req: () => ({ password: 'f'.repeat(64) }),
    reason: 'secret.mismatch',
    returnCode: 4,
    rule: 'does not match',
  },
  { name: 'the key as the secret', req: (k) => ({ password: k.record.key }), reason: 'secret.mismatch', returnCode: 4 },
  { name: 'inactive key', key: { status: 'inactive' }, reason: 'key.inactive', returnCode: 5, rule: 'inactive' },
  {
    name: 'address not in whitelist',
    key: { addressFilterType: 'whitelist', addresses: ['10.0.0.0/8'] },
    reason: 'address.denied',
    returnCode: 5,
    rule: 'not in addresses whitelist',
  },
  {
    name: 'address in blacklist',
    key: { addressFilterType: 'blacklist', addresses: ['192.0.2.1', '127.0.0.0/8'] },
    reason: 'address.denied',
    returnCode: 5,
    rule: 'addresses blacklist entry "127.0.0.0/8"',
  },
  {
    name: 'garbage X-Forwarded-For from a trusted proxy peer',
    req: () => ({ transport: 'ws', forwardedFor: 'not-an-ip' }),
    reason: 'address.malformed',
    returnCode: 5,
    rule: '"not-an-ip"',
  },
  {
    name: 'X-Forwarded-For with an empty entry from a trusted peer',
    req: () => ({ transport: 'ws', forwardedFor: '203.0.113.7,, 127.0.0.1' }),
    reason: 'address.malformed',
    returnCode: 5,
  },
  {
    name: 'client id is not a device',
    req: () => ({ clientId: hexId(99) }),
    reason: 'device.unknown',
    returnCode: 5,
    rule: hexId(99),
  },
  {
    name: 'client id is not even an id',
    req: () => ({ clientId: 'mqttjs_1234' }),
    reason: 'device.unknown',
    returnCode: 5,
  },
  {
    name: 'device outside an id restriction',
    key: { deviceIds: [OTHER] },
    reason: 'device.out-of-scope',
    returnCode: 5,
    rule: ME,
  },
  {
    name: 'device carrying none of the listed tags (key-only and value-only items too)',
    key: { deviceTags: [tag('room', 'hall'), { key: 'kind' }, { value: 'sensor' }] },
    reason: 'device.out-of-scope',
    returnCode: 5,
  },
  {
    name: 'will on $SYS/x',
    key: { filterType: 'all' },
    req: () => ({ willTopic: '$SYS/x' }),
    reason: 'will.denied',
    returnCode: 5,
    rule: '$SYS/x',
  },
  {
    name: "will on another device's state",
    key: { deviceIds: [ME] },
    req: () => ({ willTopic: `losant/${OTHER}/state` }),
    reason: 'will.denied',
    returnCode: 5,
    rule: 'not in the key',
  },
  {
    name: 'will on a custom topic with filterType none',
    req: () => ({ willTopic: 'status/offline' }),
    reason: 'will.denied',
    returnCode: 5,
    rule: 'filterType none',
  },
  {
    name: 'will on a custom topic not whitelisted',
    key: { filterType: 'whitelist', pubTopics: ['status/#'] },
    req: () => ({ willTopic: 'other/x' }),
    reason: 'will.denied',
    returnCode: 5,
    rule: 'whitelist',
  },
  {
    name: 'will on a wildcard topic',
    key: { filterType: 'all' },
    req: () => ({ willTopic: 'status/#' }),
    reason: 'will.denied',
    returnCode: 5,
  },
  {
    name: 'will on a reserved losant topic',
    req: () => ({ willTopic: 'losant/x' }),
    reason: 'will.denied',
    returnCode: 5,
  },
  { name: 'accepted, no will', reason: 'connect.accepted', returnCode: 0, rule: 'all devices' },
  { name: 'accepted, MQTT 3.1', req: () => ({ protocolVersion: 3 }), reason: 'connect.accepted', returnCode: 0 },
  {
    name: 'accepted, HTTP (no protocol level)',
    req: () => ({ protocolVersion: undefined, transport: 'http' }),
    reason: 'connect.accepted',
    returnCode: 0,
  },
  {
    name: 'accepted, will on own state topic',
    key: { deviceIds: [ME] },
    req: () => ({ willTopic: `losant/${ME}/state` }),
    reason: 'connect.accepted',
    returnCode: 0,
    rule: `deviceIds entry "${ME}"`,
  },
  {
    name: 'accepted, will on a whitelisted custom topic',
    key: { filterType: 'whitelist', pubTopics: ['status/+'] },
    req: () => ({ willTopic: 'status/offline' }),
    reason: 'connect.accepted',
    returnCode: 0,
  },
  {
    name: 'accepted by tag',
    key: { deviceTags: [tag('room', 'kitchen')] },
    reason: 'connect.accepted',
    returnCode: 0,
    rule: 'deviceTags entry "room=kitchen"',
  },
  {
    // Inclusive, as Losant documents device queries: ANY one listed tag is enough.
    name: 'accepted by one of two tags',
    key: { deviceTags: [tag('kind', 'sensor'), tag('room', 'kitchen')] },
    reason: 'connect.accepted',
    returnCode: 0,
    rule: 'deviceTags entry "room=kitchen"',
  },
  {
    name: 'accepted by a key-only tag item',
    key: { deviceTags: [{ key: 'room' }] },
    reason: 'connect.accepted',
    returnCode: 0,
    rule: 'deviceTags entry "room=*"',
  },
  {
    name: 'accepted by a value-only tag item',
    key: { deviceTags: [{ value: 'kitchen' }] },
    reason: 'connect.accepted',
    returnCode: 0,
    rule: 'deviceTags entry "*=kitchen"',
  },
  {
    name: 'accepted from a whitelisted address',
    key: { addressFilterType: 'whitelist', addresses: ['127.0.0.1'] },
    reason: 'connect.accepted',
    returnCode: 0,
  },
];

describe('evaluateConnect: docs/design.md §4 rows', () => {
  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const k = accessKey(row.key);
    const devices = row.devices ? row.devices() : [me(), other()];
    const env = connectEnv([k.record], devices);
    const out = evaluateConnect(connectRequest(k, { id: ME }, row.req?.(k)), env);
    expect(out.decision.reason).toBe(row.reason);
    expect(out.returnCode).toBe(row.returnCode);
    expect(out.decision.allowed).toBe(row.returnCode === 0);
    if (row.rule !== undefined) expect(out.decision.rule).toContain(row.rule);
    if (row.returnCode === 0) {
      expect(out.key?.id).toBe(k.record.id);
      expect(out.device?.id).toBe(ME);
      expect(out.scope).toBeDefined();
      expect(out.address).toBe('127.0.0.1');
    } else {
      expect(out.scope).toBeUndefined();
    }
    // No secret ever appears in a decision.
    expect(JSON.stringify(out.decision)).not.toContain(k.secret);
  });
});

describe('evaluateConnect: order of checks (first failure wins)', () => {
  it.each<[string, Partial<AccessKeyRecord>, (k: KeyWithSecret) => Partial<ConnectRequest>, ReasonCode, number]>([
    ['unknown key with no password', {}, () => ({ username: 'nope', password: undefined }), 'credentials.missing', 4],
    ['inactive key + wrong secret', { status: 'inactive' }, () => ({ password: '0'.repeat(64) }), 'secret.mismatch', 4],
    [
      'inactive key + denied address',
      { status: 'inactive', addressFilterType: 'whitelist', addresses: ['10.0.0.1'] },
      () => ({}),
      'key.inactive',
      5,
    ],
    ['inactive key + unknown device', { status: 'inactive' }, () => ({ clientId: hexId(77) }), 'key.inactive', 5],
    [
      'denied address + unknown device',
      { addressFilterType: 'blacklist', addresses: ['127.0.0.1'] },
      () => ({ clientId: hexId(77) }),
      'address.denied',
      5,
    ],
    [
      'malformed address + unknown device',
      {},
      () => ({ forwardedFor: 'garbage', clientId: hexId(77) }),
      'address.malformed',
      5,
    ],
    ['unknown device + denied will', {}, () => ({ clientId: hexId(77), willTopic: '$SYS/x' }), 'device.unknown', 5],
    ['out of scope + denied will', { deviceIds: [OTHER] }, () => ({ willTopic: '$SYS/x' }), 'device.out-of-scope', 5],
  ])('%s → %s', (_what, keyOverrides, req, reason, code) => {
    const k = accessKey(keyOverrides);
    const out = evaluateConnect(connectRequest(k, { id: ME }, req(k)), connectEnv([k.record], [me(), other()]));
    expect(out.decision.reason).toBe(reason);
    expect(out.returnCode).toBe(code);
  });

  it('a verifier made with another pepper does not authenticate', () => {
    const k = accessKey();
    k.record.secretVerifier = makeVerifier(k.secret, Buffer.alloc(32, 3));
    const out = evaluateConnect(connectRequest(k, { id: ME }), connectEnv([k.record], [me()]));
    expect(out.decision.reason).toBe('secret.mismatch');
  });
});

describe('evaluateConnect: client address', () => {
  const run = (keyOverrides: Partial<AccessKeyRecord>, req: Partial<ConnectRequest>) => {
    const k = accessKey(keyOverrides);
    return evaluateConnect(connectRequest(k, { id: ME }, req), connectEnv([k.record], [me()]));
  };

  it('X-Forwarded-For is honoured from a trusted peer (127.0.0.1, default trusted proxies)', () => {
    const allowOnly = { addressFilterType: 'whitelist' as const, addresses: ['203.0.113.0/24'] };
    const out = run(allowOnly, { transport: 'ws', peerAddress: '127.0.0.1', forwardedFor: '203.0.113.9' });
    expect(out.decision.reason).toBe('connect.accepted');
    expect(out.address).toBe('203.0.113.9');
    // …and the same header decides a denial.
    const denied = run(allowOnly, { transport: 'ws', peerAddress: '127.0.0.1', forwardedFor: '198.51.100.1' });
    expect(denied.decision.reason).toBe('address.denied');
    expect(denied.address).toBe('198.51.100.1');
  });

  it('X-Forwarded-For is walked from the right, skipping trusted proxies', () => {
    const out = run(
      {},
      { transport: 'ws', peerAddress: '127.0.0.1', forwardedFor: ['198.51.100.1, 203.0.113.9', '127.0.0.2'] },
    );
    expect(out.address).toBe('203.0.113.9');
  });

  it('X-Forwarded-For is ignored from an untrusted peer (no spoofing)', () => {
    const k = { addressFilterType: 'whitelist' as const, addresses: ['127.0.0.1'] };
    const out = run(k, { transport: 'ws', peerAddress: '192.0.2.10', forwardedFor: '127.0.0.1' });
    expect(out.decision.reason).toBe('address.denied');
    expect(out.address).toBe('192.0.2.10');
    // Even a malformed header is ignored from an untrusted peer.
    const garbage = run({}, { transport: 'ws', peerAddress: '192.0.2.10', forwardedFor: 'garbage' });
    expect(garbage.decision.reason).toBe('connect.accepted');
    expect(garbage.address).toBe('192.0.2.10');
  });

  it('an IPv4-mapped IPv6 peer is normalised (::ffff:127.0.0.1 → 127.0.0.1)', () => {
    const out = run({ addressFilterType: 'whitelist', addresses: ['127.0.0.1'] }, { peerAddress: '::ffff:127.0.0.1' });
    expect(out.decision.reason).toBe('connect.accepted');
    expect(out.address).toBe('127.0.0.1');
    const blocked = run(
      { addressFilterType: 'blacklist', addresses: ['127.0.0.0/8'] },
      { peerAddress: '::ffff:127.0.0.1' },
    );
    expect(blocked.decision.reason).toBe('address.denied');
  });

  it('an IPv4-mapped peer is still a trusted proxy', () => {
    const out = run({}, { transport: 'ws', peerAddress: '::ffff:127.0.0.1', forwardedFor: '203.0.113.5' });
    expect(out.address).toBe('203.0.113.5');
  });
});

describe('evaluateConnect: scope', () => {
  it('tags are resolved at connect: the returned scope is the matching devices then', () => {
    const a = device({ id: hexId(0xa1), tags: [tag('room', 'kitchen')] });
    const b = device({ id: hexId(0xa2), tags: [tag('room', 'kitchen')] });
    const c = device({ id: hexId(0xa3), tags: [tag('room', 'hall')] });
    const k = accessKey({ deviceTags: [tag('room', 'kitchen')] });
    const env = connectEnv([k.record], [a, b, c]);
    const out = evaluateConnect(connectRequest(k, a), env);
    expect(out.decision.reason).toBe('connect.accepted');
    expect(out.scope).toEqual({ kind: 'devices', ids: new Set([a.id, b.id]) });
    // A later tag change does not alter the scope already granted.
    b.tags = [];
    expect(out.scope).toEqual({ kind: 'devices', ids: new Set([a.id, b.id]) });
    // …but the next connect sees the change.
    const again = evaluateConnect(connectRequest(k, a), env);
    expect(again.scope).toEqual({ kind: 'devices', ids: new Set([a.id]) });
    // And b can no longer connect with the key.
    expect(evaluateConnect(connectRequest(k, b), env).decision.reason).toBe('device.out-of-scope');
  });

  it('an id-only key does not list devices; an all-devices key gets kind all', () => {
    const k = accessKey({ deviceIds: [ME, OTHER] });
    const env = connectEnv([k.record], [me(), other()]);
    const out = evaluateConnect(connectRequest(k, { id: ME }), env);
    expect(out.scope).toEqual({ kind: 'devices', ids: new Set([ME, OTHER]) });
    expect(env.listCalls).toBe(0);
    expect(env.tagCalls).toBe(0);

    const all = accessKey();
    const env2 = connectEnv([all.record], [me()]);
    expect(evaluateConnect(connectRequest(all, { id: ME }), env2).scope).toEqual({ kind: 'all' });
    expect(env2.listCalls).toBe(0);
  });

  it('an inactive key never reaches scope resolution', () => {
    const k = accessKey({ status: 'inactive', deviceTags: [tag('room', 'kitchen')] });
    const env = connectEnv([k.record], [me()]);
    evaluateConnect(connectRequest(k, { id: ME }), env);
    expect(env.listCalls).toBe(0);
    expect(env.tagCalls).toBe(0);
  });

  it('a tag-scoped key asks the tag lookup once per item and never lists the devices', () => {
    const k = accessKey({ deviceTags: [tag('room', 'kitchen'), { key: 'floor' }] });
    const env = connectEnv([k.record], [me(), device({ id: OTHER, tags: [tag('floor', '2')] })]);
    const out = evaluateConnect(connectRequest(k, { id: ME }), env);
    expect(out.returnCode).toBe(0);
    expect(env.listCalls).toBe(0);
    expect(env.tagCalls).toBe(2);
    expect([...(out.scope?.kind === 'devices' ? out.scope.ids : [])].sort()).toEqual([ME, OTHER].sort());
  });
});
