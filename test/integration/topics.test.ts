// docs/design.md §5 PUBLISH, SUBSCRIBE and delivery over the real listeners: mqtt.js over TCP and
// Debian's mosquitto_sub / mosquitto_pub. The topic table, gateways, filter types and delivery
// re-checks run socket-free in test/unit/broker/topics.test.ts; this file keeps a denied and a
// granted filter in one SUBSCRIBE, a retained delivery re-check and a denied PUBLISH closing the
// connection, as a C client on a real socket sees them.
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../src-main/core/types.ts';
import {
  ClientPool,
  HAVE_MOSQUITTO,
  decisionsFrom,
  mosquitto,
  mosquittoAuth,
  nextMessage,
  subscribe,
} from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';
import { STATE, fleet as fleetOf, type Key } from '../helpers/topic-fleet.ts';

let h: Harness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const fleet = (keyInput: Record<string, unknown> = {}) => fleetOf(h, keyInput);

function connectAs(device: Device, k: Key): Promise<MqttClient> {
  return pool.connect(h.mqttUrl, { clientId: device.id, username: k.accessKey.key, password: k.secret });
}

describe('mqtt.js over TCP', () => {
  it('$SYS/# is refused (SUBACK 128) while the other filter of the same SUBSCRIBE is granted and works', async () => {
    const f = await fleet();
    const a = await connectAs(f.A, f.key);
    const granted = await subscribe(a, ['$SYS/#', `losant/${f.A.id}/command`]);
    expect(granted.map((g) => g.qos)).toEqual([128, 0]);
    // The granted one really delivers: a command from the platform reaches A.
    const got = nextMessage(a, `losant/${f.A.id}/command`);
    await h.rt.service.telemetry.sendCommand(f.A.id, { name: 'ping', payload: null });
    expect(JSON.parse((await got).payload)).toMatchObject({ name: 'ping' });
  });
});

describe.skipIf(!HAVE_MOSQUITTO)('mosquitto_sub / mosquitto_pub', () => {
  it('mosquitto_sub -t \'$SYS/#\': "All subscription requests were denied."', async () => {
    const f = await fleet();
    const wait = decisionsFrom(h);
    const r = await mosquitto('mosquitto_sub', [
      ...mosquittoAuth(h.rt.ports.mqtt, f.A.id, f.key.accessKey.key, f.key.secret),
      '-t',
      '$SYS/#',
      '-W',
      '5',
    ]);
    expect(r).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'All subscription requests were denied.\n',
      timedOut: false,
    });
    const e = await wait((d) => d.action === 'subscribe' && d.deviceId === f.A.id);
    expect(e).toMatchObject({ topic: '$SYS/#', result: 'denied', reason: 'topic.system' });
  });

  it('mosquitto_sub on losant/+/state gets the in-scope retained state, not the out-of-scope one', async () => {
    const f = await fleet();
    const a = await connectAs(f.A, f.key);
    const c = await connectAs(f.C, await h.key({ deviceIds: [f.C.id] }));
    await c.publishAsync(`losant/${f.C.id}/state`, '{"data":{"who":"c"}}', { qos: 1, retain: true });
    await a.publishAsync(`losant/${f.A.id}/state`, '{"data":{"who":"a"}}', { qos: 1, retain: true });
    const wait = decisionsFrom(h);
    // B shares A's key, so its scope is {A, B}.
    const r = await mosquitto('mosquitto_sub', [
      ...mosquittoAuth(h.rt.ports.mqtt, f.B.id, f.key.accessKey.key, f.key.secret),
      '-t',
      'losant/+/state',
      '-v',
      '-C',
      '1',
      '-W',
      '5',
    ]);
    expect(r).toMatchObject({ code: 0, stdout: `losant/${f.A.id}/state {"data":{"who":"a"}}\n`, stderr: '' });
    const withheld = await wait(
      (d) => d.action === 'deliver' && d.deviceId === f.B.id && d.topic === `losant/${f.C.id}/state`,
    );
    expect(withheld.reason).toBe('topic.out-of-scope');
  });

  it('mosquitto_pub -q 1 on an out-of-scope state topic: the connection is closed (exit 7)', async () => {
    const f = await fleet();
    const wait = decisionsFrom(h);
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, f.A.id, f.key.accessKey.key, f.key.secret),
      '-q',
      '1',
      '-t',
      `losant/${f.C.id}/state`,
      '-m',
      STATE,
    ]);
    expect(r).toMatchObject({ code: 7, stdout: '', stderr: 'Error: The connection was lost.\n' });
    expect(await wait((d) => d.action === 'publish' && d.deviceId === f.A.id)).toMatchObject({
      result: 'denied',
      reason: 'topic.out-of-scope',
    });
    expect(await wait((d) => d.action === 'disconnect' && d.deviceId === f.A.id)).toMatchObject({
      reason: 'publish.denied',
    });
    expect(h.rt.service.store.getDevice(f.C.id)?.lastState).toBeUndefined();
  });
});
