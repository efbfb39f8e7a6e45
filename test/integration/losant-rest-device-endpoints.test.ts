// The device endpoints a test script needs, driven by Losant's own client, losant-rest (2.8.1 is
// both the pinned devDependency and the newest version the registry serves: `npm view
// losant-rest dist-tags` → latest 2.8.1). Schemas: node_modules/losant-rest/lib/schemas
// (deviceCommand, deviceStates, deviceCommands, device, success). Real runtime and MQTT device
// (mqtt.js over TCP), port 0, events awaited.
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { losantApiRoutes } from '../../src-main/server/losant-api/routes.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

type Call = (params: Record<string, unknown>) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface LosantClient {
  auth: { authenticateDevice: Call };
  device: { sendState: Call; getState: Call; sendCommand: Call; getCommand: Call; get: Call; delete: Call };
  devices: { get: Call; post: Call };
  applicationKeys: { post: Call };
  applicationKey: { delete: Call };
  setOption(name: string, value: unknown): LosantClient;
}
interface LosantError extends Error {
  statusCode?: number;
  type?: string;
}

const require = createRequire(import.meta.url);
const losant = require('losant-rest') as { createClient(opts: { url?: string; accessToken?: string }): LosantClient };

let h: Harness;
let url: string;
let applicationId: string;
let admin: LosantClient;
const clients: MqttClient[] = [];

beforeAll(async () => {
  h = await startHarness({ routes: (rt) => losantApiRoutes(rt) });
  url = `http://127.0.0.1:${h.rt.ports.http}`;
  applicationId = h.rt.service.applicationId;
  admin = losant.createClient({ url, accessToken: h.rt.adminToken });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await h?.stop();
});

async function rejection(p: Promise<unknown>): Promise<LosantError> {
  try {
    await p;
  } catch (err) {
    return err as LosantError;
  }
  throw new Error('expected the call to fail');
}

/** A device and a key for it; the device connected over MQTT and subscribed to its commands. */
async function mqttDevice(name: string): Promise<{ id: string; key: string; secret: string; client: MqttClient }> {
  const device = await admin.devices.post({ applicationId, device: { name, tags: [{ key: 'site', value: name }] } });
  const key = await admin.applicationKeys.post({ applicationId, applicationKey: { deviceIds: [device.id] } });
  // connectTimeout 5 s: a loopback CONNACK takes milliseconds; the bound only names a hang.
  const client = await mqtt.connectAsync(h.mqttUrl, {
    clientId: device.id,
    username: key.key,
    password: key.secret,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  clients.push(client);
  await client.subscribeAsync(`losant/${device.id}/command`);
  return { id: device.id, key: key.key, secret: key.secret, client };
}

async function deviceClient(d: { id: string; key: string; secret: string }): Promise<LosantClient> {
  const c = losant.createClient({ url });
  const authed = await c.auth.authenticateDevice({ credentials: { deviceId: d.id, key: d.key, secret: d.secret } });
  return c.setOption('accessToken', authed.token);
}

describe('losant-rest device endpoints against Keyport', () => {
  it('device.sendCommand reaches a device connected over MQTT, and device.getCommand reads it back', async () => {
    const d = await mqttDevice('cmd-target');
    const arrived = new Promise<{ topic: string; body: Record<string, unknown> }>((resolve) =>
      d.client.once('message', (topic, msg) => resolve({ topic, body: JSON.parse(msg.toString()) })),
    );
    const time = new Date('2030-01-02T03:04:05.000Z');
    const sent = await admin.device.sendCommand({
      applicationId,
      deviceId: d.id,
      deviceCommand: { name: 'setLed', payload: { on: true }, time: time.getTime() },
    });
    expect(sent).toEqual({ success: true });
    const msg = await arrived;
    expect(msg.topic).toBe(`losant/${d.id}/command`);
    expect(msg.body).toEqual({ name: 'setLed', payload: { on: true }, time: { $date: time.toISOString() } });
    const decision = await h.decision((e) => e.transport === 'http' && e.topic === `losant/${d.id}/command`);
    expect(decision).toMatchObject({ result: 'allowed', rule: 'admin token (the platform)' });

    // The device itself reads its commands with its token (Losant scope all.Device).
    const dev = await deviceClient(d);
    const read = await dev.device.getCommand({ applicationId, deviceId: d.id, limit: 10 });
    expect(read).toEqual([{ name: 'setLed', payload: { on: true }, time: time.toISOString() }]);
  });

  it('device.sendCommand refuses bad bodies with 400 naming the field, and unknown devices with 404', async () => {
    const d = await mqttDevice('cmd-bad');
    const noName = await rejection(
      admin.device.sendCommand({ applicationId, deviceId: d.id, deviceCommand: { payload: 1 } }),
    );
    expect(noName.statusCode).toBe(400);
    expect(noName.message).toContain('name');
    const extra = await rejection(
      admin.device.sendCommand({ applicationId, deviceId: d.id, deviceCommand: { name: 'x', colour: 'red' } }),
    );
    expect(extra.statusCode).toBe(400);
    expect(extra.message).toContain('colour');
    const missing = await rejection(
      admin.device.sendCommand({ applicationId, deviceId: 'ffffffffffffffffffffffff', deviceCommand: { name: 'x' } }),
    );
    expect(missing.statusCode).toBe(404);
  });

  it('a device token sends commands only to devices in its key scope', async () => {
    const d = await mqttDevice('cmd-self');
    const other = await mqttDevice('cmd-other');
    const dev = await deviceClient(d);
    const arrived = new Promise<string>((resolve) => d.client.once('message', (_t, m) => resolve(m.toString())));
    expect(await dev.device.sendCommand({ applicationId, deviceId: d.id, deviceCommand: { name: 'self' } })).toEqual({
      success: true,
    });
    expect(JSON.parse(await arrived)).toMatchObject({ name: 'self' });
    const denied = await rejection(
      dev.device.sendCommand({ applicationId, deviceId: other.id, deviceCommand: { name: 'stranger' } }),
    );
    expect(denied.statusCode).toBe(403);
    expect(denied.message).toContain('may not send commands');
  });

  it('device.getState reads back states with limit (default 1), since and sortDirection', async () => {
    const d = await mqttDevice('state-reader');
    const dev = await deviceClient(d);
    const t0 = Date.parse('2030-05-01T00:00:00.000Z');
    const states = [0, 1, 2].map((i) => ({ data: { n: i }, time: t0 + i * 1000 }));
    expect(await dev.device.sendState({ applicationId, deviceId: d.id, deviceState: states })).toEqual({
      success: true,
    });
    const iso = (i: number): string => new Date(t0 + i * 1000).toISOString();

    expect(await admin.device.getState({ applicationId, deviceId: d.id })).toEqual([{ time: iso(2), data: { n: 2 } }]);
    const all = await dev.device.getState({ applicationId, deviceId: d.id, limit: 10 });
    expect(all.map((s: { data: { n: number } }) => s.data.n)).toEqual([2, 1, 0]);
    const since = await dev.device.getState({ applicationId, deviceId: d.id, limit: 10, since: t0 + 1000 });
    expect(since.map((s: { data: { n: number } }) => s.data.n)).toEqual([2, 1]);
    const asc = await dev.device.getState({ applicationId, deviceId: d.id, limit: 2, sortDirection: 'asc' });
    expect(asc.map((s: { time: string }) => s.time)).toEqual([iso(1), iso(2)]);

    // A state reported over MQTT is read back the same way.
    const stored = new Promise<void>((resolve) => {
      const off = h.rt.service.events.on('device.state', (e) => {
        if (e.deviceId === d.id) {
          off();
          resolve();
        }
      });
    });
    await d.client.publishAsync(`losant/${d.id}/state`, JSON.stringify({ data: { n: 3 }, time: t0 + 3000 }), {
      qos: 1,
    });
    await stored;
    expect(await dev.device.getState({ applicationId, deviceId: d.id })).toEqual([{ time: iso(3), data: { n: 3 } }]);

    const bad = await rejection(admin.device.getState({ applicationId, deviceId: d.id, limit: 0 }));
    expect(bad.statusCode).toBe(400);
    expect(bad.message).toContain('limit');
    const badSince = await rejection(admin.device.getState({ applicationId, deviceId: d.id, since: 'yesterday' }));
    expect(badSince.message).toContain('since');

    const other = await mqttDevice('state-other');
    const denied = await rejection(dev.device.getState({ applicationId, deviceId: other.id }));
    expect(denied.statusCode).toBe(403);
  });

  it('devices.get filters by tagFilter (qs-encoded by losant-rest): key+value, key only, value only', async () => {
    const mk = (name: string, tags: { key: string; value: string }[]): Promise<{ id: string }> =>
      admin.devices.post({ applicationId, device: { name, tags } });
    const a = await mk('tf-a', [{ key: 'floor', value: 'tf-2' }]);
    const b = await mk('tf-b', [{ key: 'floor', value: 'tf-3' }]);
    const c = await mk('tf-c', [{ key: 'room', value: 'tf-2' }]);
    const ids = async (tagFilter: unknown): Promise<string[]> =>
      (await admin.devices.get({ applicationId, tagFilter, filter: 'tf-*', perPage: 100 })).items
        .map((d: { id: string }) => d.id)
        .sort();
    expect(await ids([{ key: 'floor', value: 'tf-2' }])).toEqual([a.id]);
    expect(await ids([{ key: 'floor' }])).toEqual([a.id, b.id].sort());
    expect(await ids([{ value: 'tf-2' }])).toEqual([a.id, c.id].sort());
    const bad = await rejection(admin.devices.get({ applicationId, tagFilter: [{ colour: 'red' }] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.message).toContain('tagFilter[0].colour');
  });

  it('POST of devices and keys answers 201, DELETE {success:true} (status read on the wire)', async () => {
    const auth = { authorization: `Bearer ${h.rt.adminToken}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown): Promise<{ status: number; json: { id: string } }> => {
      const r = await fetch(`${url}/applications/${applicationId}${path}`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as { id: string } };
    };
    const dev = await post('/devices', { name: 'wire-201' });
    expect(dev.status).toBe(201);
    const key = await post('/keys', { deviceIds: [dev.json.id] });
    expect(key.status).toBe(201);
    expect(await admin.applicationKey.delete({ applicationId, applicationKeyId: key.json.id })).toEqual({
      success: true,
    });
    expect(await admin.device.delete({ applicationId, deviceId: dev.json.id })).toEqual({ success: true });
  });

  it("device.get returns connectionInfo in Losant's shape while connected and after", async () => {
    const d = await mqttDevice('conn-info');
    const on = await admin.device.get({ applicationId, deviceId: d.id });
    expect(on).toMatchObject({ id: d.id, deviceId: d.id, applicationId, attributes: [] });
    expect(on.connectionInfo).toMatchObject({ connected: 1, transport: 'tcp' });
    expect(Date.parse(on.connectionInfo.time)).not.toBeNaN();
    const gone = new Promise<void>((resolve) => {
      const off = h.rt.service.events.on('device.status', (dev) => {
        if (dev.id === d.id && dev.connectionStatus?.status === 'disconnected') {
          off();
          resolve();
        }
      });
    });
    await d.client.endAsync();
    await gone;
    const off = await admin.device.get({ applicationId, deviceId: d.id });
    expect(off.connectionInfo).toMatchObject({ connected: 0 });
  });
});
