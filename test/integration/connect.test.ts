// docs/design.md §4 CONNECT, end to end: the real backend (port 0, temp data dir) against real clients
// (mqtt.js over TCP, WebSocket and TLS; mosquitto_pub). Every row of the check table: the CONNACK
// code the client sees AND the decision event's reason; the event names the key, never the secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { ReasonCode } from '../../src-main/core/types.ts';
import {
  ClientPool,
  HAVE_MOSQUITTO,
  decisionsOf,
  mosquitto,
  mosquittoAuth,
  nextState,
} from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const hex24 = (): string => randomBytes(12).toString('hex');
const fakeSecret = (): string => randomBytes(32).toString('hex');

/** The one connect decision for this client id (each attempt produces exactly one). */
async function connectDecision(clientId: string): Promise<DecisionEvent> {
  const e = await h.decision((d) => d.action === 'connect' && d.deviceId === clientId);
  expect(decisionsOf(h, clientId).filter((d) => d.action === 'connect')).toHaveLength(1);
  return e;
}

function expectNoSecret(event: DecisionEvent, ...secrets: string[]): void {
  const text = JSON.stringify(event);
  for (const s of secrets) expect(text).not.toContain(s);
}

interface Attempt {
  url?: string;
  clientId: string;
  opts: IClientOptions;
  /** The key the event must name (absent: the event must name none). */
  keyId?: string;
  /** Secrets that must never appear in the event. */
  secrets: string[];
  /** Extra expectations on the event. */
  event?: Partial<DecisionEvent>;
}

interface Row {
  name: string;
  code: number;
  reason: ReasonCode;
  setup(): Promise<Attempt>;
}

const rows: Row[] = [
  {
    name: 'no username',
    code: 4,
    reason: 'credentials.missing',
    async setup() {
      const d = await h.device();
      return { clientId: d.id, opts: {}, secrets: [] };
    },
  },
  {
    name: 'username without password',
    code: 4,
    reason: 'credentials.missing',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id] });
      return { clientId: d.id, opts: { username: k.accessKey.key }, secrets: [k.secret] };
    },
  },
  {
    name: 'unknown key',
    code: 4,
    reason: 'key.unknown',
    async setup() {
      const d = await h.device();
      const secret = fakeSecret();
      return { clientId: d.id, opts: { username: randomUUID(), password: secret }, secrets: [secret] };
    },
  },
  {
    name: 'wrong secret',
    code: 4,
    reason: 'secret.mismatch',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id] });
      const wrong = fakeSecret();
      return {
        clientId: d.id,
        opts: { username: k.accessKey.key, password: wrong },
        keyId: k.accessKey.id,
        secrets: [k.secret, wrong],
      };
    },
  },
  {
    name: 'inactive key',
    code: 5,
    reason: 'key.inactive',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id], status: 'inactive' });
      return {
        clientId: d.id,
        opts: { username: k.accessKey.key, password: k.secret },
        keyId: k.accessKey.id,
        secrets: [k.secret],
      };
    },
  },
  {
    name: 'address not in the whitelist',
    code: 5,
    reason: 'address.denied',
    async setup() {
      const d = await h.device();
      const k = await h.key({
        deviceIds: [d.id],
        addressFilterType: 'whitelist',
        addresses: ['10.0.0.0/8', '192.168.1.7', '::1'],
      });
      return {
        clientId: d.id,
        opts: { username: k.accessKey.key, password: k.secret },
        keyId: k.accessKey.id,
        secrets: [k.secret],
        event: { sourceAddress: '127.0.0.1' },
      };
    },
  },
  {
    name: 'address in the blacklist (127.0.0.0/8)',
    code: 5,
    reason: 'address.denied',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id], addressFilterType: 'blacklist', addresses: ['127.0.0.0/8'] });
      return {
        clientId: d.id,
        opts: { username: k.accessKey.key, password: k.secret },
        keyId: k.accessKey.id,
        secrets: [k.secret],
        event: { sourceAddress: '127.0.0.1' },
      };
    },
  },
  {
    name: 'malformed X-Forwarded-For over WebSocket from a trusted (loopback) proxy',
    code: 5,
    reason: 'address.malformed',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id] });
      return {
        url: h.wsUrl,
        clientId: d.id,
        opts: {
          username: k.accessKey.key,
          password: k.secret,
          wsOptions: { headers: { 'X-Forwarded-For': 'garbage' } },
        },
        keyId: k.accessKey.id,
        secrets: [k.secret],
        event: { transport: 'ws', forwardedFor: 'garbage' },
      };
    },
  },
  {
    name: 'client id that is no device',
    code: 5,
    reason: 'device.unknown',
    async setup() {
      const k = await h.key({});
      return {
        clientId: hex24(),
        opts: { username: k.accessKey.key, password: k.secret },
        keyId: k.accessKey.id,
        secrets: [k.secret],
      };
    },
  },
  {
    name: 'device outside the key restriction',
    code: 5,
    reason: 'device.out-of-scope',
    async setup() {
      const [d, other] = [await h.device(), await h.device()];
      const k = await h.key({ deviceIds: [other.id] });
      return {
        clientId: d.id,
        opts: { username: k.accessKey.key, password: k.secret },
        keyId: k.accessKey.id,
        secrets: [k.secret],
      };
    },
  },
  {
    name: 'last will on $SYS/x',
    code: 5,
    reason: 'will.denied',
    async setup() {
      const d = await h.device();
      const k = await h.key({ deviceIds: [d.id], filterType: 'all' });
      return {
        clientId: d.id,
        opts: {
          username: k.accessKey.key,
          password: k.secret,
          will: { topic: '$SYS/x', payload: Buffer.from('bye'), qos: 0, retain: false },
        },
        keyId: k.accessKey.id,
        secrets: [k.secret],
      };
    },
  },
  {
    name: "last will on another device's state",
    code: 5,
    reason: 'will.denied',
    async setup() {
      const [d, other] = [await h.device(), await h.device()];
      const k = await h.key({ deviceIds: [d.id] });
      return {
        clientId: d.id,
        opts: {
          username: k.accessKey.key,
          password: k.secret,
          will: {
            topic: `losant/${other.id}/state`,
            payload: Buffer.from('{"data":{"up":false}}'),
            qos: 0,
            retain: false,
          },
        },
        keyId: k.accessKey.id,
        secrets: [k.secret],
      };
    },
  },
];

describe('CONNECT refusals with mqtt.js (docs/design.md §4, in check order)', () => {
  it.each(rows.map((r) => [r.reason, r.name, r] as const))('%s: %s', async (_reason, _name, row) => {
    const a = await row.setup();
    const refusal = await pool.refusal(a.url ?? h.mqttUrl, { clientId: a.clientId, ...a.opts });
    expect(refusal.code).toBe(row.code);
    const e = await connectDecision(a.clientId);
    expect(e).toMatchObject({
      action: 'connect',
      result: 'denied',
      reason: row.reason,
      transport: a.url === h.wsUrl ? 'ws' : 'tcp',
      ...a.event,
    });
    if (a.keyId) expect(e.keyId).toBe(a.keyId);
    else expect(e.keyId).toBeUndefined();
    expectNoSecret(e, ...a.secrets);
    // Refused connections leave no session behind.
    expect(h.rt.broker.sessions.forDevice(a.clientId)).toBeUndefined();
  });
});

describe('CONNECT accepted with mqtt.js', () => {
  it('a device with its own key: CONNACK 0 and connect.accepted', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const c = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
    expect(c.connected).toBe(true);
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({
      result: 'allowed',
      reason: 'connect.accepted',
      transport: 'tcp',
      keyId: k.accessKey.id,
      sourceAddress: '127.0.0.1',
    });
    expect(e.rule).toContain(d.id);
    expectNoSecret(e, k.secret);
  });

  it('a tag-scoped key, with a last will on its own state topic: accepted', async () => {
    const tag = { key: 'site', value: `s-${hex24()}` };
    const d = await h.device({ tags: [tag] });
    const k = await h.key({ deviceTags: [tag] });
    await pool.connect(h.mqttUrl, {
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      will: { topic: `losant/${d.id}/state`, payload: Buffer.from('{"data":{"up":false}}'), qos: 0, retain: false },
    });
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ result: 'allowed', reason: 'connect.accepted', keyId: k.accessKey.id });
    expect(e.rule).toContain(`${tag.key}=${tag.value}`);
    expectNoSecret(e, k.secret);
  });

  it('over WebSocket from loopback with a well-formed X-Forwarded-For: accepted from the forwarded address', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    await pool.connect(h.wsUrl, {
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      wsOptions: { headers: { 'X-Forwarded-For': '203.0.113.9' } },
    });
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({
      reason: 'connect.accepted',
      transport: 'ws',
      sourceAddress: '203.0.113.9',
      forwardedFor: '203.0.113.9',
      keyId: k.accessKey.id,
    });
    expectNoSecret(e, k.secret);
  });

  it('MQTT 5 from mqtt.js: refused by aedes with CONNACK 1, recorded as protocol.unsupported', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const refusal = await pool.refusal(h.mqttUrl, {
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      protocolVersion: 5,
    });
    // aedes answers with an MQTT 3.1.1-style CONNACK (return code 1, no properties); mqtt.js in
    // v5 mode reads that byte as the reason code.
    expect(refusal.code).toBe(1);
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ result: 'denied', reason: 'protocol.unsupported', transport: 'tcp' });
    expectNoSecret(e, k.secret);
  });

  it('MQTT 3.1 (protocol level 3) with a 24-character device id: accepted', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    await pool.connect(h.mqttUrl, {
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      protocolId: 'MQIsdp',
      protocolVersion: 3,
    });
    expect((await connectDecision(d.id)).reason).toBe('connect.accepted');
  });
});

describe('CONNECT over TLS', () => {
  it('mqtt.js with the generated certificate as CA and verification on: accepted, transport tls', async () => {
    const ca = await readFile(join(h.dataDir, 'tls', 'cert.pem'), 'utf8');
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const c = await pool.connect(h.tlsUrl, {
      ca,
      rejectUnauthorized: true,
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
    });
    expect(c.connected).toBe(true);
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ result: 'allowed', reason: 'connect.accepted', transport: 'tls', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('mqtt.js with a wrong secret over TLS: CONNACK 4, secret.mismatch, transport tls', async () => {
    const ca = await readFile(join(h.dataDir, 'tls', 'cert.pem'), 'utf8');
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const wrong = fakeSecret();
    const refusal = await pool.refusal(h.tlsUrl, {
      ca,
      rejectUnauthorized: true,
      clientId: d.id,
      username: k.accessKey.key,
      password: wrong,
    });
    expect(refusal.code).toBe(4);
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ reason: 'secret.mismatch', transport: 'tls', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret, wrong);
  });
});

describe.skipIf(!HAVE_MOSQUITTO)('CONNECT with mosquitto_pub', () => {
  const state = '{"data":{"temp":21.5}}';

  it('accepted: exit 0, state stored, connect.accepted', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const stored = nextState(h, d.id);
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-q',
      '1',
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '', timedOut: false });
    expect((await stored).data).toEqual({ temp: 21.5 });
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ reason: 'connect.accepted', transport: 'tcp', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('wrong secret: "Connection Refused: bad user name or password." and exit 4', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const wrong = fakeSecret();
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, wrong),
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      'Connection error: Connection Refused: bad user name or password.\nError: The connection was refused.\n',
    );
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ reason: 'secret.mismatch', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret, wrong);
  });

  it('inactive key: "Connection Refused: not authorised." and exit 5', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], status: 'inactive' });
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      'Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n',
    );
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ reason: 'key.inactive', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('-V mqttv5: refused as an unsupported protocol version (exit 132), protocol.unsupported', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-V',
      'mqttv5',
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    // aedes sends CONNACK return code 1; libmosquitto in v5 mode maps it to reason 0x84 (132).
    expect(r.code).toBe(132);
    expect(r.stderr).toBe(
      'Connection error: Unsupported Protocol Version. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n' +
        'Error: A network protocol error occurred when communicating with the broker.\n',
    );
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ result: 'denied', reason: 'protocol.unsupported', transport: 'tcp' });
    expect(e.rule).toContain('level 5');
    expectNoSecret(e, k.secret);
  });

  it('-V mqttv31 with the 24-character device id as client id: accepted (exit 0)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-V',
      'mqttv31',
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((await connectDecision(d.id)).reason).toBe('connect.accepted');
  });

  it('over TLS with --cafile <dataDir>/tls/cert.pem: exit 0, transport tls', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const stored = nextState(h, d.id);
    const r = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.tls, d.id, k.accessKey.key, k.secret),
      '--cafile',
      join(h.dataDir, 'tls', 'cert.pem'),
      '-q',
      '1',
      '-t',
      `losant/${d.id}/state`,
      '-m',
      state,
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    await stored;
    const e = await connectDecision(d.id);
    expect(e).toMatchObject({ reason: 'connect.accepted', transport: 'tls', keyId: k.accessKey.id });
  });
});

// Issue 14: device restrictions are inclusive, as Losant documents device queries
// (https://docs.losant.com/devices/device-queries/: "Queries are inclusive, meaning that if any
// condition in the query returns true, the device ID or tagged devices are returned"). A device is
// in scope when its id is listed OR it carries ANY one listed tag item; an item with only a key
// matches any value of that key, one with only a value matches that value under any key.
// Tag values are unique per test: the harness (and its devices) is shared by the whole file.
describe('inclusive tag restrictions at CONNECT (Losant device queries)', () => {
  const scenario = async () => {
    const u = hex24();
    const type = { key: 'type', value: `thermostat-${u}` };
    const floor = { key: 'floor', value: `2-${u}` };
    const k = await h.key({ deviceTags: [type, floor] });
    const onlyType = await h.device({ tags: [type, { key: 'floor', value: `1-${u}` }] });
    const onlyFloor = await h.device({ tags: [{ key: 'type', value: `sensor-${u}` }, floor] });
    const both = await h.device({ tags: [type, floor] });
    const neither = await h.device({
      tags: [
        { key: 'type', value: `lamp-${u}` },
        { key: 'floor', value: `1-${u}` },
      ],
    });
    return { k, type, floor, onlyType, onlyFloor, both, neither };
  };

  it('mqtt.js: a key for type=thermostat + floor=2 admits a device with EITHER tag, refuses one with neither', async () => {
    const { k, type, floor, onlyType, onlyFloor, both, neither } = await scenario();
    const auth = { username: k.accessKey.key, password: k.secret };
    for (const [d, item] of [
      [onlyType, type],
      [onlyFloor, floor],
      [both, type],
    ] as const) {
      const c = await pool.connect(h.mqttUrl, { clientId: d.id, ...auth });
      expect(c.connected).toBe(true);
      const e = await connectDecision(d.id);
      expect(e).toMatchObject({ result: 'allowed', reason: 'connect.accepted', keyId: k.accessKey.id });
      expect(e.rule).toBe(`deviceTags entry "${item.key}=${item.value}"`);
      expectNoSecret(e, k.secret);
    }
    const refusal = await pool.refusal(h.mqttUrl, { clientId: neither.id, ...auth });
    expect(refusal.code).toBe(5);
    expect(await connectDecision(neither.id)).toMatchObject({ result: 'denied', reason: 'device.out-of-scope' });
  });

  it('mqtt.js over WebSocket: a key-only item (any value) and a value-only item (any key)', async () => {
    const u = hex24();
    const keyOnly = await h.key({ deviceTags: [{ key: `zone-${u}` }] });
    const valueOnly = await h.key({ deviceTags: [{ value: `blue-${u}` }] });
    const anyValue = await h.device({ tags: [{ key: `zone-${u}`, value: 'whatever' }] });
    const anyKey = await h.device({ tags: [{ key: 'colour', value: `blue-${u}` }] });
    const auth = (k: typeof keyOnly) => ({ username: k.accessKey.key, password: k.secret });

    await pool.connect(h.wsUrl, { clientId: anyValue.id, ...auth(keyOnly) });
    expect((await connectDecision(anyValue.id)).rule).toBe(`deviceTags entry "zone-${u}=*"`);
    await pool.connect(h.wsUrl, { clientId: anyKey.id, ...auth(valueOnly) });
    expect((await connectDecision(anyKey.id)).rule).toBe(`deviceTags entry "*=blue-${u}"`);

    // Crossed over, neither matches: the value "whatever" is not blue-…, and "colour" is not zone-….
    const other = await h.device({ tags: [{ key: 'colour', value: 'whatever' }] });
    expect((await pool.refusal(h.wsUrl, { clientId: other.id, ...auth(keyOnly) })).code).toBe(5);
    expect(await connectDecision(other.id)).toMatchObject({ reason: 'device.out-of-scope' });
  });

  it.skipIf(!HAVE_MOSQUITTO)(
    'mosquitto_pub: the floor-only device publishes state with the two-tag key; the device with neither tag exits 5',
    async () => {
      const { k, onlyFloor, neither } = await scenario();
      const stored = nextState(h, onlyFloor.id);
      const ok = await mosquitto('mosquitto_pub', [
        ...mosquittoAuth(h.rt.ports.mqtt, onlyFloor.id, k.accessKey.key, k.secret),
        '-q',
        '1',
        '-t',
        `losant/${onlyFloor.id}/state`,
        '-m',
        '{"data":{"temp":20}}',
      ]);
      expect(ok).toMatchObject({ code: 0, stderr: '', timedOut: false });
      expect((await stored).data).toEqual({ temp: 20 });
      expect(await connectDecision(onlyFloor.id)).toMatchObject({ reason: 'connect.accepted' });

      const refused = await mosquitto('mosquitto_pub', [
        ...mosquittoAuth(h.rt.ports.mqtt, neither.id, k.accessKey.key, k.secret),
        '-t',
        `losant/${neither.id}/state`,
        '-m',
        '{"data":{"temp":20}}',
      ]);
      expect(refused.code).toBe(5);
      expect(await connectDecision(neither.id)).toMatchObject({ reason: 'device.out-of-scope' });
    },
  );
});
