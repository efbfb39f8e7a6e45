// docs/design.md §5 state and commands, §8 decision feed, end to end: real backend on port 0, a device on
// mqtt.js (and mosquitto_sub for commands). Every wait is on an event.
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { Command } from '../../src-main/core/payloads.ts';
import { DecisionFeed } from '../../src-main/service/decision-feed.ts';
import {
  ClientPool,
  HAVE_MOSQUITTO,
  closed,
  mosquitto,
  mosquittoAuth,
  nextMessage,
  nextState,
  within,
} from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();
/** Every secret handed out in this file (and one wrong one): none may reach the feed. */
const secrets: string[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

async function connectedDevice(): Promise<{ id: string; client: MqttClient; key: string; secret: string }> {
  const d = await h.device();
  const k = await h.key({ deviceIds: [d.id] });
  secrets.push(k.secret);
  const client = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
  return { id: d.id, client, key: k.accessKey.key, secret: k.secret };
}

/** Publishes a state message and resolves with what was stored (the device.state event). */
async function publishState(client: MqttClient, id: string, payload: unknown) {
  const stored = nextState(h, id);
  await client.publishAsync(`losant/${id}/state`, JSON.stringify(payload), { qos: 1 });
  return stored;
}

/** A waiter for decisions recorded from now on. */
function decisionAfterNow(pred: (e: DecisionEvent) => boolean): Promise<DecisionEvent> {
  const since = h.rt.service.feed.list(1)[0]?.seq ?? 0;
  return h.decision((e) => e.seq > since && pred(e));
}

function nextCommandEvent(id: string): Promise<Command> {
  let off: () => void = () => {};
  const p = new Promise<Command>((resolve) => {
    off = h.rt.service.events.on('device.command', (e) => {
      if (e.deviceId === id) resolve(e.command);
    });
  });
  // 5 s: names the awaited event if it never comes (it takes ms); see helpers/mqtt-clients.ts
  return within(p, 5_000, `a device.command event for ${id}`).finally(() => off());
}

describe('state messages (losant/{id}/state)', () => {
  it('a valid state is stored as lastState (merged) and in the history', async () => {
    const { id, client } = await connectedDevice();
    const first = await publishState(client, id, { data: { temp: 21.5, on: true } });
    expect(first.data).toEqual({ temp: 21.5, on: true });
    expect(h.rt.service.store.getDevice(id)?.lastState).toEqual(first);
    const second = await publishState(client, id, { data: { temp: 22, label: 'kitchen', pos: { lat: 1, lng: 2 } } });
    expect(h.rt.service.store.getDevice(id)?.lastState).toEqual({
      time: second.time,
      data: { temp: 22, on: true, label: 'kitchen', pos: { lat: 1, lng: 2 } },
    });
    expect(h.rt.service.telemetry.history(id)).toEqual([first, second]);
    expect(await h.decision((e) => e.action === 'publish' && e.deviceId === id)).toMatchObject({
      result: 'allowed',
      topic: `losant/${id}/state`,
    });
  });

  it('accepts every `time` form: {"$date": ISO}, epoch s, epoch ms, a date string, a negative ms offset', async () => {
    const { id, client } = await connectedDevice();
    const cases: Array<[unknown, string]> = [
      [{ $date: '2024-05-06T07:08:09.123Z' }, '2024-05-06T07:08:09.123Z'],
      [1700000000, '2023-11-14T22:13:20.000Z'],
      [1700000000123, '2023-11-14T22:13:20.123Z'],
      ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.000Z'],
      ['Tue, 02 Jan 2024 03:04:05 GMT', '2024-01-02T03:04:05.000Z'],
    ];
    for (const [time, iso] of cases) {
      const s = await publishState(client, id, { data: { n: 1 }, time });
      expect(s.time, JSON.stringify(time)).toBe(iso);
    }
    const before = Date.now();
    const offset = await publishState(client, id, { data: { n: 2 }, time: -60_000 });
    const after = Date.now();
    const t = Date.parse(offset.time);
    expect(t).toBeGreaterThanOrEqual(before - 60_000);
    expect(t).toBeLessThanOrEqual(after - 60_000);
    expect(h.rt.service.telemetry.history(id).map((s) => s.time)).toEqual([
      ...cases.map(([, iso]) => iso),
      offset.time,
    ]);
    expect(h.rt.service.store.getDevice(id)?.lastState).toEqual({ time: offset.time, data: { n: 2 } });
  });

  it.each([
    ['not JSON', 'not json'],
    ['data not an object', '{"data": 5}'],
    ['a null attribute', '{"data":{"x":null}}'],
    ['an array attribute', '{"data":{"x":[1,2]}}'],
    ['an unknown field', '{"data":{"x":1},"extra":true}'],
    ['a bad time', '{"data":{"x":1},"time":"yesterday-ish"}'],
  ])(
    'an invalid state (%s) is recorded as state.invalid, not stored, and the connection stays open',
    async (_label, payload) => {
      const { id, client } = await connectedDevice();
      const good = await publishState(client, id, { data: { ok: 1 } });
      const invalid = decisionAfterNow((e) => e.action === 'state' && e.deviceId === id);
      await client.publishAsync(`losant/${id}/state`, payload, { qos: 1 });
      const e = await invalid;
      expect(e).toMatchObject({
        action: 'state',
        result: 'denied',
        reason: 'state.invalid',
        topic: `losant/${id}/state`,
        transport: 'tcp',
      });
      expect(e.rule.length).toBeGreaterThan(0);
      // The PUBLISH itself was allowed at the MQTT level; nothing was stored.
      expect(
        h.rt.service.feed
          .list()
          .filter((d) => d.action === 'publish' && d.deviceId === id)
          .every((d) => d.result === 'allowed'),
      ).toBe(true);
      expect(h.rt.service.telemetry.history(id)).toEqual([good]);
      expect(h.rt.service.store.getDevice(id)?.lastState).toEqual(good);
      // Still connected, and still working.
      expect(client.connected).toBe(true);
      const next = await publishState(client, id, { data: { ok: 2 } });
      expect(h.rt.service.telemetry.history(id)).toEqual([good, next]);
    },
  );
});

describe('commands (losant/{id}/command) sent as the platform', () => {
  it('reach a device subscribed with mqtt.js and appear in telemetry.commands(id)', async () => {
    const { id, client } = await connectedDevice();
    await client.subscribeAsync(`losant/${id}/command`, { qos: 0 });
    const message = nextMessage(client, `losant/${id}/command`);
    const recorded = nextCommandEvent(id);
    const sent = await h.rt.service.telemetry.sendCommand(id, { name: 'reboot', payload: { delay: 1 } });
    const got = JSON.parse((await message).payload) as { name: string; payload: unknown; time: { $date: string } };
    expect(got).toEqual({ name: 'reboot', payload: { delay: 1 }, time: { $date: sent.time } });
    await recorded;
    expect(h.rt.service.telemetry.commands(id)).toEqual([{ name: 'reboot', payload: { delay: 1 }, time: sent.time }]);
    expect(await h.decision((e) => e.action === 'subscribe' && e.deviceId === id)).toMatchObject({
      result: 'allowed',
      reason: 'subscribe.granted',
    });
  });

  it('rejects an invalid command and a command for an unknown device', async () => {
    const { id } = await connectedDevice();
    await expect(h.rt.service.telemetry.sendCommand(id, { payload: 1 })).rejects.toThrow(/name/);
    await expect(h.rt.service.telemetry.sendCommand('0123456789abcdef01234567', { name: 'x' })).rejects.toThrow(
      /0123456789abcdef01234567/,
    );
    expect(h.rt.service.telemetry.commands(id)).toEqual([]);
  });

  it.skipIf(!HAVE_MOSQUITTO)('reach a device subscribed with mosquitto_sub -C 1 -W 5', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    secrets.push(k.secret);
    // aedes emits 'subscribe' once the subscription is registered (the decision event comes
    // earlier, from authorizeSubscribe, so waiting on it could send the command too soon).
    const topic = `losant/${d.id}/command`;
    const registered = within(
      new Promise<void>((resolve) => {
        const on = (subs: Array<{ topic: string }>, client: { id: string }) => {
          if (client.id !== d.id || !subs.some((x) => x.topic === topic)) return;
          h.rt.broker.aedes.off('subscribe', on);
          resolve();
        };
        h.rt.broker.aedes.on('subscribe', on);
      }),
      5_000, // names the awaited subscription if it never comes (it takes ms)
      `mosquitto_sub's subscription to ${topic}`,
    );
    const sub = mosquitto('mosquitto_sub', [
      ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
      '-t',
      topic,
      '-C',
      '1',
      '-W',
      '5',
    ]);
    await registered;
    expect(await h.decision((e) => e.action === 'subscribe' && e.deviceId === d.id)).toMatchObject({
      result: 'allowed',
      topic,
    });
    const sent = await h.rt.service.telemetry.sendCommand(d.id, { name: 'reboot', payload: { delay: 1 } });
    const r = await sub;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ name: 'reboot', payload: { delay: 1 }, time: { $date: sent.time } });
    await h.decision((e) => e.action === 'disconnect' && e.deviceId === d.id);
    expect(h.rt.service.telemetry.commands(d.id).map((c) => c.name)).toEqual(['reboot']);
  });
});

describe('decision feed', () => {
  it('toJsonLines(): one JSON object per line, with connect/publish/subscribe/disconnect events, and never a secret', async () => {
    const { id, client, key } = await connectedDevice();
    await client.subscribeAsync(`losant/${id}/command`);
    await publishState(client, id, { data: { t: 1 } });
    const gone = closed(client);
    await client.endAsync();
    await gone;
    await h.decision((e) => e.action === 'disconnect' && e.deviceId === id);
    // A refused attempt with a wrong secret: the wrong secret must not be recorded either.
    const wrong = randomBytes(32).toString('hex');
    secrets.push(wrong);
    expect((await pool.refusal(h.mqttUrl, { clientId: id, username: key, password: wrong })).code).toBe(4);
    await h.decision((e) => e.action === 'connect' && e.deviceId === id && e.reason === 'secret.mismatch');

    const text = h.rt.service.feed.toJsonLines();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.length).toBe(h.rt.service.feed.size);
    const events = lines.map((l) => JSON.parse(l) as DecisionEvent);
    for (const e of events) {
      expect(typeof e).toBe('object');
      expect(e).toMatchObject({
        seq: expect.any(Number),
        time: expect.any(String),
        action: expect.any(String),
        result: expect.stringMatching(/^(allowed|denied)$/),
        reason: expect.any(String),
      });
    }
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    const mine = events.filter((e) => e.deviceId === id).map((e) => e.action);
    expect(mine).toEqual(expect.arrayContaining(['connect', 'publish', 'subscribe', 'disconnect']));
    expect(secrets.length).toBeGreaterThan(3);
    for (const s of secrets) expect(text.includes(s)).toBe(false);
  });

  it('is a bounded ring: capacity 3, 5 recorded → the last 3, oldest first', () => {
    const feed = new DecisionFeed(3);
    for (let i = 1; i <= 5; i++)
      feed.record({
        transport: 'tcp',
        action: 'connect',
        result: 'allowed',
        reason: 'connect.accepted',
        rule: `r${i}`,
        deviceId: `d${i}`,
      });
    expect(feed.size).toBe(3);
    expect(feed.list().map((e) => [e.seq, e.rule])).toEqual([
      [3, 'r3'],
      [4, 'r4'],
      [5, 'r5'],
    ]);
    expect(feed.list(2).map((e) => e.seq)).toEqual([4, 5]);
    const lines = feed
      .toJsonLines()
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as DecisionEvent).deviceId);
    expect(lines).toEqual(['d3', 'd4', 'd5']);
    expect(new DecisionFeed(3).toJsonLines()).toBe('');
    expect(() => new DecisionFeed(0)).toThrow(/capacity/);
  });
});
