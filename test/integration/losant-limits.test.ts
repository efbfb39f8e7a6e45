// Issue 14 item 3: Losant limits mode on the real broker, real mqtt.js clients, port 0. The rates
// and bans follow https://docs.losant.com/references/message-throttling; the limits' clock is
// injected (RuntimeOptions.now) and advanced here, so a 30 s ban expires without a 30 s wait.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey } from '../../src-main/core/types.ts';
import { startRuntime } from '../../src-main/server/runtime.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { ClientPool, within } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let off: Harness;
let clock = 1_000_000;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness({ limits: 'losant', now: () => clock });
  off = await startHarness({ limits: 'off', now: () => clock });
});
afterEach(() => pool.endAll());
afterAll(async () => {
  await h?.stop();
  await off?.stop();
});

type Key = { accessKey: AccessKey; secret: string };

async function device(on: Harness): Promise<{ id: string; k: Key }> {
  const d = await on.device();
  return { id: d.id, k: await on.key({ deviceIds: [d.id], filterType: 'all' }) };
}

function connect(on: Harness, id: string, k: Key, extra: Record<string, unknown> = {}): Promise<MqttClient> {
  return pool.connect(on.mqttUrl, { clientId: id, username: k.accessKey.key, password: k.secret, ...extra });
}

/** Resolves when the broker closes `c`. */
function closed(c: MqttClient): Promise<void> {
  // 10 s: the broker closes right after the offending packet; the bound only names a close that never came.
  return within(
    new Promise<void>((resolve) => c.once('close', () => resolve())),
    10_000,
    'the broker closing the connection',
  );
}

/** Publishes `n` QoS 1 messages on `topic`, each acknowledged before the next (the clock does not move). */
async function publishN(c: MqttClient, topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await c.publishAsync(topic, JSON.stringify({ data: { n: i } }), { qos: 1 });
}

describe('Losant limits mode', () => {
  it('31 messages in 15 s on one topic: disconnected with limit.topic-rate, refused with limit.banned, accepted after 30 s', async () => {
    const { id, k } = await device(h);
    const c = await connect(h, id, k);
    const topic = `losant/${id}/state`;
    await publishN(c, topic, 30);
    const gone = closed(c);
    c.publish(topic, JSON.stringify({ data: { n: 31 } }), { qos: 1 });
    await gone;
    const rate = await h.decision((e) => e.deviceId === id && e.reason === 'limit.topic-rate');
    expect(rate).toMatchObject({ action: 'publish', result: 'denied', topic });
    expect(rate.rule).toContain(`31 messages in 15 s on ${topic}`);
    expect(rate.rule).toContain('limit 30');
    expect(rate.rule).toContain('banned for 30 s (ban level 1)');
    const bye = await h.decision((e) => e.deviceId === id && e.action === 'disconnect');
    expect(bye).toMatchObject({ reason: 'limit.topic-rate', result: 'denied' });

    clock += 10_000;
    const refused = await pool.refusal(h.mqttUrl, { clientId: id, username: k.accessKey.key, password: k.secret });
    expect(refused.code).toBe(5);
    const ban = await h.decision((e) => e.deviceId === id && e.reason === 'limit.banned');
    expect(ban).toMatchObject({ action: 'connect', result: 'denied' });
    expect(ban.rule).toContain('20 s more (ban level 1');
    expect(h.rt.broker.losant.bans().map((b) => b.deviceId)).toContain(id);

    clock += 20_000; // the 30 s ban is over
    const again = await connect(h, id, k);
    expect(again.connected).toBe(true);
    await publishN(again, topic, 30); // the window moved on with the clock: a fresh 30
  });

  it('a second offence bans for 60 s (escalation)', async () => {
    const { id, k } = await device(h);
    for (const [level, length] of [
      [1, 30_000],
      [2, 60_000],
    ] as const) {
      const c = await connect(h, id, k);
      await publishN(c, `losant/${id}/state`, 30);
      const gone = closed(c);
      c.publish(`losant/${id}/state`, '{"data":{}}', { qos: 1 });
      await gone;
      const ban = h.rt.broker.losant.bans().find((b) => b.deviceId === id);
      expect(ban).toMatchObject({ level, until: clock + length });
      clock += length;
    }
  });

  it('300 messages in 15 s on one connection (10 topics × 30) pass; the 301st closes with limit.connection-rate', async () => {
    const { id, k } = await device(h);
    const c = await connect(h, id, k);
    for (let t = 0; t < 10; t++) await publishN(c, `custom/${id}/t${t}`, 30);
    const gone = closed(c);
    c.publish(`custom/${id}/t10`, 'x', { qos: 1 });
    await gone;
    const d = await h.decision((e) => e.deviceId === id && e.reason === 'limit.connection-rate');
    expect(d.rule).toContain('301 messages in 15 s on this connection, limit 300');
    clock += 30_000;
  });

  it('a retained PUBLISH is delivered but not stored (retain.unsupported)', async () => {
    const { id, k } = await device(h);
    const c = await connect(h, id, k);
    const topic = `custom/${id}/kept`;
    await c.publishAsync(topic, 'v', { qos: 1, retain: true });
    const d = await h.decision((e) => e.deviceId === id && e.reason === 'retain.unsupported');
    expect(d).toMatchObject({ result: 'allowed', topic });
    // A new subscriber gets nothing retained: a second, live message is the first it sees.
    await c.subscribeAsync(topic, { qos: 1 });
    const first = within(
      new Promise<string>((resolve) => c.once('message', (_t, p) => resolve(p.toString()))),
      5_000, // the live message follows right after
      'a message on the subscribed topic',
    );
    await c.publishAsync(topic, 'live', { qos: 1 });
    expect(await first).toBe('live');
  });

  it('QoS 2: a subscription is granted QoS 1, a QoS 2 PUBLISH closes with qos.unsupported', async () => {
    const { id, k } = await device(h);
    const c = await connect(h, id, k);
    const grants = await c.subscribeAsync(`custom/${id}/q`, { qos: 2 });
    expect(grants[0]?.qos).toBe(1);
    const gone = closed(c);
    c.publish(`custom/${id}/q`, 'x', { qos: 2 });
    await gone;
    const d = await h.decision((e) => e.deviceId === id && e.reason === 'qos.unsupported' && e.action === 'publish');
    expect(d.result).toBe('denied');
  });

  it('CleanSession 0 is accepted as a clean session (session.unsupported)', async () => {
    const { id, k } = await device(h);
    const c = await connect(h, id, k, { clean: false });
    expect(c.connected).toBe(true);
    const d = await h.decision((e) => e.deviceId === id && e.reason === 'session.unsupported');
    expect(d).toMatchObject({ action: 'connect', result: 'allowed' });
    expect(d.rule).toContain('Losant keeps no persistent sessions');
    // aedes runs the session as clean: nothing is kept for it after it goes.
    const aedesClients = (h.rt.broker.aedes as unknown as { clients: Record<string, { clean: boolean }> }).clients;
    expect(aedesClients[id]?.clean).toBe(true);
  });

  it('switched off live: bans are lifted and nothing is enforced', async () => {
    const { id, k } = await device(h);
    h.rt.broker.losant.app.ban(id, clock);
    h.rt.broker.losant.mode = 'off';
    try {
      const c = await connect(h, id, k);
      await publishN(c, `losant/${id}/state`, 40);
      expect(c.connected).toBe(true);
    } finally {
      h.rt.broker.losant.mode = 'losant';
    }
  });
});

describe('--limits off', () => {
  it('enforces nothing: 40 messages on one topic, retain stored, QoS 2 granted', async () => {
    const { id, k } = await device(off);
    const c = await connect(off, id, k);
    await publishN(c, `losant/${id}/state`, 40);
    await c.publishAsync(`custom/${id}/r`, 'kept', { qos: 2, retain: true });
    const grants = await c.subscribeAsync(`custom/${id}/r`, { qos: 2 });
    expect(grants[0]?.qos).toBe(2);
    expect(c.connected).toBe(true);
    expect(off.rt.service.feed.list().some((e) => e.reason.startsWith('limit.'))).toBe(false);
  });
});

describe('the limits setting', () => {
  it('broker.setLimits switches live, is stored in <data>/settings.json and comes back after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyport-limits-'));
    const base = { dataDir: dir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {} };
    const a = await startRuntime(base); // no --limits: the default
    try {
      expect(a.broker.losant.mode).toBe('losant');
      const ctx = { service: a.service, dataDir: dir, listeners: () => a.ports, limits: a.limits };
      const bad = await dispatch(ctx, 'broker.setLimits', { mode: 'aws' });
      expect(bad).toMatchObject({ ok: false });
      expect(JSON.stringify(bad)).toContain('mode must be \\"losant\\" or \\"off\\"');
      const r = await dispatch(ctx, 'broker.setLimits', { mode: 'off' });
      expect(r).toMatchObject({ ok: true, result: { mode: 'off', bans: [] } });
      expect(a.broker.losant.mode).toBe('off');
      expect(a.broker.status(null).limits?.mode).toBe('off');
      expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'))).toEqual({ limits: 'off' });
    } finally {
      await a.close();
    }
    const b = await startRuntime(base);
    try {
      expect(b.broker.losant.mode).toBe('off');
    } finally {
      await b.close();
    }
    await writeFile(join(dir, 'settings.json'), '{"limits":"strict"}');
    await expect(startRuntime(base)).rejects.toThrow(
      /settings\.json: limits must be "losant" or "off" \(got "strict"\)/,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
