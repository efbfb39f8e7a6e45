// Declared attributes over MQTT (issue 14 item 4; docs/design.md §5): a device that declares its
// attributes gets state.invalid, naming the attribute, for an undeclared or mistyped value, and has
// declared state stored. Losant: https://docs.losant.com/devices/attributes/ ("State data cannot be
// reported against the device unless the values ... have first been defined as attributes").
// Real backend on port 0, a real mqtt.js device; every wait is on an event.
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import { ClientPool, nextState } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const ATTRIBUTES = [
  { name: 'temp', dataType: 'number' },
  { name: 'label', dataType: 'string' },
  { name: 'on', dataType: 'boolean' },
  { name: 'where', dataType: 'gps' },
  { name: 'raw', dataType: 'blob' },
];

async function connected(attributes?: unknown): Promise<{ id: string; client: MqttClient }> {
  const d = await h.device(attributes === undefined ? {} : { attributes });
  const k = await h.key({ deviceIds: [d.id] });
  const client = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
  return { id: d.id, client };
}

function nextStateDecision(id: string): Promise<DecisionEvent> {
  const since = h.rt.service.feed.list(1)[0]?.seq ?? 0;
  return h.decision((e) => e.seq > since && e.action === 'state' && e.deviceId === id);
}

describe('declared attributes', () => {
  it('stores state whose every attribute is declared and of its type', async () => {
    const { id, client } = await connected(ATTRIBUTES);
    const stored = nextState(h, id);
    const data = { temp: 21.5, label: 'hall', on: true, where: '42.36,-71.06', raw: 'aGVsbG8=' };
    await client.publishAsync(`losant/${id}/state`, JSON.stringify({ data }), { qos: 1 });
    expect((await stored).data).toEqual(data);
    expect(h.rt.service.devices.get(id).lastState?.data).toEqual(data);
  });

  it.each([
    ['an undeclared attribute', { humidity: 40 }, 'attribute "humidity" is not declared on this device'],
    ['a string for a number', { temp: 'hot' }, 'attribute "temp" is a number; got the string "hot"'],
    ['a number for a boolean', { on: 1 }, 'attribute "on" is a boolean; got the number 1'],
    ['a gps that is not "lat,lon"', { where: 'Boston' }, 'attribute "where" is a gps'],
    ['a blob that is not base64', { raw: 'not base64!' }, 'attribute "raw" is a blob'],
  ])('refuses %s with state.invalid naming it, and stores nothing', async (_label, data, rule) => {
    const { id, client } = await connected(ATTRIBUTES);
    const decided = nextStateDecision(id);
    await client.publishAsync(`losant/${id}/state`, JSON.stringify({ data }), { qos: 1 });
    const e = await decided;
    expect(e).toMatchObject({ result: 'denied', reason: 'state.invalid' });
    expect(e.rule).toContain(rule);
    expect(h.rt.service.devices.get(id).lastState).toBeUndefined();
    expect(h.rt.service.telemetry.history(id)).toEqual([]);
    // The connection stays open: the firmware sees the refusal only in the decision feed, as on Losant.
    expect(client.connected).toBe(true);
  });

  it('a device with no declared attributes (made before attributes existed) still accepts any state', async () => {
    const { id, client } = await connected();
    const stored = nextState(h, id);
    await client.publishAsync(`losant/${id}/state`, JSON.stringify({ data: { anything: 1 } }), { qos: 1 });
    expect((await stored).data).toEqual({ anything: 1 });
  });

  it('an edgeCompute device reports state for its peripheral, like a gateway', async () => {
    const edge = await h.device({ deviceClass: 'edgeCompute' });
    const p = await h.device({ deviceClass: 'peripheral', gatewayId: edge.id });
    const k = await h.key({ deviceIds: [edge.id] });
    const client = await pool.connect(h.mqttUrl, { clientId: edge.id, username: k.accessKey.key, password: k.secret });
    const stored = nextState(h, p.id);
    await client.publishAsync(`losant/${p.id}/state`, JSON.stringify({ data: { v: 1 } }), { qos: 1 });
    expect((await stored).data).toEqual({ v: 1 });
  });
});
