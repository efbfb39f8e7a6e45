// docs/design.md §4 connection lifecycle, end to end: management changes reaching live connections (key set
// inactive or deleted, device deleted, tags changed), session take-over, clean and unclean
// disconnects, and the device's persisted connectionStatus. Real backend, real mqtt.js clients.
import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey, ConnectionStatus, Device } from '../../src-main/core/types.ts';
import {
  ClientPool,
  closed,
  collect,
  decisionsFrom,
  nextMessage,
  nextStatus,
  subscribe,
  within,
} from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

type Key = { accessKey: AccessKey; secret: string };

const creds = (device: Device, k: Key, extra: IClientOptions = {}): IClientOptions => ({
  clientId: device.id,
  username: k.accessKey.key,
  password: k.secret,
  ...extra,
});
const connectAs = (device: Device, k: Key, extra: IClientOptions = {}): Promise<MqttClient> =>
  pool.connect(h.mqttUrl, creds(device, k, extra));
const uniqueTag = () => ({ key: 'zone', value: `z-${randomBytes(6).toString('hex')}` });
const isStatus = (s: ConnectionStatus['status']) => (d: Device) => d.connectionStatus?.status === s;

/** Every device.status event for one device, from now on (the test's own history). */
function statusLog(deviceId: string): { list: ConnectionStatus[]; stop(): void } {
  const list: ConnectionStatus[] = [];
  const stop = h.rt.service.events.on('device.status', (d) => {
    if (d.id === deviceId && d.connectionStatus) list.push(d.connectionStatus);
  });
  return { list, stop };
}

describe('a key made inactive or deleted closes its live connections', () => {
  it('inactive: every connection of the key is dropped (key.inactive); reconnecting gets CONNACK 5; active again lets it in', async () => {
    const tag = uniqueTag();
    const d1 = await h.device({ tags: [tag] });
    const d2 = await h.device({ tags: [tag] });
    const k = await h.key({ deviceTags: [tag] });
    const c1 = await connectAs(d1, k);
    const c2 = await connectAs(d2, k);
    const wait = decisionsFrom(h);
    const gone = [closed(c1), closed(c2)];
    const persisted = nextStatus(h, d1.id, isStatus('disconnected'));

    await h.rt.service.keys.update(k.accessKey.id, { status: 'inactive' });
    await Promise.all(gone);
    for (const d of [d1, d2]) {
      const e = await wait((x) => x.action === 'disconnect' && x.deviceId === d.id);
      expect(e).toMatchObject({ reason: 'key.inactive', keyId: k.accessKey.id });
      expect(JSON.stringify(e)).not.toContain(k.secret);
    }
    expect((await persisted).connectionStatus).toMatchObject({
      status: 'disconnected',
      disconnectReason: 'key.inactive',
    });
    expect(h.rt.broker.sessions.forKey(k.accessKey.id)).toEqual([]);

    const again = decisionsFrom(h);
    expect((await pool.refusal(h.mqttUrl, creds(d1, k))).code).toBe(5);
    expect(await again((x) => x.action === 'connect' && x.deviceId === d1.id)).toMatchObject({
      result: 'denied',
      reason: 'key.inactive',
    });

    await h.rt.service.keys.update(k.accessKey.id, { status: 'active' });
    await connectAs(d1, k);
  });

  it('deleted: the connection is dropped with key.deleted, and the key is then unknown (CONNACK 4)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const c = await connectAs(d, k);
    const wait = decisionsFrom(h);
    const gone = closed(c);
    await h.rt.service.keys.remove(k.accessKey.id);
    await gone;
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'key.deleted',
      keyId: k.accessKey.id,
    });

    expect((await pool.refusal(h.mqttUrl, creds(d, k))).code).toBe(4);
    expect(await wait((x) => x.action === 'connect' && x.deviceId === d.id)).toMatchObject({ reason: 'key.unknown' });
  });

  it('deleted while the device has a last will on a custom topic: the disconnect still says key.deleted', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], filterType: 'all' });
    const c = await connectAs(d, k, {
      will: { topic: 'status/offline', payload: Buffer.from(d.id), qos: 0, retain: false },
    });
    const wait = decisionsFrom(h);
    const gone = closed(c);
    await h.rt.service.keys.remove(k.accessKey.id);
    await gone;
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'key.deleted',
    });
  });

  it('a last will no longer allowed by the edited rules is not published, and the disconnect still says connection.lost', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], filterType: 'all' });
    const watcher = await h.device();
    const w = await connectAs(watcher, await h.key({ deviceIds: [watcher.id], filterType: 'all' }));
    await subscribe(w, ['status/#']);
    const got = collect(w);
    const c = await connectAs(d, k, {
      will: { topic: 'status/offline', payload: Buffer.from(d.id), qos: 0, retain: false },
    });
    await h.rt.service.keys.update(k.accessKey.id, { filterType: 'none' });
    const wait = decisionsFrom(h);
    const gone = closed(c);
    c.stream.destroy();
    await gone;
    expect(await wait((x) => x.action === 'publish' && x.deviceId === d.id)).toMatchObject({
      topic: 'status/offline',
      result: 'denied',
      reason: 'topic.custom-none',
    });
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'connection.lost',
    });
    // The watcher still gets later traffic on status/#, and never got the will.
    const later = nextMessage(w, 'status/later');
    await w.publishAsync('status/later', 'x', { qos: 1 });
    await later;
    expect(got.map((m) => m.topic)).toEqual(['status/later']);
  });

  it('a device deleted while connected is dropped (device.unknown)', async () => {
    const d = await h.device();
    const c = await connectAs(d, await h.key({ deviceIds: [d.id] }));
    const wait = decisionsFrom(h);
    const gone = closed(c);
    await h.rt.service.devices.remove(d.id);
    await gone;
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'device.unknown',
    });
  });
});

describe('tag-scoped keys: scope is resolved at connect', () => {
  it('a tag change keeps the live connection (flagged), refuses new ones, and adding the tag back lets it connect', async () => {
    const tag = uniqueTag();
    const other = { key: 'colour', value: 'blue' };
    const d = await h.device({ tags: [tag, other] });
    const k = await h.key({ deviceTags: [tag] });
    const up = nextStatus(h, d.id, isStatus('connected'));
    const c = await connectAs(d, k);
    expect((await up).connectionStatus?.scopeChangedSinceConnect).toBeUndefined();

    const flagged = nextStatus(h, d.id, (x) => x.connectionStatus?.scopeChangedSinceConnect === true);
    await h.rt.service.devices.setTags(d.id, [other]);
    expect((await flagged).connectionStatus).toMatchObject({ status: 'connected', scopeChangedSinceConnect: true });
    expect(h.rt.service.store.getDevice(d.id)?.connectionStatus?.scopeChangedSinceConnect).toBe(true);
    expect(h.rt.broker.sessions.forDevice(d.id)?.scopeChangedSinceConnect).toBe(true);
    // Still connected, and its own topics still work (scope resolved at connect).
    await c.publishAsync(`losant/${d.id}/state`, '{"data":{"x":1}}', { qos: 1 });
    expect(c.connected).toBe(true);

    // A NEW connection reads the tags now: refused, and it does not take the live one over.
    const wait = decisionsFrom(h);
    expect((await pool.refusal(h.mqttUrl, creds(d, k))).code).toBe(5);
    expect(await wait((x) => x.action === 'connect' && x.deviceId === d.id)).toMatchObject({
      result: 'denied',
      reason: 'device.out-of-scope',
      keyId: k.accessKey.id,
    });
    await c.publishAsync(`losant/${d.id}/state`, '{"data":{"x":2}}', { qos: 1 });
    expect(c.connected).toBe(true);

    // The tag back: a new connection is accepted (and takes the old one over).
    await h.rt.service.devices.setTags(d.id, [tag, other]);
    const oldGone = closed(c);
    const fresh = nextStatus(
      h,
      d.id,
      (x) => isStatus('connected')(x) && x.connectionStatus?.scopeChangedSinceConnect === undefined,
    );
    const c2 = await connectAs(d, k);
    await oldGone;
    expect(await wait((x) => x.action === 'connect' && x.deviceId === d.id && x.result === 'allowed')).toMatchObject({
      reason: 'connect.accepted',
    });
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'session.taken-over',
    });
    await fresh; // the new session is not flagged
    expect(h.rt.broker.sessions.forDevice(d.id)?.scopeChangedSinceConnect).toBe(false);
    expect(c2.connected).toBe(true);
  });

  it("another device's tag change does not shrink a live session's scope", async () => {
    const tag = uniqueTag();
    const a = await h.device({ tags: [tag] });
    const b = await h.device({ tags: [tag] });
    const k = await h.key({ deviceTags: [tag] });
    const ca = await connectAs(a, k);
    const cb = await connectAs(b, k);
    await subscribe(cb, [`losant/${b.id}/command`]);
    await h.rt.service.devices.setTags(b.id, []); // b leaves the tag while both are connected
    const got = nextMessage(cb, `losant/${b.id}/command`);
    await ca.publishAsync(`losant/${b.id}/command`, '{"name":"still"}', { qos: 1 });
    expect(JSON.parse((await got).payload)).toEqual({ name: 'still' });
  });
});

describe('session take-over', () => {
  it('a second connection with the same device id closes the first (session.taken-over); the device stays connected', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const log = statusLog(d.id);
    try {
      const c1 = await connectAs(d, k);
      const wait = decisionsFrom(h);
      const c1Gone = closed(c1);
      const c2 = await connectAs(d, k);
      await c1Gone;
      const dc = await wait((x) => x.action === 'disconnect' && x.deviceId === d.id);
      expect(dc).toMatchObject({ reason: 'session.taken-over', keyId: k.accessKey.id });
      expect(h.rt.broker.sessions.forDevice(d.id)).toBeDefined();
      // The survivor works, receives its commands and is the one the broker knows.
      await subscribe(c2, [`losant/${d.id}/command`]);
      const got = nextMessage(c2, `losant/${d.id}/command`);
      await h.rt.service.telemetry.sendCommand(d.id, { name: 'hello' });
      expect(JSON.parse((await got).payload)).toMatchObject({ name: 'hello' });
      expect(h.rt.service.store.getDevice(d.id)?.connectionStatus?.status).toBe('connected');

      // Only the survivor's clean DISCONNECT makes the device disconnected; the take-over never did.
      const down = nextStatus(h, d.id, isStatus('disconnected'));
      await c2.endAsync();
      await down;
      expect(log.list.map((s) => [s.status, s.disconnectReason])).toEqual([
        ['connected', undefined],
        ['connected', undefined],
        ['disconnected', 'client.disconnect'],
      ]);
    } finally {
      log.stop();
    }
  });
});

describe('disconnect reasons and connectionStatus', () => {
  it('connect, clean DISCONNECT (client.disconnect), reconnect, destroyed socket (connection.lost)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const t0 = Date.now();

    const up = nextStatus(h, d.id, isStatus('connected'));
    const c = await connectAs(d, k);
    const s1 = (await up).connectionStatus!;
    expect(s1).toMatchObject({ status: 'connected', ipAddress: '127.0.0.1', transport: 'tcp' });
    expect(s1.disconnectReason).toBeUndefined();
    expect(s1.disconnectedAt).toBeUndefined();
    expect(Date.parse(s1.connectedAt!)).toBeGreaterThanOrEqual(t0 - 1);

    await c.publishAsync(`losant/${d.id}/state`, '{"data":{"n":1}}', { qos: 1 });
    await c.publishAsync(`losant/${d.id}/state`, '{"data":{"n":2}}', { qos: 1 });
    const wait = decisionsFrom(h);
    const down = nextStatus(h, d.id, isStatus('disconnected'));
    await c.endAsync(); // sends DISCONNECT
    const s2 = (await down).connectionStatus!;
    expect(await wait((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'client.disconnect',
    });
    expect(s2).toMatchObject({
      status: 'disconnected',
      disconnectReason: 'client.disconnect',
      connectedAt: s1.connectedAt,
      ipAddress: '127.0.0.1',
      messagesFromClient: 2,
    });
    expect(Date.parse(s2.disconnectedAt!)).toBeGreaterThanOrEqual(Date.parse(s1.connectedAt!));
    expect(h.rt.service.store.getDevice(d.id)?.connectionStatus).toEqual(s2);

    const up2 = nextStatus(h, d.id, isStatus('connected'));
    const c2 = await connectAs(d, k);
    const s3 = (await up2).connectionStatus!;
    expect(s3.status).toBe('connected');
    expect(s3.disconnectedAt).toBe(s2.disconnectedAt); // the previous disconnect is remembered
    expect(s3.disconnectReason).toBeUndefined();

    const wait2 = decisionsFrom(h);
    const down2 = nextStatus(h, d.id, isStatus('disconnected'));
    const gone = closed(c2);
    c2.stream.destroy(); // no DISCONNECT packet
    await gone;
    expect(await wait2((x) => x.action === 'disconnect' && x.deviceId === d.id)).toMatchObject({
      reason: 'connection.lost',
    });
    const s4 = (await down2).connectionStatus!;
    expect(s4).toMatchObject({
      status: 'disconnected',
      disconnectReason: 'connection.lost',
      connectedAt: s3.connectedAt,
    });
  });

  it('a destroyed socket publishes the last will; a clean DISCONNECT does not', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const watcher = await h.device();
    const w = await connectAs(watcher, await h.key({ deviceIds: [watcher.id, d.id] }));
    await subscribe(w, [`losant/${d.id}/state`]);
    const got = collect(w);
    const will = {
      topic: `losant/${d.id}/state`,
      payload: Buffer.from('{"data":{"online":false}}'),
      qos: 0 as const,
      retain: false,
    };

    const c1 = await connectAs(d, k, { will });
    const down = nextStatus(h, d.id, isStatus('disconnected'));
    await c1.endAsync();
    await down;

    const c2 = await connectAs(d, k, { will });
    const willArrives = nextMessage(w, `losant/${d.id}/state`);
    c2.stream.destroy();
    expect((await willArrives).payload).toBe('{"data":{"online":false}}');
    expect(got).toHaveLength(1);
  });

  it('over WebSocket with X-Forwarded-For from loopback: ipAddress is the forwarded address, transport ws', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const up = nextStatus(h, d.id, isStatus('connected'));
    const c = await pool.connect(
      h.wsUrl,
      creds(d, k, { wsOptions: { headers: { 'X-Forwarded-For': '198.51.100.4, 127.0.0.1' } } }),
    );
    expect((await up).connectionStatus).toMatchObject({
      status: 'connected',
      ipAddress: '198.51.100.4',
      transport: 'ws',
    });
    const down = nextStatus(h, d.id, isStatus('disconnected'));
    // 5 s: names the awaited event if it never comes (it takes ms); see helpers/mqtt-clients.ts
    await within(c.endAsync(), 5_000, 'end');
    expect((await down).connectionStatus).toMatchObject({
      status: 'disconnected',
      ipAddress: '198.51.100.4',
      transport: 'ws',
      disconnectReason: 'client.disconnect',
    });
  });
});
