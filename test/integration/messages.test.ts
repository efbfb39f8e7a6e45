// docs/design.md §8a the message tap, end to end: real backend on port 0, devices on mosquitto_pub
// and mqtt.js, the contract's messages.* methods through dispatch (as the UI calls them). Every
// wait is on an event.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, Events, Res } from '../../src-main/contract.ts';
import { base64Bytes, PAYLOAD_KEEP_BYTES, type MessageDelivery } from '../../src-main/core/message.ts';
import { dispatch, type DispatchContext } from '../../src-main/service/dispatch.ts';
import { subscribeContractEvents } from '../../src-main/service/contract-events.ts';
import { waitForSim } from '../../src-main/simulator/scenarios.ts';
import { ClientPool, HAVE_MOSQUITTO, closed, mosquitto, mosquittoAuth } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let ctx: DispatchContext;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
  ctx = {
    service: h.rt.service,
    dataDir: h.dataDir,
    listeners: () => h.rt.ports,
    simulator: h.rt.simulator,
    publishAsPlatform: (t, p, o) => h.rt.broker.publishAsPlatform(t, p, o),
  };
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

async function call<M extends 'messages.subscribe' | 'messages.list' | 'messages.publish' | 'messages.clear'>(
  method: M,
  req: unknown,
): Promise<Res<M>> {
  const reply = await dispatch(ctx, method, req);
  if (!reply.ok) throw new Error(`${method}: ${reply.error.code}: ${reply.error.message}`);
  return reply.result as Res<M>;
}

async function callError(method: string, req: unknown): Promise<string> {
  const reply = await dispatch(ctx, method, req);
  if (reply.ok) throw new Error(`${method} succeeded`);
  return reply.error.message;
}

/** Resolves with the first `messages` event entry matching `pred` (events as a transport gets them). */
function nextDelivery(pred: (m: MessageDelivery) => boolean): Promise<MessageDelivery> {
  return new Promise((resolve, reject) => {
    // 5 s: a batch goes out every 100 ms; the bound only names a message that never came.
    const timer = setTimeout(() => {
      off();
      reject(new Error('no matching message event within 5 s'));
    }, 5000);
    const off = subscribeContractEvents(h.rt.service, <E extends EventName>(event: E, payload: Events[E]) => {
      if (event !== 'messages') return;
      const hit = (payload as MessageDelivery[]).find(pred);
      if (!hit) return;
      clearTimeout(timer);
      off();
      resolve(hit);
    });
  });
}

const text = (b64: string) => new TextDecoder().decode(base64Bytes(b64));

describe.skipIf(!HAVE_MOSQUITTO)('messages from mosquitto_pub', () => {
  it('a subscription sees the payload, QoS, retain, the publishing device and the broker decision', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], filterType: 'all' });
    const { subscription, messages } = await call('messages.subscribe', { filter: `losant/${d.id}/#` });
    expect(messages).toEqual([]);
    const seen = nextDelivery((m) => m.subscriptions.includes(subscription.id));
    const pub = await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-t',
      `losant/${d.id}/state`,
      '-q',
      '1',
      '-m',
      '{"data":{"temp":21.5}}',
    ]);
    expect(pub.code).toBe(0);
    const m = await seen;
    expect(text(m.payload)).toBe('{"data":{"temp":21.5}}');
    expect(m).toMatchObject({
      topic: `losant/${d.id}/state`,
      qos: 1,
      retain: false,
      size: 22,
      truncated: false,
      origin: 'device',
      deviceId: d.id,
      keyId: k.accessKey.id,
      transport: 'tcp',
      delivered: true,
      decision: { result: 'allowed', reason: 'publish.allowed' },
    });
    const decision = h.rt.service.feed.list().find((e) => e.seq === m.decision?.seq);
    expect(decision).toMatchObject({ action: 'publish', topic: `losant/${d.id}/state`, deviceId: d.id });
    // The ring keeps it for messages.list too, and a new subscription starts with it.
    expect((await call('messages.list', { id: subscription.id })).map((x) => x.seq)).toEqual([m.seq]);
    const again = await call('messages.subscribe', { filter: '#', deviceId: d.id });
    expect(again.messages.map((x) => x.seq)).toContain(m.seq);
  });

  it('a refused PUBLISH is shown as not delivered, with the denying rule', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], filterType: 'whitelist', pubTopics: ['sensors/+'] });
    const { subscription } = await call('messages.subscribe', { filter: 'other/#' });
    const seen = nextDelivery((m) => m.subscriptions.includes(subscription.id));
    await mosquitto('mosquitto_pub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-t',
      'other/x',
      '-m',
      'nope',
    ]);
    const m = await seen;
    expect(m).toMatchObject({ delivered: false, decision: { result: 'denied', reason: 'topic.not-whitelisted' } });
    expect(text(m.payload)).toBe('nope');
  });
});

describe('bounds and the Publish box', () => {
  it('keeps only the first PAYLOAD_KEEP_BYTES of a large payload, with its whole size', async () => {
    const { subscription } = await call('messages.subscribe', { filter: 'big/+' });
    const big = 'x'.repeat(PAYLOAD_KEEP_BYTES * 3);
    const res = await call('messages.publish', { topic: 'big/one', payload: big });
    expect(res.origin).toBe('platform');
    expect(res.message).toMatchObject({ size: big.length, truncated: true, origin: 'platform', delivered: true });
    expect(res.message?.decision).toBeUndefined();
    expect(base64Bytes(res.message!.payload).length).toBe(PAYLOAD_KEEP_BYTES);
    expect((await call('messages.list', { id: subscription.id })).length).toBe(1);
    await call('messages.clear', { id: subscription.id });
    expect(await call('messages.list', { id: subscription.id })).toEqual([]);
  });

  it('a subscription ring holds at most its capacity, the newest kept', async () => {
    const { subscription } = await call('messages.subscribe', { filter: 'ring/#' });
    const n = subscription.capacity + 5;
    for (let i = 0; i < n; i++) await call('messages.publish', { topic: 'ring/x', payload: String(i) });
    const list = await call('messages.list', { id: subscription.id });
    expect(list.length).toBe(subscription.capacity);
    expect(text(list[0]!.payload)).toBe('5');
    expect(text(list.at(-1)!.payload)).toBe(String(n - 1));
  });

  it('the least recently used subscription is dropped beyond the limit, with a message saying so', async () => {
    const first = await call('messages.subscribe', { filter: 'lru/first' });
    for (let i = 0; i < h.rt.service.messages.limits.subscriptions; i++)
      await call('messages.subscribe', { filter: `lru/${i}` });
    expect(h.rt.service.messages.subscriptionCount).toBe(h.rt.service.messages.limits.subscriptions);
    expect(await callError('messages.list', { id: first.subscription.id })).toMatch(/least recently used of 16/);
  });

  it('publishes as a simulated device through its own key, so the broker decision comes back', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], filterType: 'whitelist', pubTopics: ['sensors/+'] });
    const sim = await h.rt.simulator.add({
      deviceId: d.id,
      credentials: { mode: 'paste', key: k.accessKey.key, secret: k.secret },
      behaviour: { everySeconds: null, attributes: {} },
      transport: 'tcp',
    });
    // 10 s: a loopback connect takes milliseconds; the bound names what never happened.
    await waitForSim(h.rt.simulator.get(sim.id), (s) => s.connected, 10_000, 'the simulation connecting');
    const ok = await call('messages.publish', { topic: 'sensors/t', payload: '{"t":1}', simulationId: sim.id });
    expect(ok).toMatchObject({
      origin: 'device',
      deviceId: d.id,
      message: { deviceId: d.id, keyId: k.accessKey.id, decision: { result: 'allowed' }, delivered: true },
    });
    const refused = await call('messages.publish', { topic: 'other/t', payload: 'x', simulationId: sim.id });
    expect(refused.message?.decision).toMatchObject({ result: 'denied', reason: 'topic.not-whitelisted' });
    // Its log shows the payload next to the broker's decision on it.
    const log = h.rt.simulator.get(sim.id).snapshot().log;
    expect(log.find((e) => e.kind === 'publish' && e.topic === 'sensors/t')?.payload).toBe('{"t":1}');
    await h.rt.simulator.remove(sim.id);
  });

  it('refuses bad requests naming the field', async () => {
    expect(await callError('messages.subscribe', { filter: 'a/#/b' })).toMatch(/filter/);
    expect(await callError('messages.subscribe', {})).toMatch(/filter: must be a string/);
    expect(await callError('messages.publish', { topic: 'a/+', payload: 'x' })).toMatch(/topic/);
    expect(await callError('messages.publish', { topic: '$SYS/x', payload: 'x' })).toMatch(/topic: .*\$/);
    expect(await callError('messages.publish', { topic: 'a', payload: 1 })).toMatch(/payload: must be a string/);
    expect(await callError('messages.publish', { topic: 'a', payload: 'x', qos: 2 })).toMatch(/qos: must be 0 or 1/);
    expect(await callError('messages.list', { id: 'nope' })).toMatch(/id: must be a message subscription id/);
    // Schema-checked (core/schemas/message-requests.ts): every wrong field named at once, with its value.
    const many = await callError('messages.publish', { topic: 'a', payload: 1, qos: 2, retain: 'yes' });
    expect(many).toMatch(/payload: must be a string/);
    expect(many).toMatch(/qos: must be 0 or 1/);
    expect(many).toMatch(/retain: must be true or false/);
    expect(await callError('messages.subscribe', { filter: '#', deviceId: 'x' })).toMatch(
      /deviceId: must be a device id .*got "x"/,
    );
    expect(await callError('messages.publish', { topic: 'a', payload: 'x', simulationId: 7 })).toMatch(
      /simulationId: must be a simulation id .*got 7/,
    );
    expect(await callError('messages.clear', { id: 'ABCDEF0123456789' })).toMatch(/got "ABCDEF0123456789"/);
  });
});

describe('the platform subscriber never needs a device client', () => {
  it('mqtt.js device messages are seen too', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const { subscription } = await call('messages.subscribe', { filter: '+/+/state' });
    const seen = nextDelivery((m) => m.subscriptions.includes(subscription.id) && m.deviceId === d.id);
    const c = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
    c.publish(`losant/${d.id}/state`, '{"data":{"on":true}}', { retain: true });
    const m = await seen;
    expect(m.retain).toBe(true);
    c.end();
    await closed(c);
  });
});
