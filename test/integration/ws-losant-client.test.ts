// A device connecting over WebSocket exactly as Losant's own client library does
// (github:Losant/losant-mqtt-js lib/mqtt.js, v5.0.0): mqtt.connect('ws://' + endpoint, {clientId:
// device id, username: key, password: secret, port}) — no path in the URL, so mqtt.js asks for
// `/`, and no protocolVersion, so mqtt.js' default 4 (MQTT 3.1.1). On connect it subscribes to
// losant/{id}/command (lib/device.js handleConnect). Real runtime, port 0, events awaited.
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const clients: MqttClient[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await h?.stop();
});

/** losant-mqtt-js' connect, option for option; reconnectPeriod 0 only so a refusal is not retried. */
function connectLikeLosant(opts: { id: string; key: string; secret: string; path?: string }): Promise<MqttClient> {
  const client = mqtt.connect(`ws://127.0.0.1${opts.path ?? ''}`, {
    clientId: opts.id,
    username: opts.key,
    password: opts.secret,
    port: h.rt.ports.ws,
    reconnectPeriod: 0,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    // A refused upgrade (e.g. 404) closes without an error event: fail at once, not at a timeout.
    client.once('close', () => reject(new Error(`closed before CONNACK (path ${opts.path ?? '/'})`)));
  });
}

describe('MQTT over WebSocket as losant-mqtt-js connects', () => {
  it('accepts ws://127.0.0.1:PORT (no path) with device id / key / secret, MQTT 3.1.1', async () => {
    const device = await h.device({ name: 'ws-root' });
    const { accessKey, secret } = await h.key({ deviceIds: [device.id] });
    const client = await connectLikeLosant({ id: device.id, key: accessKey.key, secret });
    expect(client.options.protocolVersion).toBe(4);
    expect(client.options.path).toBe('/');
    const connect = await h.decision((e) => e.action === 'connect' && e.deviceId === device.id);
    expect(connect).toMatchObject({ result: 'allowed', transport: 'ws' });

    // What the Losant client does next: subscribe to its command topic, then receive a command.
    const topic = `losant/${device.id}/command`;
    const granted = await client.subscribeAsync(topic);
    expect(granted[0]?.qos).toBe(0);
    const arrived = new Promise<string>((resolve) => client.once('message', (_t, msg) => resolve(msg.toString())));
    await h.rt.service.telemetry.sendCommand(device.id, { name: 'reboot' });
    expect(JSON.parse(await arrived)).toMatchObject({ name: 'reboot' });
  });

  it('accepts /mqtt and another path the same way, and still checks the secret', async () => {
    const device = await h.device({ name: 'ws-paths' });
    const { accessKey, secret } = await h.key({ deviceIds: [device.id] });
    for (const path of ['/mqtt', '/ws']) {
      const c = await connectLikeLosant({ id: device.id, key: accessKey.key, secret, path });
      expect(c.connected).toBe(true);
      await c.endAsync();
    }
    const refused = connectLikeLosant({ id: device.id, key: accessKey.key, secret: '0'.repeat(64) });
    await expect(refused).rejects.toThrow(/Bad username or password/i);
  });
});
