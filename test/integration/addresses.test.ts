// docs/design.md §6 connection restrictions against the real client address, over real sockets:
// - TCP/TLS from a chosen loopback source (Linux routes all of 127.0.0.0/8 to lo, so a client can
//   bind 127.0.0.2). mqtt.js's TCP stream builder passes only {port, host, path} to
//   net.createConnection (node_modules/mqtt/build/lib/connect/tcp.js), so `localAddress` in the
//   client options would be IGNORED: these tests hand mqtt.js their own bound socket instead.
//   mosquitto_pub binds with `-A ADDRESS`.
// - WebSocket with X-Forwarded-For set by the client, from the default trusted proxy (loopback)
//   and with no trusted proxy at all. The harness listens on 127.0.0.1 only, so no IPv6 peer here.
// Which header entry is the client (spoofed, trusted, IPv6, malformed, no trusted proxy) is policy,
// not network: test/unit/broker/addresses.test.ts runs those socket-free.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDecision, deviceWithOwnKey, type OwnKey } from '../helpers/decision-checks.ts';
import {
  ClientPool,
  ConnectRefused,
  HAVE_MOSQUITTO,
  closed,
  mosquitto,
  mosquittoAuth,
  within,
} from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

type Outcome = { accepted: true; client: MqttClient } | { accepted: false; code: number };

/** Clients made with a custom stream (bound source address); ended after each test. */
const bound = new Set<MqttClient>();

/** MQTT over TCP (or TLS) from `localAddress`: mqtt.js on a socket we bind ourselves. */
function connectFrom(
  h: Harness,
  transport: 'tcp' | 'tls',
  localAddress: string,
  opts: IClientOptions,
): Promise<Outcome> {
  const port = transport === 'tcp' ? h.rt.ports.mqtt : h.rt.ports.tls;
  const client = new mqtt.MqttClient(
    () =>
      transport === 'tcp'
        ? netConnect({ host: '127.0.0.1', port, localAddress })
        : tlsConnect({ socket: netConnect({ host: '127.0.0.1', port, localAddress }), rejectUnauthorized: false }),
    // connectTimeout 5 s / within 6 s: a loopback CONNACK takes ms; mqtt.js gives up first (5 s),
    // so its own error is what the test reports, and `within` only catches a client that never does.
    { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4, ...opts },
  );
  bound.add(client);
  return within(
    new Promise<Outcome>((resolve, reject) => {
      client.once('connect', () => resolve({ accepted: true, client }));
      client.once('error', (err: Error & { code?: unknown }) => {
        if (typeof err.code === 'number') resolve({ accepted: false, code: err.code });
        else reject(err);
      });
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    }),
    6_000,
    `CONNACK from ${localAddress}`,
  ).finally(() => client.on('error', () => {}));
}

const pool = new ClientPool();

afterEach(async () => {
  await pool.endAll();
  const all = [...bound];
  bound.clear();
  await Promise.all(all.map((c) => c.endAsync(true).catch(() => {})));
});

describe('TCP and TLS: the socket address (127.0.0.0/8 source addresses)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  it('whitelist 127.0.0.2: a client bound to 127.0.0.2 is accepted', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.2'] });
    const out = await connectFrom(h, 'tcp', '127.0.0.2', k.auth);
    expect(out.accepted).toBe(true);
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      transport: 'tcp',
      result: 'allowed',
      reason: 'connect.accepted',
      sourceAddress: '127.0.0.2',
      keyId: k.accessKey.id,
    });
    expect(h.rt.broker.sessions.forDevice(k.device.id)?.address).toBe('127.0.0.2');
    // Read from the socket's handle, not through remoteAddress, whose cache ({address, family,
    // port}) an idle connection would otherwise hold for its life (issue 17 item 4).
    const clients = (h.rt.broker.aedes as unknown as { clients: Record<string, { conn: { _peername?: unknown } }> })
      .clients;
    expect(clients[k.device.id]?.conn).toBeDefined();
    expect(clients[k.device.id]?.conn._peername).toBeUndefined();
  });

  it('whitelist 127.0.0.2: a client from 127.0.0.1 is refused with CONNACK 5, address.denied', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.2'] });
    expect(await connectFrom(h, 'tcp', '127.0.0.1', k.auth)).toEqual({ accepted: false, code: 5 });
    const e = await connectDecision(h, k.device.id);
    expect(e).toMatchObject({
      transport: 'tcp',
      result: 'denied',
      reason: 'address.denied',
      sourceAddress: '127.0.0.1',
      keyId: k.accessKey.id,
    });
    expect(e.forwardedFor).toBeUndefined();
    expect(JSON.stringify(e)).not.toContain(k.secret);
  });

  it('blacklist 127.0.0.3/32: refuses 127.0.0.3, accepts 127.0.0.1', async () => {
    const denied = await deviceWithOwnKey(h, { addressFilterType: 'blacklist', addresses: ['127.0.0.3/32'] });
    expect(await connectFrom(h, 'tcp', '127.0.0.3', denied.auth)).toEqual({ accepted: false, code: 5 });
    expect(await connectDecision(h, denied.device.id)).toMatchObject({
      result: 'denied',
      reason: 'address.denied',
      sourceAddress: '127.0.0.3',
    });

    const allowed = await deviceWithOwnKey(h, { addressFilterType: 'blacklist', addresses: ['127.0.0.3/32'] });
    expect((await connectFrom(h, 'tcp', '127.0.0.1', allowed.auth)).accepted).toBe(true);
    expect(await connectDecision(h, allowed.device.id)).toMatchObject({
      result: 'allowed',
      reason: 'connect.accepted',
      sourceAddress: '127.0.0.1',
    });
  });

  it('a whitelisted CIDR covers every address in it; TLS uses the socket address the same way', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.0/30'] });
    const out = await connectFrom(h, 'tls', '127.0.0.3', k.auth);
    expect(out.accepted).toBe(true);
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      transport: 'tls',
      result: 'allowed',
      sourceAddress: '127.0.0.3',
    });

    const outside = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.0/30'] });
    expect(await connectFrom(h, 'tls', '127.0.0.4', outside.auth)).toEqual({ accepted: false, code: 5 });
    expect(await connectDecision(h, outside.device.id)).toMatchObject({
      transport: 'tls',
      reason: 'address.denied',
      sourceAddress: '127.0.0.4',
    });
  });

  describe.skipIf(!HAVE_MOSQUITTO)('mosquitto_pub -A (bind address)', () => {
    it('-A 127.0.0.2 with a whitelist of 127.0.0.2 publishes; -A 127.0.0.3 is refused', async () => {
      const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.2'] });
      const args = (from: string) => [
        ...mosquittoAuth(h.rt.ports.mqtt, k.device.id, k.accessKey.key, k.secret),
        '-A',
        from,
        '-q',
        '1',
        '-t',
        `losant/${k.device.id}/state`,
        '-m',
        '{"data":{"n":1}}',
      ];
      const ok = await mosquitto('mosquitto_pub', args('127.0.0.2'));
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(await connectDecision(h, k.device.id)).toMatchObject({ result: 'allowed', sourceAddress: '127.0.0.2' });

      const since = h.rt.service.feed.list(1)[0]?.seq ?? 0;
      const refused = await mosquitto('mosquitto_pub', args('127.0.0.3'));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/not authori[sz]ed/i);
      const e = await h.decision((d) => d.seq > since && d.action === 'connect' && d.deviceId === k.device.id);
      expect(e).toMatchObject({ result: 'denied', reason: 'address.denied', sourceAddress: '127.0.0.3' });
    });
  });
});

describe('WebSocket: X-Forwarded-For from the default trusted proxy (loopback)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  const ws = (opts: IClientOptions, xff?: string): IClientOptions => ({
    ...opts,
    ...(xff !== undefined ? { wsOptions: { headers: { 'x-forwarded-for': xff } } } : {}),
  });

  async function attempt(k: OwnKey, xff?: string): Promise<Outcome> {
    try {
      return { accepted: true, client: await pool.connect(h.wsUrl, ws(k.auth, xff)) };
    } catch (err) {
      if (err instanceof ConnectRefused) return { accepted: false, code: err.code };
      throw err;
    }
  }

  it('whitelist 203.0.113.0/24 + XFF 203.0.113.7: accepted; the event has the client address and the raw header', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['203.0.113.0/24'] });
    const out = await attempt(k, '203.0.113.7');
    expect(out.accepted).toBe(true);
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      transport: 'ws',
      result: 'allowed',
      reason: 'connect.accepted',
      sourceAddress: '203.0.113.7',
      forwardedFor: '203.0.113.7',
    });
    // The live session keeps the effective address and the raw header.
    expect(h.rt.broker.sessions.forDevice(k.device.id)).toMatchObject({
      address: '203.0.113.7',
      forwardedFor: '203.0.113.7',
    });
  });

  it('an accepted WebSocket client keeps working (publish reaches the broker) and disconnect is recorded with its address', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['203.0.113.7'] });
    const out = await attempt(k, '203.0.113.7');
    if (!out.accepted) throw new Error(`refused with ${out.code}`);
    await out.client.publishAsync(`losant/${k.device.id}/state`, '{"data":{"v":1}}', { qos: 1 });
    expect(await h.decision((d) => d.action === 'publish' && d.deviceId === k.device.id)).toMatchObject({
      result: 'allowed',
      sourceAddress: '203.0.113.7',
    });
    const gone = closed(out.client);
    await out.client.endAsync();
    await gone;
    expect(await h.decision((d) => d.action === 'disconnect' && d.deviceId === k.device.id)).toMatchObject({
      reason: 'client.disconnect',
      sourceAddress: '203.0.113.7',
      forwardedFor: '203.0.113.7',
    });
  });
});
