// docs/design.md §4 CONNECT over the real listeners (port 0, temp data dir) against real clients:
// mqtt.js over TCP, WebSocket and TLS, and mosquitto_pub. The whole check table, row by row, runs
// socket-free in test/unit/broker/connect.test.ts; this file keeps what crosses the network: the
// peer address a socket reports, the X-Forwarded-For header of a real WebSocket upgrade, TLS with
// the generated certificate, and the exit codes and messages of a C client (libmosquitto).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import {
  connectDecision as decisionOf,
  deviceWithOwnKey,
  expectNoSecret,
  fakeSecret,
  hex24,
  type OwnKey,
} from '../helpers/decision-checks.ts';
import { ClientPool, HAVE_MOSQUITTO, mosquitto, mosquittoAuth, nextState } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

const connectDecision = (clientId: string): Promise<DecisionEvent> => decisionOf(h, clientId);

describe('mqtt.js over TCP and WebSocket', () => {
  it('a device with its own key: CONNACK 0, connect.accepted from the socket address 127.0.0.1', async () => {
    const k = await deviceWithOwnKey(h);
    const c = await pool.connect(h.mqttUrl, k.auth);
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

  it('a wrong secret: CONNACK 4, secret.mismatch, and no session left behind', async () => {
    const k = await deviceWithOwnKey(h);
    const wrong = fakeSecret();
    expect((await pool.refusal(h.mqttUrl, { ...k.auth, password: wrong })).code).toBe(4);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ result: 'denied', reason: 'secret.mismatch', transport: 'tcp', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret, wrong);
    expect(h.rt.broker.sessions.forDevice(k.device.id)).toBeUndefined();
  });

  it('over WebSocket from loopback with a well-formed X-Forwarded-For: accepted from the forwarded address', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.wsUrl, { ...k.auth, wsOptions: { headers: { 'X-Forwarded-For': '203.0.113.9' } } });
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

  it('a malformed X-Forwarded-For over WebSocket from a trusted (loopback) proxy: CONNACK 5, address.malformed', async () => {
    const k = await deviceWithOwnKey(h);
    const refusal = await pool.refusal(h.wsUrl, {
      ...k.auth,
      wsOptions: { headers: { 'X-Forwarded-For': 'garbage' } },
    });
    expect(refusal.code).toBe(5);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({
      result: 'denied',
      reason: 'address.malformed',
      transport: 'ws',
      forwardedFor: 'garbage',
    });
    expectNoSecret(e, k.secret);
  });
});

describe('CONNECT over TLS', () => {
  const tlsOpts = async () => ({
    ca: await readFile(join(h.dataDir, 'tls', 'cert.pem'), 'utf8'),
    rejectUnauthorized: true,
  });

  it('mqtt.js with the generated certificate as CA and verification on: accepted, transport tls', async () => {
    const k = await deviceWithOwnKey(h);
    const c = await pool.connect(h.tlsUrl, { ...(await tlsOpts()), ...k.auth });
    expect(c.connected).toBe(true);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ result: 'allowed', reason: 'connect.accepted', transport: 'tls', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('mqtt.js with a wrong secret over TLS: CONNACK 4, secret.mismatch, transport tls', async () => {
    const k = await deviceWithOwnKey(h);
    const wrong = fakeSecret();
    const refusal = await pool.refusal(h.tlsUrl, { ...(await tlsOpts()), ...k.auth, password: wrong });
    expect(refusal.code).toBe(4);
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ reason: 'secret.mismatch', transport: 'tls', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret, wrong);
  });
});

const STATE = '{"data":{"temp":21.5}}';

/** mosquitto_pub of `STATE` to the device's own state topic with its key (or `secret`), plus `args`. */
function pubState(k: OwnKey, args: string[] = [], opts: { secret?: string; port?: number } = {}) {
  return mosquitto('mosquitto_pub', [
    ...mosquittoAuth(opts.port ?? h.rt.ports.mqtt, k.device.id, k.accessKey.key, opts.secret ?? k.secret),
    ...args,
    '-t',
    `losant/${k.device.id}/state`,
    '-m',
    STATE,
  ]);
}

describe.skipIf(!HAVE_MOSQUITTO)('CONNECT with mosquitto_pub', () => {
  it('accepted: exit 0, state stored, connect.accepted', async () => {
    const k = await deviceWithOwnKey(h);
    const stored = nextState(h, k.device.id);
    const r = await pubState(k, ['-q', '1']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '', timedOut: false });
    expect((await stored).data).toEqual({ temp: 21.5 });
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ reason: 'connect.accepted', transport: 'tcp', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('wrong secret: "Connection Refused: bad user name or password." and exit 4', async () => {
    const k = await deviceWithOwnKey(h);
    const wrong = fakeSecret();
    const r = await pubState(k, [], { secret: wrong });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      'Connection error: Connection Refused: bad user name or password.\nError: The connection was refused.\n',
    );
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ reason: 'secret.mismatch', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret, wrong);
  });

  it('inactive key: "Connection Refused: not authorised." and exit 5', async () => {
    const k = await deviceWithOwnKey(h, { status: 'inactive' });
    const r = await pubState(k);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      'Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n',
    );
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ reason: 'key.inactive', keyId: k.accessKey.id });
    expectNoSecret(e, k.secret);
  });

  it('-V mqttv5: refused as an unsupported protocol version (exit 132), protocol.unsupported', async () => {
    const k = await deviceWithOwnKey(h);
    const r = await pubState(k, ['-V', 'mqttv5']);
    // aedes sends CONNACK return code 1; libmosquitto in v5 mode maps it to reason 0x84 (132).
    expect(r.code).toBe(132);
    expect(r.stderr).toBe(
      'Connection error: Unsupported Protocol Version. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n' +
        'Error: A network protocol error occurred when communicating with the broker.\n',
    );
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ result: 'denied', reason: 'protocol.unsupported', transport: 'tcp' });
    expect(e.rule).toContain('level 5');
    expectNoSecret(e, k.secret);
  });

  it('-V mqttv31 with the 24-character device id as client id: accepted (exit 0)', async () => {
    const k = await deviceWithOwnKey(h);
    const r = await pubState(k, ['-V', 'mqttv31']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((await connectDecision(k.device.id)).reason).toBe('connect.accepted');
  });

  it('over TLS with --cafile <dataDir>/tls/cert.pem: exit 0, transport tls', async () => {
    const k = await deviceWithOwnKey(h);
    const stored = nextState(h, k.device.id);
    const cafile = join(h.dataDir, 'tls', 'cert.pem');
    const r = await pubState(k, ['--cafile', cafile, '-q', '1'], { port: h.rt.ports.tls });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    await stored;
    const e = await connectDecision(k.device.id);
    expect(e).toMatchObject({ reason: 'connect.accepted', transport: 'tls', keyId: k.accessKey.id });
  });

  // Issue 14, inclusive tag restrictions (Losant device queries,
  // https://docs.losant.com/devices/device-queries/); the full table is in the socket-free suite.
  it('a floor-only device publishes state with a two-tag key; the device with neither tag exits 5', async () => {
    const u = hex24();
    const floor = { key: 'floor', value: `2-${u}` };
    const { accessKey, secret } = await h.key({ deviceTags: [{ key: 'type', value: `thermostat-${u}` }, floor] });
    const as = async (tags: Array<{ key: string; value: string }>): Promise<OwnKey> => {
      const device = await h.device({ tags });
      return { device, accessKey, secret, auth: { clientId: device.id, username: accessKey.key, password: secret } };
    };
    const onlyFloor = await as([{ key: 'type', value: `sensor-${u}` }, floor]);
    const neither = await as([
      { key: 'type', value: `lamp-${u}` },
      { key: 'floor', value: `1-${u}` },
    ]);
    const stored = nextState(h, onlyFloor.device.id);
    const ok = await pubState(onlyFloor, ['-q', '1']);
    expect(ok).toMatchObject({ code: 0, stderr: '', timedOut: false });
    expect((await stored).data).toEqual({ temp: 21.5 });
    expect(await connectDecision(onlyFloor.device.id)).toMatchObject({ reason: 'connect.accepted' });

    const refused = await pubState(neither);
    expect(refused.code).toBe(5);
    expect(await connectDecision(neither.device.id)).toMatchObject({ reason: 'device.out-of-scope' });
  });
});
