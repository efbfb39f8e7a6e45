// Adversarial wire input against the real broker on real sockets (port 0), modelled on the
// aedes advisories and mosquitto's malformed-packet tests: ill-formed UTF-8 in topics and
// filters [MQTT-1.5.3-1], [MQTT-1.5.3-2], oversized packets before and after login, and the
// per-SUBSCRIBE bounds. Hand-built bytes via test/helpers/raw-mqtt.ts; mqtt.js and
// mosquitto_pub where a real client shows the behaviour.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import {
  ClientPool,
  HAVE_MOSQUITTO,
  collect,
  decisionsFrom,
  mosquitto,
  mosquittoAuth,
} from '../helpers/mqtt-clients.ts';
import {
  connectPacket,
  connectWithRawWill,
  gen,
  rawConnect,
  rawPublish,
  rawSubscribe,
  rawTopic,
  rawUnsubscribe,
  type RawConnection,
  type RawTransport,
} from '../helpers/raw-mqtt.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();
const open: RawConnection[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  for (const c of open.splice(0)) c.destroy();
  await pool.endAll();
});
afterAll(() => h?.stop());

type Key = { accessKey: AccessKey; secret: string };

async function device(keyInput: Record<string, unknown> = { filterType: 'all' }): Promise<{ d: Device; k: Key }> {
  const d = await h.device();
  return { d, k: await h.key({ deviceIds: [d.id], ...keyInput }) };
}

const portOf = (t: RawTransport): number =>
  t === 'tcp' ? h.rt.ports.mqtt : t === 'tls' ? h.rt.ports.tls : h.rt.ports.ws;

async function raw(t: RawTransport): Promise<RawConnection> {
  const c = await rawConnect(t, portOf(t));
  open.push(c);
  return c;
}

/** A raw connection logged in as a fresh device whose key allows every custom topic. */
async function loggedIn(t: RawTransport): Promise<{ c: RawConnection; d: Device }> {
  const { d, k } = await device();
  const c = await raw(t);
  c.write(connectPacket(d.id, k.accessKey.key, k.secret));
  const ack = await c.next((p) => p.cmd === 'connack');
  expect(ack.returnCode).toBe(0);
  return { c, d };
}

const TRANSPORTS: RawTransport[] = ['tcp', 'ws', 'tls'];

describe.each(TRANSPORTS)('ill-formed UTF-8 over %s closes the connection with topic.invalid', (t) => {
  it.each([
    ['tv/ + C3 28', [0xc3, 0x28], 'C3 28 at byte 3: invalid continuation byte'],
    ['CESU-8 surrogate ED A0 80', [0xed, 0xa0, 0x80], 'ED A0 80 at byte 3: UTF-16 surrogate (CESU-8)'],
    ['overlong C0 AF', [0xc0, 0xaf], 'C0 AF at byte 3: overlong encoding of U+002F'],
    ['U+0000', [0x00], '00 at byte 3: null character U+0000 [MQTT-1.5.3-2]'],
  ])('PUBLISH %s: refused, not PUBACKed, not delivered', async (_name, bytes, text) => {
    const base = `tv${randomBytes(4).toString('hex')}/`;
    const watcher = await device();
    const sub = await pool.connect(h.mqttUrl, {
      clientId: watcher.d.id,
      username: watcher.k.accessKey.key,
      password: watcher.k.secret,
    });
    await sub.subscribeAsync(`${base}#`, { qos: 1 });
    const got = collect(sub);
    const { c, d } = await loggedIn(t);
    const since = decisionsFrom(h);
    c.write(rawPublish(rawTopic(base, ...bytes)));
    await c.closed;
    const e = await since((x) => x.deviceId === d.id && x.action === 'publish');
    expect(e).toMatchObject({ result: 'denied', reason: 'topic.invalid' });
    expect(e.rule).toContain(text.replace('byte 3', `byte ${base.length}`));
    expect(e.topic?.startsWith(`${base}\\x`)).toBe(true);
    const bye = await since((x) => x.deviceId === d.id && x.action === 'disconnect');
    expect(bye).toMatchObject({ result: 'denied', reason: 'topic.invalid' });
    expect(c.received.map((p) => p.cmd)).toEqual(['connack']); // no PUBACK
    // A good message after it arrives, and is the only one the watcher ever sees.
    const good = await loggedIn(t);
    good.c.write(gen({ cmd: 'publish', topic: `${base}ok`, payload: 'fine', qos: 1, messageId: 1 }));
    await good.c.next((p) => p.cmd === 'puback');
    await expect.poll(() => got.length).toBe(1);
    expect(got.map((m) => m.topic)).toEqual([`${base}ok`]);
  });

  it('SUBSCRIBE to tv/ + FF FE: no SUBACK, closed, the decision names FF at byte 3', async () => {
    const { c, d } = await loggedIn(t);
    const since = decisionsFrom(h);
    c.write(rawSubscribe(Buffer.from('ok/#'), rawTopic('tv/', 0xff, 0xfe)));
    await c.closed;
    const e = await since((x) => x.deviceId === d.id && x.action === 'subscribe');
    expect(e).toMatchObject({ result: 'denied', reason: 'topic.invalid' });
    expect(e.rule).toContain(
      'topic filter in SUBSCRIBE is not well-formed UTF-8: FF at byte 3: byte never used in UTF-8',
    );
    expect(c.received.map((p) => p.cmd)).toEqual(['connack']);
  });

  it('UNSUBSCRIBE with C3 28 and a CONNECT whose will topic is CESU-8 are refused too', async () => {
    const { c, d } = await loggedIn(t);
    const since = decisionsFrom(h);
    c.write(rawUnsubscribe(rawTopic('tv/', 0xc3, 0x28)));
    await c.closed;
    expect((await since((x) => x.deviceId === d.id && x.action === 'subscribe')).rule).toContain('UNSUBSCRIBE');

    const w = await device();
    const c2 = await raw(t);
    c2.write(connectWithRawWill(w.d.id, w.k.accessKey.key, w.k.secret, rawTopic('tv/', 0xed, 0xa0, 0x80)));
    await c2.closed;
    const e = await since((x) => x.action === 'connect' && x.reason === 'topic.invalid');
    expect(e.rule).toContain('will topic in CONNECT is not well-formed UTF-8: ED A0 80 at byte 3');
    expect(c2.received).toEqual([]); // no CONNACK
  });
});

describe.each(TRANSPORTS)('packet-size caps over %s', (t) => {
  it('a CONNECT claiming 256 MB is refused from its fixed header: packet.too-large, closed', async () => {
    const c = await raw(t);
    const since = decisionsFrom(h);
    c.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    // Junk behind it, as an attacker would stream it; the broker has hung up after the header.
    for (let i = 0; i < 8 && !c.isClosed(); i++) c.write(Buffer.alloc(64 * 1024, 0x41));
    await c.closed;
    const e = await since((x) => x.reason === 'packet.too-large');
    expect(e).toMatchObject({ action: 'connect', result: 'denied', sourceAddress: '127.0.0.1' });
    expect(e.rule).toBe(
      'CONNECT claims 268,435,455 bytes after its fixed header; at most 65,536 are accepted for a CONNECT, before a client has logged in; closed before reading its body',
    );
    expect(c.received).toEqual([]);
  });

  it('after login, a PUBLISH claiming 100 MB is refused (payload.too-large), never PUBACKed', async () => {
    const { c, d } = await loggedIn(t);
    const since = decisionsFrom(h);
    const header = Buffer.concat([Buffer.from([0x32]), Buffer.from([0x80, 0x80, 0x80, 0x32])]); // 100 MiB
    c.write(Buffer.concat([header, Buffer.from([0, 3]), Buffer.from('a/b'), Buffer.from([0, 7])]));
    for (let i = 0; i < 8 && !c.isClosed(); i++) c.write(Buffer.alloc(64 * 1024));
    await c.closed;
    const e = await since((x) => x.deviceId === d.id && x.reason === 'payload.too-large');
    expect(e).toMatchObject({ action: 'publish', result: 'denied' });
    expect(e.rule).toContain('PUBLISH claims 104,857,600 bytes after its fixed header; the limit is 262,144 bytes');
    expect((await since((x) => x.deviceId === d.id && x.action === 'disconnect')).reason).toBe('payload.too-large');
    expect(c.received.map((p) => p.cmd)).toEqual(['connack']);
  });

  it('a PUBLISH just under the limit is accepted and PUBACKed', async () => {
    const { c } = await loggedIn(t);
    c.write(gen({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(256 * 1024 - 100), qos: 1, messageId: 5 }));
    expect(await c.next((p) => p.cmd === 'puback')).toMatchObject({ messageId: 5 });
  });
});

describe('WebSocket frames over the listener limit', () => {
  it('a 1 MiB WebSocket message is refused by its frame header (1009) with a decision', async () => {
    const since = decisionsFrom(h);
    const ws = new WebSocket(`ws://127.0.0.1:${h.rt.ports.ws}/mqtt`, 'mqtt');
    ws.on('error', () => {});
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const code = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    ws.send(Buffer.alloc(1024 * 1024));
    expect(await code).toBe(1009);
    const e = await since((x) => x.reason === 'packet.too-large' && x.transport === 'ws');
    expect(e.rule).toContain('WebSocket message larger than 524,288 bytes');
  });
});

describe.skipIf(!HAVE_MOSQUITTO)('mosquitto_pub', () => {
  it('a 300 KB QoS 1 message is refused: the connection is lost, the decision names the size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyport-big-'));
    try {
      const file = join(dir, 'big.bin');
      await writeFile(file, Buffer.alloc(300 * 1024, 0x61));
      const { d, k } = await device();
      const since = decisionsFrom(h);
      const r = await mosquitto('mosquitto_pub', [
        ...mosquittoAuth(h.rt.ports.mqtt, d.id, k.accessKey.key, k.secret),
        '-q',
        '1',
        '-t',
        'big/one',
        '-f',
        file,
      ]);
      expect(r.code).not.toBe(0);
      const e = await since((x) => x.deviceId === d.id && x.reason === 'payload.too-large');
      expect(e.rule).toContain('the limit is 262,144 bytes (--max-packet)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SUBSCRIBE bounds', () => {
  it('10,000 filters in one SUBSCRIBE: all SUBACK 0x80, one decision, the feed keeps its history', async () => {
    const { d, k } = await device();
    const client = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
    const before = h.rt.service.feed.list(1)[0]?.seq ?? 0;
    const filters = Array.from({ length: 10_000 }, (_, i) => `many/${i}`);
    let granted: number[];
    try {
      granted = (await client.subscribeAsync(filters, { qos: 0 })).map((g) => g.qos);
    } catch (err) {
      granted = (err as { packet: { granted: number[] } }).packet.granted; // mqtt.js rejects on 0x80
    }
    expect(granted).toHaveLength(10_000);
    expect(granted.every((q) => q === 128)).toBe(true);
    const added = h.rt.service.feed.list().filter((e) => e.seq > before && e.deviceId === d.id);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ action: 'subscribe', result: 'denied', reason: 'subscribe.too-many-filters' });
    expect(added[0]?.rule).toContain('SUBSCRIBE carries 10000 filters; at most 100 are allowed per packet');
    expect(client.connected).toBe(true); // refused, not disconnected
  });

  it('within the bound: 20 decisions one by one, then one summary counting the rest by reason', async () => {
    const tag = { key: 'fleet', value: `b-${randomBytes(4).toString('hex')}` };
    const d = await h.device({ tags: [tag] });
    const k = await h.key({ deviceTags: [tag] }); // state/command topics of its scope only
    const client = await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
    const before = h.rt.service.feed.list(1)[0]?.seq ?? 0;
    // 30 own-topic filters (granted) then 30 other devices' (refused: out of scope).
    const own = Array.from({ length: 30 }, (_, i) => (i % 2 ? `losant/${d.id}/command` : `losant/${d.id}/state`));
    const mine = [...new Set(own)];
    const others = Array.from({ length: 58 }, (_, i) => `losant/${i.toString(16).padStart(24, '0')}/state`);
    let granted: number[];
    try {
      granted = (await client.subscribeAsync([...mine, ...others], { qos: 0 })).map((g) => g.qos);
    } catch (err) {
      granted = (err as { packet: { granted: number[] } }).packet.granted;
    }
    expect(granted.filter((q) => q !== 128)).toHaveLength(2);
    const added = h.rt.service.feed.list().filter((e) => e.seq > before && e.deviceId === d.id);
    expect(added).toHaveLength(21);
    const summary = added[20];
    expect(summary).toMatchObject({ reason: 'decisions.summarised', result: 'denied' });
    expect(summary?.rule).toBe(
      '40 more filters in this SUBSCRIBE: 0 granted, 40 refused (topic.out-of-scope ×40); at most 20 decisions are recorded one by one per packet',
    );
  });
});
