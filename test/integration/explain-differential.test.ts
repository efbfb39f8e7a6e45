// Differential: for every reason code of CONNECT, PUBLISH, SUBSCRIBE and delivery, a real client
// (mqtt.js over TCP/WS, the real broker on port 0) and access.explain get the same inputs, and the
// decision the broker records (reason + allowed) must equal the one the playground reports.
import { randomBytes } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainQuery } from '../../src-main/contract.ts';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import { newId } from '../../src-main/core/ids.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { ClientPool, nextMessage, subscribe } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();
type Key = { accessKey: AccessKey; secret: string };
let A: Device, B: Device, C: Device, P: Device;
let scoped: Key, blacklist: Key, none: Key, inactive: Key, addr: Key, all: Key;

beforeAll(async () => {
  h = await startHarness();
  const tag = { key: 'fleet', value: `f-${randomBytes(4).toString('hex')}` };
  A = await h.device({ tags: [tag] });
  B = await h.device({ tags: [tag] });
  C = await h.device({ tags: [{ key: 'fleet', value: 'elsewhere' }] });
  P = await h.device({ name: 'publisher' });
  scoped = await h.key({ deviceTags: [tag], filterType: 'whitelist', pubTopics: ['sensors/+'], subTopics: ['cmd/#'] });
  blacklist = await h.key({ deviceIds: [A.id], filterType: 'blacklist', pubTopics: ['bad/#'], subTopics: ['bad/#'] });
  none = await h.key({ deviceIds: [A.id] });
  inactive = await h.key({ deviceIds: [A.id], status: 'inactive' });
  addr = await h.key({ deviceIds: [A.id], addressFilterType: 'whitelist', addresses: ['10.0.0.0/8'] });
  all = await h.key({ deviceIds: [P.id], filterType: 'all' });
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const lastSeq = (): number => h.rt.service.feed.list().at(-1)?.seq ?? 0;

/** The playground's answer, through the contract exactly as the UI and CLI call it. */
async function explained(q: ExplainQuery) {
  const reply = await dispatch(
    { service: h.rt.service, dataDir: h.dataDir, listeners: () => null },
    'access.explain',
    q,
  );
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.result as import('../../src-main/contract.ts').Explanation;
}

const outcome = (d: { allowed: boolean; reason: string }) => ({ allowed: d.allowed, reason: d.reason });
const fromEvent = (e: DecisionEvent) => ({ allowed: e.result === 'allowed', reason: e.reason });

interface ConnectCase {
  name: string;
  clientId: () => string;
  user: () => string;
  pass: () => string;
  url?: () => string;
  opts?: () => IClientOptions;
  q?: () => Partial<ExplainQuery>;
  expect: string;
}

const key = (k: () => Key) => () => k().accessKey.key;
const secret = (k: () => Key) => () => k().secret;
const CONNECT_CASES: ConnectCase[] = [
  {
    name: 'accepted',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: secret(() => scoped),
    expect: 'connect.accepted',
  },
  {
    name: 'MQTT 5',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: secret(() => scoped),
    opts: () => ({ protocolVersion: 5 }),
    q: () => ({ protocolVersion: 5 }),
    expect: 'protocol.unsupported',
  },
  {
    name: 'empty secret',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: () => '',
    expect: 'credentials.missing',
  },
  { name: 'unknown key', clientId: () => A.id, user: () => `k-${newId()}`, pass: () => 'x', expect: 'key.unknown' },
  {
    name: 'wrong secret',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: () => 'nope',
    expect: 'secret.mismatch',
  },
  {
    name: 'inactive key',
    clientId: () => A.id,
    user: key(() => inactive),
    pass: secret(() => inactive),
    expect: 'key.inactive',
  },
  {
    name: 'address not whitelisted',
    clientId: () => A.id,
    user: key(() => addr),
    pass: secret(() => addr),
    expect: 'address.denied',
  },
  {
    name: 'malformed X-Forwarded-For from a trusted proxy',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: secret(() => scoped),
    url: () => h.wsUrl,
    opts: () => ({ wsOptions: { headers: { 'x-forwarded-for': 'not-an-ip' } } }),
    q: () => ({ transport: 'ws', forwardedFor: 'not-an-ip' }),
    expect: 'address.malformed',
  },
  {
    name: 'unknown device',
    clientId: () => newId(),
    user: key(() => scoped),
    pass: secret(() => scoped),
    expect: 'device.unknown',
  },
  {
    name: 'device out of scope',
    clientId: () => C.id,
    user: key(() => scoped),
    pass: secret(() => scoped),
    expect: 'device.out-of-scope',
  },
  {
    name: 'last will out of scope',
    clientId: () => A.id,
    user: key(() => scoped),
    pass: secret(() => scoped),
    opts: () => ({ will: { topic: `losant/${C.id}/state`, payload: Buffer.from('{}'), qos: 0, retain: false } }),
    q: () => ({ willTopic: `losant/${C.id}/state` }),
    expect: 'will.denied',
  },
];

describe('CONNECT: the broker and explain agree', () => {
  it.each(CONNECT_CASES)('$name → $expect', async (c) => {
    const clientId = c.clientId();
    const before = lastSeq();
    await pool
      .connect(c.url?.() ?? h.mqttUrl, { clientId, username: c.user(), password: c.pass(), ...c.opts?.() })
      .catch(() => {});
    const event = await h.decision((e) => e.seq > before && e.action === 'connect');
    const e = await explained({ key: c.user(), secret: c.pass(), deviceId: clientId, ...c.q?.() });
    expect(fromEvent(event)).toEqual({ allowed: c.expect === 'connect.accepted', reason: c.expect });
    expect(outcome(e.connect.decision)).toEqual(fromEvent(event));
    expect(e.connect.decision.rule).toBe(event.rule);
  });
});

const connectAs = (d: Device, k: Key): Promise<MqttClient> =>
  pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });

describe('PUBLISH: the broker and explain agree', () => {
  const cases: Array<[string, () => Key, () => string, string]> = [
    ['own state', () => scoped, () => `losant/${A.id}/state`, 'publish.allowed'],
    ['whitelisted custom topic', () => scoped, () => 'sensors/t', 'publish.allowed'],
    ['system topic', () => scoped, () => '$SYS/x', 'topic.system'],
    ['reserved topic', () => scoped, () => 'losant/whatever', 'topic.reserved'],
    ['device out of scope', () => scoped, () => `losant/${C.id}/state`, 'topic.out-of-scope'],
    ['not whitelisted', () => scoped, () => 'other/t', 'topic.not-whitelisted'],
    ['blacklisted', () => blacklist, () => 'bad/x', 'topic.blacklisted'],
    ['filterType none', () => none, () => 'any/t', 'topic.custom-none'],
  ];
  it.each(cases)('%s → %s', async (_name, k, topic, reason) => {
    const client = await connectAs(A, k());
    const before = lastSeq();
    const payload = topic().endsWith('/state') ? '{"data":{"t":1}}' : 'x';
    client.publish(topic(), payload, { qos: 0 });
    const event = await h.decision((e) => e.seq > before && e.action === 'publish' && e.topic === topic());
    const e = await explained({ key: k().accessKey.key, secret: k().secret, deviceId: A.id, publish: [topic()] });
    expect(fromEvent(event).reason).toBe(reason);
    expect(outcome(e.topics[0]!.decision)).toEqual(fromEvent(event));
  });
});

describe('SUBSCRIBE: the broker and explain agree', () => {
  const cases: Array<[string, () => Key, () => string]> = [
    ['subscribe.granted', () => scoped, () => `losant/${B.id}/state`],
    ['subscribe.granted', () => scoped, () => 'cmd/#'],
    ['topic.system', () => scoped, () => '$SYS/#'],
    ['topic.reserved', () => scoped, () => 'losant/x'],
    ['topic.out-of-scope', () => scoped, () => `losant/${C.id}/command`],
    ['topic.not-whitelisted', () => scoped, () => 'other/#'],
    ['topic.blacklisted', () => blacklist, () => 'bad/x'],
    ['topic.custom-none', () => none, () => 'a/b'],
  ];
  it.each(cases)('%# → %s', async (reason, k, filter) => {
    const client = await connectAs(A, k());
    const before = lastSeq();
    await subscribe(client, [filter()]);
    const event = await h.decision((e) => e.seq > before && e.action === 'subscribe' && e.topic === filter());
    const e = await explained({ key: k().accessKey.key, deviceId: A.id, subscribe: [filter()] });
    expect(fromEvent(event).reason).toBe(reason);
    expect(outcome(e.topics[0]!.decision)).toEqual(fromEvent(event));
  });
});

describe('delivery: the broker and explain agree', () => {
  // A granted wide filter, then a message the session may not read: the broker withholds it.
  const cases: Array<[string, string, () => Key, () => string]> = [
    ['losant/+/state', 'topic.out-of-scope', () => scoped, () => `losant/${C.id}/state`],
    ['#', 'topic.not-whitelisted', () => scoped, () => 'other/t'],
    ['#', 'topic.blacklisted', () => blacklist, () => 'bad/t'],
    ['#', 'topic.custom-none', () => none, () => 'a/b'],
  ];
  it.each(cases)('%#: subscribed to %s, a withheld message → %s', async (filter, reason, k, topic) => {
    const client = await connectAs(A, k());
    await subscribe(client, [filter]);
    const sender = await connectAs(P, all);
    const before = lastSeq();
    // The sender publishes for itself: C's state topic is published by a key scoped to C.
    if (topic().startsWith('losant/')) {
      const cKey = await h.key({ deviceIds: [C.id] });
      const c = await connectAs(C, cKey);
      c.publish(topic(), '{"data":{"t":1}}', { qos: 0 });
    } else sender.publish(topic(), 'x', { qos: 0 });
    const event = await h.decision((e) => e.seq > before && e.action === 'deliver' && e.deviceId === A.id);
    const e = await explained({ key: k().accessKey.key, deviceId: A.id, subscribe: [filter], deliver: [topic()] });
    expect(fromEvent(event)).toEqual({ allowed: false, reason });
    expect(outcome(e.topics[1]!.decision)).toEqual(fromEvent(event));
    expect(e.topics[0]!.reach?.withheld.some((w) => w.reason === reason)).toBe(true);
  });

  it('deliver.allowed: a message the session may read arrives, and explain says so', async () => {
    const client = await connectAs(A, scoped);
    await subscribe(client, ['cmd/#']);
    const sender = await connectAs(P, all);
    const got = nextMessage(client, 'cmd/go');
    sender.publish('cmd/go', 'x', { qos: 0 });
    await got;
    const e = await explained({ key: scoped.accessKey.id, deviceId: A.id, deliver: ['cmd/go'] });
    expect(outcome(e.topics[0]!.decision)).toEqual({ allowed: true, reason: 'deliver.allowed' });
  });
});
