// broker/client-lifecycle.ts: errors aedes reports for a connection are told apart by their
// source and code, never by their message. A packet mqtt-packet refuses is logged naming the
// device, whatever its message says; a connection that just goes away is not a malformed packet.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectPacket, rawConnect } from '../helpers/raw-mqtt.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const lines: string[] = [];

beforeAll(async () => {
  h = await startHarness({ log: (l) => lines.push(l) });
});
afterAll(() => h?.stop());

async function loggedIn() {
  const d = await h.device();
  const k = await h.key({ deviceIds: [d.id], filterType: 'all' });
  const c = await rawConnect('tcp', h.rt.ports.mqtt);
  c.write(connectPacket(d.id, k.accessKey.key, k.secret));
  await c.next((p) => p.cmd === 'connack');
  return { c, d };
}

it('logs a packet the parser refuses even when its message has none of the words the old regex knew', async () => {
  const { c, d } = await loggedIn();
  // PUBLISH with both QoS bits set (0x36): mqtt-packet says "Packet must not have both QoS bits
  // set to 1" [MQTT-3.3.1-4]; the wire guard lets it through for the parser to refuse.
  c.write(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
  await c.closed;
  await h.decision((e) => e.action === 'disconnect' && e.deviceId === d.id);
  expect(lines.filter((l) => l.includes(`malformed MQTT packet from device ${d.id}`))).toEqual([
    `keyport: malformed MQTT packet from device ${d.id}: Packet must not have both QoS bits set to 1`,
  ]);
});

it('does not call a connection that went away a malformed packet', async () => {
  const { c, d } = await loggedIn();
  c.destroy();
  const e = await h.decision((x) => x.action === 'disconnect' && x.deviceId === d.id);
  expect(e.reason).toBe('connection.lost');
  expect(lines.filter((l) => l.includes(d.id))).toEqual([]);
});
