// service/access-control.ts behind the auth port, over a real KeyportService on the memory store
// (no sockets): CONNECT and device auth recorded once each, token re-checks by the access rule
// (docs/design.md §4a) with their 401/403 class, and live sessions following key/device changes.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../../src-main/core/client-address.ts';
import { inScope } from '../../../src-main/core/device-scope.ts';
import type { Device, ReasonCode } from '../../../src-main/core/types.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import type { ApiPorts, SessionHandle } from '../../../src-main/shared/ports.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';

const NORTH = [{ key: 'site', value: 'north' }];
let service: KeyportService;
let ports: ApiPorts;

beforeEach(() => {
  service = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 7), log: () => {} });
  ports = service.ports({ trustedProxies: parseTrustedProxies(['127.0.0.0/8']) });
});

const connect = (clientId: string, key: string, secret: string, transport: 'tcp' | 'http' = 'tcp') =>
  ports.auth.authenticate({ transport, clientId, username: key, password: secret, peerAddress: '127.0.0.1' });

describe('authenticate', () => {
  it('records one decision per attempt (connect for MQTT, auth for HTTP) and marks the key used', async () => {
    const d = await service.devices.create({ name: 'a' });
    const k = await service.keys.create({ deviceIds: [d.id] });
    const ok = connect(d.id, k.accessKey.key, k.secret);
    expect(ok.returnCode).toBe(0);
    expect(service.keys.get(k.accessKey.id).lastUsed).toBeDefined();
    const bad = connect(d.id, k.accessKey.key, 'f'.repeat(64), 'http');
    expect(bad.returnCode).toBe(4);
    const events = service.feed.list();
    expect(events.map((e) => [e.action, e.result, e.reason])).toEqual([
      ['connect', 'allowed', 'connect.accepted'],
      ['auth', 'denied', 'secret.mismatch'],
    ]);
    expect(JSON.stringify(events)).not.toContain(k.secret);
  });

  it('records the outcome as the admit hook left it (Losant limits may refuse an accepted CONNECT)', async () => {
    const d = await service.devices.create({ name: 'a' });
    const k = await service.keys.create({ deviceIds: [d.id] });
    const o = ports.auth.authenticate(
      { transport: 'tcp', clientId: d.id, username: k.accessKey.key, password: k.secret, peerAddress: '127.0.0.1' },
      (x) => ({ ...x, returnCode: 3, decision: { allowed: false, reason: 'limit.banned', rule: 'banned' } }),
    );
    expect(o.returnCode).toBe(3);
    expect(service.feed.list().at(-1)).toMatchObject({ result: 'denied', reason: 'limit.banned' });
  });

  it('builds each CONNECT event with the same keys in the same order, with or without X-Forwarded-For', async () => {
    const d = await service.devices.create({ name: 'a' });
    const k = await service.keys.create({ deviceIds: [d.id] });
    const seen: string[] = [];
    const off = service.feed.events.on('decision', (e) => seen.push(JSON.stringify(e)));
    connect(d.id, k.accessKey.key, k.secret);
    ports.auth.authenticate({
      transport: 'ws',
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      peerAddress: '127.0.0.1',
      forwardedFor: '203.0.113.9',
    });
    connect('', k.accessKey.key, k.secret);
    off();
    const keys = seen.map((line) => Object.keys(JSON.parse(line) as object));
    const head = ['seq', 'time', 'transport', 'action', 'result', 'reason', 'rule'];
    expect(keys).toEqual([
      [...head, 'deviceId', 'keyId', 'sourceAddress'],
      [...head, 'deviceId', 'keyId', 'sourceAddress', 'forwardedFor', 'peerAddress'],
      [...head, 'keyId', 'sourceAddress'],
    ]);
    expect(service.feed.list().map((e) => [e.reason, e.sourceAddress])).toEqual([
      ['connect.accepted', '127.0.0.1'],
      ['connect.accepted', '203.0.113.9'],
      ['device.unknown', '127.0.0.1'],
    ]);
  });

  it("a key's scope is resolved once per key revision; an edit of the key or a device's tag change is seen at the next CONNECT", async () => {
    const a = await service.devices.create({ name: 'a' });
    const b = await service.devices.create({ name: 'b' });
    const k = await service.keys.create({ deviceIds: [a.id] });
    connect(a.id, k.accessKey.key, k.secret); // its first use sets lastUsed: a new revision
    const first = connect(a.id, k.accessKey.key, k.secret);
    const again = connect(a.id, k.accessKey.key, k.secret);
    expect(again.scope).toBe(first.scope); // one scope for the revision
    expect(first.scope && inScope(first.scope, b.id)).toBe(false);
    // deviceIds are fixed at creation; any edit is a new revision, resolved afresh.
    await service.keys.update(k.accessKey.id, { name: 'renamed' });
    const edited = connect(a.id, k.accessKey.key, k.secret);
    expect(edited.scope).not.toBe(first.scope);
    expect(edited.scope && inScope(edited.scope, a.id)).toBe(true);

    const tk = await service.keys.create({ deviceTags: NORTH });
    await service.devices.setTags(a.id, NORTH);
    const tagged = connect(a.id, tk.accessKey.key, tk.secret);
    expect(tagged.scope && inScope(tagged.scope, b.id)).toBe(false);
    await service.devices.setTags(b.id, NORTH); // no key change: only a device's tags
    const later = connect(a.id, tk.accessKey.key, tk.secret);
    expect(later.scope && inScope(later.scope, b.id)).toBe(true);
    await service.devices.setTags(b.id, []);
    expect(connect(a.id, tk.accessKey.key, tk.secret).scope).toSatisfy((s) => s !== undefined && !inScope(s, b.id));
  });
});

describe('checkToken', () => {
  async function token(tags = NORTH) {
    const mine = await service.devices.create({ name: 'mine', tags });
    const other = await service.devices.create({ name: 'other', tags });
    const k = await service.keys.create({ deviceTags: NORTH, filterType: 'all' });
    const use = {
      keyId: k.accessKey.id,
      deviceId: mine.id,
      keyRevision: service.keys.get(k.accessKey.id).lastUpdated,
      client: { peer: '127.0.0.1' },
    };
    return { mine, other, k, use };
  }
  const purpose = (topic: string) => ({ action: 'publish' as const, topic, sourceAddress: '127.0.0.1' });
  const scopeHas = (v: ReturnType<ApiPorts['auth']['checkToken']>, d: Device) =>
    v.allowed && inScope(v.view.scope, d.id);

  it('resolves the scope at each use: another device that lost the tag is out of it at once', async () => {
    const { other, use } = await token();
    expect(scopeHas(ports.auth.checkToken(use, purpose('t')), other)).toBe(true);
    await service.devices.setTags(other.id, []);
    const v = ports.auth.checkToken(use, purpose('t'));
    expect(v.allowed).toBe(true);
    expect(scopeHas(v, other)).toBe(false);
  });

  it('refuses the token of a device that lost the tag (403, recorded with the topic)', async () => {
    const { mine, use } = await token();
    await service.devices.setTags(mine.id, [{ key: 'site', value: 'south' }]);
    const v = ports.auth.checkToken(use, purpose(`losant/${mine.id}/state`));
    expect(v).toMatchObject({ allowed: false, reauthenticate: false, decision: { reason: 'device.out-of-scope' } });
    expect(service.feed.list().at(-1)).toMatchObject({
      transport: 'http',
      action: 'publish',
      result: 'denied',
      reason: 'device.out-of-scope',
      deviceId: mine.id,
      topic: `losant/${mine.id}/state`,
    });
  });

  it.each<[string, ReasonCode, boolean]>([
    ['inactive', 'key.inactive', true],
    ['deleted', 'key.deleted', true],
    ['device deleted', 'device.unknown', true],
  ])('key or device %s: %s, authenticate again (401)', async (what, reason, reauth) => {
    const { mine, k, use } = await token();
    if (what === 'inactive') await service.keys.update(k.accessKey.id, { status: 'inactive' });
    if (what === 'deleted') await service.keys.remove(k.accessKey.id);
    if (what === 'device deleted') await service.devices.remove(mine.id);
    // An edit moves lastUpdated: inactive is seen before key.changed (row 2 before row 3).
    expect(ports.auth.checkToken(use, purpose('t'))).toMatchObject({
      allowed: false,
      reauthenticate: reauth,
      decision: { reason },
    });
  });
});

describe('watchSessions', () => {
  type S = SessionHandle & { closed?: ReasonCode };
  function registry(...list: S[]) {
    return {
      forKey: (id: string) => list.filter((s) => s.keyId === id),
      forDevice: (id: string) => list.find((s) => s.deviceId === id),
      close: (s: S, reason: ReasonCode) => void (s.closed = reason),
    };
  }

  it('closes on key inactive, key deleted and device deleted; marks a tag change that flips the match', async () => {
    const a = await service.devices.create({ name: 'a', tags: NORTH });
    const b = await service.devices.create({ name: 'b', tags: NORTH });
    const c = await service.devices.create({ name: 'c', tags: NORTH });
    const k1 = await service.keys.create({ deviceTags: NORTH });
    const k2 = await service.keys.create({ deviceTags: NORTH });
    const sa: S = { deviceId: a.id, keyId: k1.accessKey.id, scopeChangedSinceConnect: false };
    const sb: S = { deviceId: b.id, keyId: k2.accessKey.id, scopeChangedSinceConnect: false };
    const sc: S = { deviceId: c.id, keyId: k2.accessKey.id, scopeChangedSinceConnect: false };
    const off = ports.auth.watchSessions(registry(sa, sb, sc));
    await service.devices.update(a.id, { name: 'renamed' });
    await service.devices.setTags(a.id, [...NORTH, { key: 'floor', value: '2' }]); // still matches
    expect([sa.scopeChangedSinceConnect, sa.closed]).toEqual([false, undefined]);
    await service.devices.setTags(a.id, []);
    expect([sa.scopeChangedSinceConnect, sa.closed]).toEqual([true, undefined]);
    await service.keys.update(k1.accessKey.id, { status: 'inactive' });
    expect(sa.closed).toBe('key.inactive');
    await service.devices.remove(b.id);
    expect(sb.closed).toBe('device.unknown');
    await service.keys.remove(k2.accessKey.id);
    expect(sc.closed).toBe('key.deleted');
    off();
  });
});
