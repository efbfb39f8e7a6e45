// docs/design.md §9 goal: Losant's own REST client (losant-rest 2.8.1, unchanged) works against Keyport at
// http://127.0.0.1:PORT — device auth, state, commands, and key/device management with the
// admin token. Real sockets, port 0, no sleeps.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { losantApiRoutes } from '../../src-main/server/losant-api/routes.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

/** The parts of losant-rest this test uses (the package ships no types). */
type Call = (params: Record<string, unknown>) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface LosantClient {
  auth: { authenticateDevice: Call };
  device: { sendState: Call; getCommand: Call; get: Call };
  devices: { get: Call; post: Call };
  applicationKeys: { get: Call; post: Call };
  applicationKey: { get: Call; patch: Call; delete: Call };
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
let adminClient: LosantClient;

beforeAll(async () => {
  h = await startHarness({ routes: (rt) => losantApiRoutes(rt) });
  url = `http://127.0.0.1:${h.rt.ports.http}`;
  applicationId = h.rt.service.applicationId;
  adminClient = losant.createClient({ url, accessToken: h.rt.adminToken });
});
afterAll(() => h?.stop());

async function rejection(p: Promise<unknown>): Promise<LosantError> {
  try {
    await p;
  } catch (err) {
    return err as LosantError;
  }
  throw new Error('expected the call to fail');
}

describe('losant-rest against Keyport', () => {
  it('creates a device and a key, authenticates the device, sends state and reads commands', async () => {
    const device = await adminClient.devices.post({
      applicationId,
      device: {
        name: 'Porch sensor',
        tags: [{ key: 'site', value: 'home' }],
        attributes: [{ name: 'temperature', dataType: 'number' }],
      },
    });
    expect(device).toMatchObject({ applicationId, name: 'Porch sensor', deviceClass: 'standalone' });
    expect(device.deviceId).toBe(device.id);

    const key = await adminClient.applicationKeys.post({
      applicationId,
      applicationKey: { description: 'porch', deviceIds: [device.id] },
    });
    expect(key.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(key.applicationKeyId).toBe(key.id);

    const deviceClient = losant.createClient({ url });
    const authed = await deviceClient.auth.authenticateDevice({
      credentials: { deviceId: device.id, key: key.key, secret: key.secret },
    });
    expect(authed).toMatchObject({
      applicationId,
      deviceId: device.id,
      deviceClass: 'standalone',
      filterType: 'none',
      pubTopics: [],
      subTopics: [],
    });
    expect(typeof authed.token).toBe('string');
    deviceClient.setOption('accessToken', authed.token);

    const sent = await deviceClient.device.sendState({
      applicationId: authed.applicationId,
      deviceId: device.id,
      deviceState: { data: { temperature: 19.5 } },
    });
    expect(sent).toEqual({ success: true });
    expect(h.rt.service.store.getDevice(device.id)?.lastState?.data).toEqual({ temperature: 19.5 });

    const commandSeen = new Promise<void>((resolve) => {
      const off = h.rt.service.events.on('device.command', (c) => {
        if (c.deviceId === device.id) {
          off();
          resolve();
        }
      });
    });
    await h.rt.service.telemetry.sendCommand(device.id, { name: 'blink', payload: { times: 3 } });
    await commandSeen;
    const commands = await deviceClient.device.getCommand({ applicationId, deviceId: device.id, limit: 5 });
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({ name: 'blink', payload: { times: 3 } });

    // The device token is not a management token.
    const denied = await rejection(deviceClient.applicationKeys.get({ applicationId }));
    expect(denied.statusCode).toBe(403);
    expect(denied.type).toBe('Forbidden');

    // A state for a device outside the key's scope.
    const stranger = await adminClient.devices.post({ applicationId, device: { name: 'Stranger' } });
    const outOfScope = await rejection(
      deviceClient.device.sendState({ applicationId, deviceId: stranger.id, deviceState: { data: { x: 1 } } }),
    );
    expect(outOfScope.statusCode).toBe(403);
  });

  it('surfaces failed device auth as Losant errors (statusCode 401, type, message)', async () => {
    const device = await h.device();
    const key = await h.key({ deviceIds: [device.id] });
    const client = losant.createClient({ url });
    const err = await rejection(
      client.auth.authenticateDevice({
        credentials: { deviceId: device.id, key: key.accessKey.key, secret: '00'.repeat(32) },
      }),
    );
    expect(err.statusCode).toBe(401);
    expect(err.type).toBe('Unauthorized');
    expect(err.message).toContain('Authorization failed');
    const bad = await rejection(
      client.auth.authenticateDevice({
        credentials: { deviceId: device.id, key: key.accessKey.key, secret: key.secret, tokenTTL: -5 },
      }),
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.message).toContain('tokenTTL');
  });

  it('creates, queries, patches and deletes keys', async () => {
    const d1 = await h.device({ tags: [{ key: 'type', value: 'thermostat' }] });
    const a = await adminClient.applicationKeys.post({
      applicationId,
      applicationKey: { description: 'Kitchen thermostat', deviceIds: [d1.id] },
    });
    const b = await adminClient.applicationKeys.post({
      applicationId,
      applicationKey: {
        description: 'all thermostats',
        deviceTags: [{ key: 'type', value: 'thermostat' }],
        filterType: 'whitelist',
        pubTopics: ['home/+/temp'],
      },
    });
    const c = await adminClient.applicationKeys.post({ applicationId, applicationKey: { description: 'lights' } });

    const queried = await adminClient.applicationKeys.get({
      applicationId,
      query: { description: { $contains: 'thermostat', $ci: true } },
      sortField: 'creationDate',
      sortDirection: 'asc',
    });
    expect(queried).toMatchObject({
      applicationId,
      count: 2,
      totalCount: 2,
      sortField: 'creationDate',
      sortDirection: 'asc',
    });
    expect(queried.items.map((k: { id: string }) => k.id).sort()).toEqual([a.id, b.id].sort());
    expect(JSON.stringify(queried)).not.toContain(a.secret);

    const byTag = await adminClient.applicationKeys.get({
      applicationId,
      query: { deviceTags: { $tagKey: 'type', $tagValue: 'thermostat' } },
    });
    expect(byTag.items.map((k: { id: string }) => k.id)).toEqual([b.id]);

    const paged = await adminClient.applicationKeys.get({
      applicationId,
      perPage: 1,
      page: 0,
      filterField: 'key',
      filter: `${c.key.slice(0, 6)}*`,
    });
    expect(paged).toMatchObject({ count: 1, perPage: 1, page: 0 });
    expect(paged.items[0].id).toBe(c.id);

    const badQuery = await rejection(adminClient.applicationKeys.get({ applicationId, query: { colour: 'red' } }));
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.message).toContain('colour');

    const one = await adminClient.applicationKey.get({ applicationId, applicationKeyId: b.id });
    expect(one).toMatchObject({
      id: b.id,
      applicationKeyId: b.id,
      filterType: 'whitelist',
      pubTopics: ['home/+/temp'],
      deviceTags: [{ key: 'type', value: 'thermostat' }],
    });
    expect(one.secret).toBeUndefined();

    const patched = await adminClient.applicationKey.patch({
      applicationId,
      applicationKeyId: b.id,
      applicationKey: { status: 'inactive', pubTopics: ['home/#'] },
    });
    expect(patched).toMatchObject({ status: 'inactive', pubTopics: ['home/#'] });
    const immutable = await rejection(
      adminClient.applicationKey.patch({
        applicationId,
        applicationKeyId: b.id,
        applicationKey: { deviceIds: [d1.id] },
      }),
    );
    expect(immutable.statusCode).toBe(400);
    expect(immutable.message).toContain('deviceIds');

    const inactive = await adminClient.applicationKeys.get({
      applicationId,
      filterField: 'status',
      filter: 'inactive',
    });
    expect(inactive.items.map((k: { id: string }) => k.id)).toEqual([b.id]);

    expect(await adminClient.applicationKey.delete({ applicationId, applicationKeyId: b.id })).toEqual({
      success: true,
    });
    const gone = await rejection(adminClient.applicationKey.get({ applicationId, applicationKeyId: b.id }));
    expect(gone.statusCode).toBe(404);
    expect(gone.type).toBe('NotFound');

    const wrongApp = await rejection(adminClient.applicationKeys.get({ applicationId: 'ffffffffffffffffffffffff' }));
    expect(wrongApp.statusCode).toBe(404);
  });

  it("lists devices with Losant's parameters", async () => {
    const gw = await adminClient.devices.post({
      applicationId,
      device: { name: 'zz-gateway', deviceClass: 'gateway', tags: [{ key: 'zone', value: 'z9' }] },
    });
    await adminClient.devices.post({
      applicationId,
      device: {
        name: 'zz-peripheral',
        deviceClass: 'peripheral',
        gatewayId: gw.id,
        tags: [{ key: 'zone', value: 'z9' }],
      },
    });
    const list = await adminClient.devices.get({
      applicationId,
      filterField: 'name',
      filter: 'zz-*',
      sortField: 'name',
      sortDirection: 'desc',
    });
    expect(list).toMatchObject({ applicationId, count: 2, totalCount: 2, sortField: 'name', sortDirection: 'desc' });
    expect(list.items.map((d: { name: string }) => d.name)).toEqual(['zz-peripheral', 'zz-gateway']);
    const byClass = await adminClient.devices.get({
      applicationId,
      deviceClass: ['gateway'],
      tagFilter: [{ key: 'zone', value: 'z9' }],
    });
    expect(byClass.items.map((d: { id: string }) => d.id)).toEqual([gw.id]);
    const byQuery = await adminClient.devices.get({
      applicationId,
      query: { tags: { zone: 'z9' }, deviceClass: 'peripheral' },
    });
    expect(byQuery.items).toHaveLength(1);
    expect(byQuery.items[0]).toMatchObject({ gatewayId: gw.id, deviceClass: 'peripheral' });
    const fetched = await adminClient.device.get({ applicationId, deviceId: gw.id });
    expect(fetched).toMatchObject({
      id: gw.id,
      deviceId: gw.id,
      name: 'zz-gateway',
      connectionInfo: { connected: null },
    });
  });
});
