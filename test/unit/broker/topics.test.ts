// docs/design.md §5 PUBLISH, SUBSCRIBE and delivery decisions, socket-free: the Keyport service +
// broker over a memory store (test/helpers/broker-harness.ts) against real mqtt.js clients on
// in-memory streams. A denied PUBLISH closes the connection (decision says why, the disconnect says
// publish.denied); a refused filter gets SUBACK 128 without affecting the others; every delivery
// is re-checked against the key as it is NOW (retained messages included). The same over real
// sockets with mosquitto_sub / mosquitto_pub is test/integration/topics.test.ts.
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Device, ReasonCode } from '../../../src-main/core/types.ts';
import { startBrokerHarness, type BrokerHarness } from '../../helpers/broker-harness.ts';
import {
  ClientPool,
  closed,
  collect,
  decisionsFrom,
  nextMessage,
  nextState,
  subscribe,
  within,
} from '../../helpers/mqtt-clients.ts';
import { COMMAND, STATE, fleet as fleetOf, payloadFor, type Key } from '../../helpers/topic-fleet.ts';

let h: BrokerHarness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startBrokerHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const fleet = (keyInput: Record<string, unknown> = {}) => fleetOf(h, keyInput);

function connectAs(device: Device, k: Key): Promise<MqttClient> {
  return pool.connect(h.tcp, { clientId: device.id, username: k.accessKey.key, password: k.secret });
}

/** A device with its own filterType-all key, to publish custom-topic test traffic. */
async function publisher(): Promise<MqttClient> {
  const d = await h.device({ name: 'publisher' });
  return connectAs(d, await h.key({ deviceIds: [d.id], filterType: 'all' }));
}

async function expectPublishAllowed(
  client: MqttClient,
  deviceId: string,
  topic: string,
  payload = payloadFor(topic),
): Promise<void> {
  const wait = decisionsFrom(h);
  await client.publishAsync(topic, payload, { qos: 1 }); // PUBACK received
  const e = await wait((d) => d.action === 'publish' && d.deviceId === deviceId && d.topic === topic);
  expect(e).toMatchObject({ result: 'allowed', reason: 'publish.allowed' });
  expect(client.connected).toBe(true);
}

async function expectPublishDenied(
  client: MqttClient,
  deviceId: string,
  topic: string,
  reason: ReasonCode,
): Promise<void> {
  const wait = decisionsFrom(h);
  const gone = closed(client);
  client.publish(topic, payloadFor(topic), { qos: 1 }, () => {}); // never acknowledged
  await gone;
  const e = await wait((d) => d.action === 'publish' && d.deviceId === deviceId && d.topic === topic);
  expect(e).toMatchObject({ result: 'denied', reason });
  const dc = await wait((d) => d.action === 'disconnect' && d.deviceId === deviceId);
  expect(dc.reason).toBe('publish.denied');
}

/** One SUBSCRIBE with all the filters; each maps to the expected reason (granted or refused). */
async function expectSubscribe(
  client: MqttClient,
  deviceId: string,
  expected: Record<string, ReasonCode>,
): Promise<void> {
  const wait = decisionsFrom(h);
  const filters = Object.keys(expected);
  const granted = await subscribe(client, filters, 1);
  expect(granted.map((g) => g.topic)).toEqual(filters);
  for (const [i, filter] of filters.entries()) {
    const reason = expected[filter]!;
    const ok = reason === 'subscribe.granted';
    expect(granted[i]!.qos, filter).toBe(ok ? 1 : 128);
    const e = await wait((d) => d.action === 'subscribe' && d.deviceId === deviceId && d.topic === filter);
    expect(e, filter).toMatchObject({ result: ok ? 'allowed' : 'denied', reason });
  }
  expect(client.connected).toBe(true); // a refused filter never closes the connection
}
describe('the docs/design.md §5 topic table, PUBLISH (key scoped by a tag A and B carry; C lacks it)', () => {
  type Who = 'A' | 'B' | 'C';
  const rows: Array<{ name: string; topic: (ids: Record<Who, string>) => string; reason: ReasonCode }> = [
    { name: 'own state', topic: (x) => `losant/${x.A}/state`, reason: 'publish.allowed' },
    { name: 'own command', topic: (x) => `losant/${x.A}/command`, reason: 'publish.allowed' },
    { name: 'in-scope device state', topic: (x) => `losant/${x.B}/state`, reason: 'publish.allowed' },
    { name: 'in-scope device command', topic: (x) => `losant/${x.B}/command`, reason: 'publish.allowed' },
    { name: 'out-of-scope device state', topic: (x) => `losant/${x.C}/state`, reason: 'topic.out-of-scope' },
    { name: 'out-of-scope device command', topic: (x) => `losant/${x.C}/command`, reason: 'topic.out-of-scope' },
    { name: 'losant/x/y', topic: () => 'losant/x/y', reason: 'topic.reserved' },
    { name: 'losant/{own id}/other', topic: (x) => `losant/${x.A}/other`, reason: 'topic.reserved' },
    { name: 'bare losant', topic: () => 'losant', reason: 'topic.reserved' },
    { name: '$SYS/x', topic: () => '$SYS/x', reason: 'topic.system' },
    { name: 'any $ topic', topic: () => '$aws/things/x', reason: 'topic.system' },
    { name: 'custom topic under filterType none', topic: () => 'custom/a', reason: 'topic.custom-none' },
  ];
  it.each(rows)('$name → $reason', async ({ topic: topicOf, reason }) => {
    const f = await fleet();
    const topic = topicOf({ A: f.A.id, B: f.B.id, C: f.C.id });
    const a = await connectAs(f.A, f.key);
    if (reason === 'publish.allowed') await expectPublishAllowed(a, f.A.id, topic);
    else await expectPublishDenied(a, f.A.id, topic, reason);
  });
});

describe('the docs/design.md §5 topic table, SUBSCRIBE', () => {
  it('device topics in scope granted; out of scope, reserved and $ refused with 128 in the SAME SUBSCRIBE', async () => {
    const f = await fleet();
    const a = await connectAs(f.A, f.key);
    await expectSubscribe(a, f.A.id, {
      [`losant/${f.A.id}/command`]: 'subscribe.granted',
      [`losant/${f.A.id}/state`]: 'subscribe.granted',
      [`losant/${f.B.id}/state`]: 'subscribe.granted',
      [`losant/${f.B.id}/command`]: 'subscribe.granted',
      [`losant/${f.C.id}/state`]: 'topic.out-of-scope',
      [`losant/${f.C.id}/command`]: 'topic.out-of-scope',
      'losant/x/y': 'topic.reserved',
      [`losant/${f.A.id}/other`]: 'topic.reserved',
      '$SYS/#': 'topic.system',
      '$SYS/x': 'topic.system',
      'losant/+/state': 'subscribe.granted',
      'custom/#': 'topic.custom-none',
    });
  });

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

  it('a device on the same tag key commands another in-scope device and reads its state', async () => {
    const f = await fleet();
    const a = await connectAs(f.A, f.key);
    const b = await connectAs(f.B, f.key); // same key: both carry the tag
    await expectSubscribe(b, f.B.id, { [`losant/${f.B.id}/command`]: 'subscribe.granted' });
    await expectSubscribe(a, f.A.id, { [`losant/${f.B.id}/state`]: 'subscribe.granted' });

    const command = nextMessage(b, `losant/${f.B.id}/command`);
    // aedes runs the `published` hook (which records the command) after delivering, so await it.
    let off = () => {};
    const recorded = new Promise<string>((resolve) => {
      off = h.rt.service.events.on('device.command', (e) => e.deviceId === f.B.id && resolve(e.command.name));
    });
    await expectPublishAllowed(a, f.A.id, `losant/${f.B.id}/command`);
    expect(JSON.parse((await command).payload)).toEqual(JSON.parse(COMMAND));
    // 5 s: names the awaited event if it never comes (it takes ms); see helpers/mqtt-clients.ts
    expect(await within(recorded, 5_000, 'device.command').finally(off)).toBe('blink');
    expect(h.rt.service.telemetry.commands(f.B.id).map((c) => c.name)).toEqual(['blink']);

    const state = nextMessage(a, `losant/${f.B.id}/state`);
    const stored = nextState(h, f.B.id);
    await expectPublishAllowed(b, f.B.id, `losant/${f.B.id}/state`);
    expect((await state).payload).toBe(STATE);
    expect((await stored).data).toEqual({ temp: 20 });
  });
});

describe('gateways and peripherals', () => {
  it('a gateway publishes state for its peripheral (and an unbound one); lastState is stored', async () => {
    const gw = await h.device({ deviceClass: 'gateway' });
    const otherGw = await h.device({ deviceClass: 'gateway' });
    const mine = await h.device({ deviceClass: 'peripheral', gatewayId: gw.id });
    const unbound = await h.device({ deviceClass: 'peripheral' });
    const theirs = await h.device({ deviceClass: 'peripheral', gatewayId: otherGw.id });
    const k = await h.key({ deviceIds: [gw.id] });
    const c = await connectAs(gw, k);

    const wait = decisionsFrom(h);
    const stored = nextState(h, mine.id);
    await c.publishAsync(`losant/${mine.id}/state`, '{"data":{"temp":3.5,"ok":true}}', { qos: 1 });
    expect((await stored).data).toEqual({ temp: 3.5, ok: true });
    expect(h.rt.service.store.getDevice(mine.id)?.lastState?.data).toEqual({ temp: 3.5, ok: true });
    const e = await wait((d) => d.action === 'publish' && d.topic === `losant/${mine.id}/state`);
    expect(e).toMatchObject({ deviceId: gw.id, result: 'allowed', reason: 'publish.allowed' });
    expect(e.rule).toContain(`gateway ${gw.id} reports for its peripheral ${mine.id}`);

    const stored2 = nextState(h, unbound.id);
    await expectPublishAllowed(c, gw.id, `losant/${unbound.id}/state`, '{"data":{"n":1}}');
    await stored2;
    expect(h.rt.service.store.getDevice(unbound.id)?.lastState?.data).toEqual({ n: 1 });

    // A peripheral bound to ANOTHER gateway is not this gateway's to report for.
    await expectPublishDenied(c, gw.id, `losant/${theirs.id}/state`, 'topic.out-of-scope');
    expect(h.rt.service.store.getDevice(theirs.id)?.lastState).toBeUndefined();
  });

  it("a gateway may not send its peripheral's commands (the exception is for state only)", async () => {
    const gw = await h.device({ deviceClass: 'gateway' });
    const p = await h.device({ deviceClass: 'peripheral', gatewayId: gw.id });
    const c = await connectAs(gw, await h.key({ deviceIds: [gw.id] }));
    await expectPublishDenied(c, gw.id, `losant/${p.id}/command`, 'topic.out-of-scope');
  });
});

describe('custom topics per filterType, publish and subscribe', () => {
  it('none: publish denied (topic.custom-none), subscribe refused', async () => {
    const f = await fleet({ filterType: 'none' });
    const a = await connectAs(f.A, f.key);
    await expectSubscribe(a, f.A.id, {
      'custom/#': 'topic.custom-none',
      '#': 'subscribe.granted',
      'custom/a': 'topic.custom-none',
    });
    await expectPublishDenied(a, f.A.id, 'custom/a', 'topic.custom-none');
  });

  it('all: any custom topic published, subscribed and delivered', async () => {
    const f = await fleet({ filterType: 'all' });
    const a = await connectAs(f.A, f.key);
    const p = await publisher();
    await expectSubscribe(a, f.A.id, { 'anything/#': 'subscribe.granted', '+/deep/+': 'subscribe.granted' });
    await expectPublishAllowed(a, f.A.id, 'anything/else');
    const got = nextMessage(a, 'anything/x/y');
    await p.publishAsync('anything/x/y', 'from p', { qos: 1 });
    expect((await got).payload).toBe('from p');
  });

  it('whitelist pubTopics sensors/+/temp, subTopics alerts/#: wildcards match; others refused and withheld', async () => {
    const f = await fleet({ filterType: 'whitelist', pubTopics: ['sensors/+/temp'], subTopics: ['alerts/#'] });
    const a = await connectAs(f.A, f.key);
    const p = await publisher();
    await expectSubscribe(a, f.A.id, {
      'alerts/#': 'subscribe.granted',
      'alerts/+/high': 'subscribe.granted',
      '+/fire': 'subscribe.granted', // can match alerts/fire
      'sensors/#': 'topic.not-whitelisted',
      'sensors/+/temp': 'topic.not-whitelisted', // pubTopics do not grant reading
      '#': 'subscribe.granted', // granted because it can match alerts/…; deliveries re-checked
    });
    const got = collect(a);
    const wait = decisionsFrom(h);
    await p.publishAsync('sensors/x/temp', 'not for a', { qos: 1 });
    const alert = nextMessage(a, 'alerts/fire');
    await p.publishAsync('alerts/fire', 'for a', { qos: 1 });
    expect((await alert).payload).toBe('for a');
    const withheld = await wait((d) => d.action === 'deliver' && d.deviceId === f.A.id && d.topic === 'sensors/x/temp');
    expect(withheld).toMatchObject({ result: 'denied', reason: 'topic.not-whitelisted' });
    expect(got.map((m) => m.topic)).not.toContain('sensors/x/temp');

    await expectPublishAllowed(a, f.A.id, 'sensors/kitchen/temp');
    await expectPublishDenied(a, f.A.id, 'sensors/kitchen/humidity', 'topic.not-whitelisted');
  });

  it('blacklist secret/#: "#" granted but secret/x never delivered (deliver topic.blacklisted), public/x is', async () => {
    const f = await fleet({ filterType: 'blacklist', pubTopics: ['secret/#'], subTopics: ['secret/#'] });
    const a = await connectAs(f.A, f.key);
    const p = await publisher();
    await expectSubscribe(a, f.A.id, {
      '#': 'subscribe.granted',
      'secret/#': 'topic.blacklisted',
      'secret/+/x': 'topic.blacklisted',
      'public/#': 'subscribe.granted',
    });
    const got = collect(a);
    const wait = decisionsFrom(h);
    await p.publishAsync('secret/x', 'classified', { qos: 1 });
    const pub = nextMessage(a, 'public/x');
    await p.publishAsync('public/x', 'open', { qos: 1 });
    expect((await pub).payload).toBe('open');
    const withheld = await wait((d) => d.action === 'deliver' && d.deviceId === f.A.id && d.topic === 'secret/x');
    expect(withheld).toMatchObject({ result: 'denied', reason: 'topic.blacklisted', keyId: f.key.accessKey.id });
    expect(got.map((m) => m.topic)).not.toContain('secret/x');
    expect(got.map((m) => m.payload)).not.toContain('classified');

    await expectPublishAllowed(a, f.A.id, 'public/y');
    await expectPublishDenied(a, f.A.id, 'secret/y', 'topic.blacklisted');
  });
});

describe('delivery re-checks', () => {
  it('a retained message of an out-of-scope device is withheld from losant/+/state; the in-scope one arrives', async () => {
    const f = await fleet();
    const b = await connectAs(f.B, f.key);
    const c = await connectAs(f.C, await h.key({ deviceIds: [f.C.id] }));
    await b.publishAsync(`losant/${f.B.id}/state`, '{"data":{"who":"b"}}', { qos: 1, retain: true });
    await c.publishAsync(`losant/${f.C.id}/state`, '{"data":{"who":"c"}}', { qos: 1, retain: true });

    const a = await connectAs(f.A, f.key);
    const got = collect(a);
    const wait = decisionsFrom(h);
    const inScope = nextMessage(a, `losant/${f.B.id}/state`);
    await expectSubscribe(a, f.A.id, { 'losant/+/state': 'subscribe.granted' });
    expect(await inScope).toEqual({ payload: '{"data":{"who":"b"}}', retain: true });
    const withheld = await wait(
      (d) => d.action === 'deliver' && d.deviceId === f.A.id && d.topic === `losant/${f.C.id}/state`,
    );
    expect(withheld).toMatchObject({ result: 'denied', reason: 'topic.out-of-scope' });
    expect(got.map((m) => m.topic)).not.toContain(`losant/${f.C.id}/state`);
  });

  it('rules edited while subscribed apply to the next delivery', async () => {
    const f = await fleet({ filterType: 'whitelist', subTopics: ['news/#'] });
    const a = await connectAs(f.A, f.key);
    const p = await publisher();
    await expectSubscribe(a, f.A.id, { '#': 'subscribe.granted' });
    const got = collect(a);

    const first = nextMessage(a, 'news/1');
    await p.publishAsync('news/1', 'n1', { qos: 1 });
    expect((await first).payload).toBe('n1');

    await h.rt.service.keys.update(f.key.accessKey.id, { subTopics: ['weather/#'] });
    const wait = decisionsFrom(h);
    await p.publishAsync('news/2', 'n2', { qos: 1 });
    const weather = nextMessage(a, 'weather/today');
    await p.publishAsync('weather/today', 'sunny', { qos: 1 });
    expect((await weather).payload).toBe('sunny');
    const withheld = await wait((d) => d.action === 'deliver' && d.deviceId === f.A.id && d.topic === 'news/2');
    expect(withheld).toMatchObject({ result: 'denied', reason: 'topic.not-whitelisted' });
    expect(got.map((m) => m.topic)).toEqual(['news/1', 'weather/today']);

    // And to publishing: switching to filterType all opens every custom topic at once.
    await h.rt.service.keys.update(f.key.accessKey.id, { filterType: 'all' });
    await expectPublishAllowed(a, f.A.id, 'anything/now');
  });
});
