// docs/design.md §4 CONNECT decisions, socket-free: the Keyport service + broker over a memory
// store (test/helpers/broker-harness.ts), real mqtt.js clients on in-memory streams. Every row of
// the check table: the CONNACK code the client sees AND the decision event's reason; the event
// names the key, never the secret. The same path over real TCP / WebSocket / TLS listeners and
// with mosquitto_pub is test/integration/connect.test.ts.
import { randomUUID } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import type { ReasonCode } from '../../../src-main/core/types.ts';
import { startBrokerHarness, type BrokerHarness, type Dial } from '../../helpers/broker-harness.ts';
import {
  connectDecision as decisionOf,
  deviceWithOwnKey,
  expectNoSecret,
  fakeSecret,
  hex24,
} from '../../helpers/decision-checks.ts';
import { ClientPool } from '../../helpers/mqtt-clients.ts';

let h: BrokerHarness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startBrokerHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const connectDecision = (clientId: string): Promise<DecisionEvent> => decisionOf(h, clientId);

interface Attempt {
  via?: Dial;
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

/** A device with its own key (plus `key` fields), attempting with `opts` merged over its credentials. */
async function ownKeyAttempt(key: Record<string, unknown>, more: Partial<Attempt> = {}): Promise<Attempt> {
  const k = await deviceWithOwnKey(h, key);
  const { clientId, ...auth } = k.auth;
  return { clientId, keyId: k.accessKey.id, secrets: [k.secret], ...more, opts: { ...auth, ...more.opts } };
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
      const k = await deviceWithOwnKey(h);
      return { clientId: k.device.id, opts: { username: k.accessKey.key }, secrets: [k.secret] };
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
      const wrong = fakeSecret();
      const a = await ownKeyAttempt({}, { opts: { password: wrong } });
      return { ...a, secrets: [...a.secrets, wrong] };
    },
  },
  {
    name: 'inactive key',
    code: 5,
    reason: 'key.inactive',
    setup: () => ownKeyAttempt({ status: 'inactive' }),
  },
  {
    name: 'address not in the whitelist',
    code: 5,
    reason: 'address.denied',
    setup: () =>
      ownKeyAttempt(
        { addressFilterType: 'whitelist', addresses: ['10.0.0.0/8', '192.168.1.7', '::1'] },
        { event: { sourceAddress: '127.0.0.1' } },
      ),
  },
  {
    name: 'address in the blacklist (127.0.0.0/8)',
    code: 5,
    reason: 'address.denied',
    setup: () =>
      ownKeyAttempt(
        { addressFilterType: 'blacklist', addresses: ['127.0.0.0/8'] },
        { event: { sourceAddress: '127.0.0.1' } },
      ),
  },
  {
    name: 'malformed X-Forwarded-For over WebSocket from a trusted (loopback) proxy',
    code: 5,
    reason: 'address.malformed',
    setup: () =>
      ownKeyAttempt(
        {},
        {
          via: h.ws,
          opts: { wsOptions: { headers: { 'X-Forwarded-For': 'garbage' } } },
          event: { transport: 'ws', forwardedFor: 'garbage' },
        },
      ),
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
    setup: () =>
      ownKeyAttempt(
        { filterType: 'all' },
        { opts: { will: { topic: '$SYS/x', payload: Buffer.from('bye'), qos: 0, retain: false } } },
      ),
  },
  {
    name: "last will on another device's state",
    code: 5,
    reason: 'will.denied',
    async setup() {
      const other = await h.device();
      const will = { topic: `losant/${other.id}/state`, payload: Buffer.from('{"data":{"up":false}}') };
      return ownKeyAttempt({}, { opts: { will: { ...will, qos: 0, retain: false } } });
    },
  },
];

describe('CONNECT refusals with mqtt.js (docs/design.md §4, in check order)', () => {
  it.each(rows.map((r) => [r.reason, r.name, r] as const))('%s: %s', async (_reason, _name, row) => {
    const a = await row.setup();
    const via = a.via ?? h.tcp;
    const refusal = await pool.refusal(via, { clientId: a.clientId, ...a.opts });
    expect(refusal.code).toBe(row.code);
    const e = await connectDecision(a.clientId);
    expect(e).toMatchObject({
      action: 'connect',
      result: 'denied',
      reason: row.reason,
      transport: via.transport,
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
    const k = await deviceWithOwnKey(h);
    const c = await pool.connect(h.tcp, k.auth);
    expect(c.connected).toBe(true);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({
      result: 'allowed',
      reason: 'connect.accepted',
      transport: 'tcp',
      keyId: k.accessKey.id,
      sourceAddress: '127.0.0.1',
    });
    expect(e.rule).toContain(k.device.id);
    expectNoSecret(e, k.secret);
  });

  it('a tag-scoped key, with a last will on its own state topic: accepted', async () => {
    const tag = { key: 'site', value: `s-${hex24()}` };
    const d = await h.device({ tags: [tag] });
    const k = await h.key({ deviceTags: [tag] });
    await pool.connect(h.tcp, {
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
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.ws, { ...k.auth, wsOptions: { headers: { 'X-Forwarded-For': '203.0.113.9' } } });
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({
      reason: 'connect.accepted',
      transport: 'ws',
      sourceAddress: '203.0.113.9',
      forwardedFor: '203.0.113.9',
      keyId: k.accessKey.id,
    });
    expectNoSecret(e, k.secret);
  });

  it('TLS is recorded as transport tls', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.tls, k.auth);
    expect(await connectDecision(k.device.id)).toMatchObject({ reason: 'connect.accepted', transport: 'tls' });
  });

  it('MQTT 5 from mqtt.js: refused by aedes with CONNACK 1, recorded as protocol.unsupported', async () => {
    const k = await deviceWithOwnKey(h);
    const refusal = await pool.refusal(h.tcp, { ...k.auth, protocolVersion: 5 });
    // aedes answers with an MQTT 3.1.1-style CONNACK (return code 1, no properties); mqtt.js in
    // v5 mode reads that byte as the reason code.
    expect(refusal.code).toBe(1);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ result: 'denied', reason: 'protocol.unsupported', transport: 'tcp' });
    expectNoSecret(e, k.secret);
  });

  it('MQTT 3.1 (protocol level 3) with a 24-character device id: accepted', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.tcp, { ...k.auth, protocolId: 'MQIsdp', protocolVersion: 3 });
    expect((await connectDecision(k.device.id)).reason).toBe('connect.accepted');
  });
});

// Issue 14: device restrictions are inclusive, as Losant documents device queries
// (https://docs.losant.com/devices/device-queries/: "Queries are inclusive, meaning that if any
// condition in the query returns true, the device ID or tagged devices are returned"). A device is
// in scope when its id is listed OR it carries ANY one listed tag item; an item with only a key
// matches any value of that key, one with only a value matches that value under any key.
// Tag values are unique per test: the harness (and its devices) is shared by the whole file.
describe('inclusive tag restrictions at CONNECT (Losant device queries)', () => {
  it('a key for type=thermostat + floor=2 admits a device with EITHER tag, refuses one with neither', async () => {
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
    const auth = { username: k.accessKey.key, password: k.secret };
    for (const [d, item] of [
      [onlyType, type],
      [onlyFloor, floor],
      [both, type],
    ] as const) {
      const c = await pool.connect(h.tcp, { clientId: d.id, ...auth });
      expect(c.connected).toBe(true);
      const e = await connectDecision(d.id);
      expect(e).toMatchObject({ result: 'allowed', reason: 'connect.accepted', keyId: k.accessKey.id });
      expect(e.rule).toBe(`deviceTags entry "${item.key}=${item.value}"`);
      expectNoSecret(e, k.secret);
    }
    const refusal = await pool.refusal(h.tcp, { clientId: neither.id, ...auth });
    expect(refusal.code).toBe(5);
    expect(await connectDecision(neither.id)).toMatchObject({ result: 'denied', reason: 'device.out-of-scope' });
  });

  it('a key-only item (any value) and a value-only item (any key)', async () => {
    const u = hex24();
    const keyOnly = await h.key({ deviceTags: [{ key: `zone-${u}` }] });
    const valueOnly = await h.key({ deviceTags: [{ value: `blue-${u}` }] });
    const anyValue = await h.device({ tags: [{ key: `zone-${u}`, value: 'whatever' }] });
    const anyKey = await h.device({ tags: [{ key: 'colour', value: `blue-${u}` }] });
    const auth = (k: typeof keyOnly) => ({ username: k.accessKey.key, password: k.secret });

    await pool.connect(h.ws, { clientId: anyValue.id, ...auth(keyOnly) });
    expect((await connectDecision(anyValue.id)).rule).toBe(`deviceTags entry "zone-${u}=*"`);
    await pool.connect(h.ws, { clientId: anyKey.id, ...auth(valueOnly) });
    expect((await connectDecision(anyKey.id)).rule).toBe(`deviceTags entry "*=blue-${u}"`);

    // Crossed over, neither matches: the value "whatever" is not blue-…, and "colour" is not zone-….
    const other = await h.device({ tags: [{ key: 'colour', value: 'whatever' }] });
    expect((await pool.refusal(h.ws, { clientId: other.id, ...auth(keyOnly) })).code).toBe(5);
    expect(await connectDecision(other.id)).toMatchObject({ reason: 'device.out-of-scope' });
  });
});
