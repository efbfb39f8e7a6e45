// docs/design.md §6 X-Forwarded-For policy, socket-free (test/helpers/broker-harness.ts): which
// entry of the header is the client, when it is believed, and that a malformed one fails closed.
// The in-memory 'ws' dial hands the broker the request a WebSocket upgrade from 127.0.0.1 would
// carry, with the client's wsOptions headers. Socket addresses (127.0.0.2 sources, TLS, mosquitto
// -A) and a header sent in a real upgrade are test/integration/addresses.test.ts.
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerHarness, type BrokerHarness } from '../../helpers/broker-harness.ts';
import { connectDecision, deviceWithOwnKey, type OwnKey } from '../../helpers/decision-checks.ts';
import { ClientPool, ConnectRefused } from '../../helpers/mqtt-clients.ts';

type Outcome = { accepted: true; client: MqttClient } | { accepted: false; code: number };

const pool = new ClientPool();
afterEach(() => pool.endAll());

describe('WebSocket: X-Forwarded-For from the default trusted proxy (loopback)', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness();
  });
  afterAll(() => h?.stop());

  const ws = (opts: IClientOptions, xff?: string): IClientOptions => ({
    ...opts,
    ...(xff !== undefined ? { wsOptions: { headers: { 'x-forwarded-for': xff } } } : {}),
  });

  async function attempt(k: OwnKey, xff?: string): Promise<Outcome> {
    try {
      return { accepted: true, client: await pool.connect(h.ws, ws(k.auth, xff)) };
    } catch (err) {
      if (err instanceof ConnectRefused) return { accepted: false, code: err.code };
      throw err;
    }
  }

  it('a spoofed leftmost entry does not help: "203.0.113.7, 198.51.100.9" is client 198.51.100.9 → denied', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['203.0.113.0/24'] });
    const header = '203.0.113.7, 198.51.100.9';
    expect(await attempt(k, header)).toEqual({ accepted: false, code: 5 });
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      transport: 'ws',
      result: 'denied',
      reason: 'address.denied',
      sourceAddress: '198.51.100.9',
      forwardedFor: header,
    });
  });

  it('trusted proxies on the right are skipped: "203.0.113.7, 127.0.0.9" is client 203.0.113.7 → accepted', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['203.0.113.0/24'] });
    expect((await attempt(k, '203.0.113.7, 127.0.0.9')).accepted).toBe(true);
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      result: 'allowed',
      sourceAddress: '203.0.113.7',
      forwardedFor: '203.0.113.7, 127.0.0.9',
    });
  });

  it('blacklist: the forwarded client is refused, the same key without the header is accepted', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'blacklist', addresses: ['198.51.100.0/24'] });
    expect(await attempt(k, '198.51.100.9:4711')).toEqual({ accepted: false, code: 5 });
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      reason: 'address.denied',
      sourceAddress: '198.51.100.9',
    });
    const since = h.rt.service.feed.list(1)[0]?.seq ?? 0;
    expect((await attempt(k)).accepted).toBe(true);
    const e = await h.decision((d) => d.seq > since && d.action === 'connect' && d.deviceId === k.device.id);
    expect(e).toMatchObject({ result: 'allowed', sourceAddress: '127.0.0.1' });
    expect(e.forwardedFor).toBeUndefined();
  });

  it('IPv6 rules apply to a forwarded IPv6 client ("[2001:db8::1]:443" in 2001:db8::/32)', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['2001:db8::/32'] });
    expect((await attempt(k, '[2001:db8::1]:443')).accepted).toBe(true);
    expect(await connectDecision(h, k.device.id)).toMatchObject({ result: 'allowed', sourceAddress: '2001:db8::1' });
    const other = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['2001:db8::/32'] });
    expect(await attempt(other, '2001:db9::1')).toEqual({ accepted: false, code: 5 });
    expect(await connectDecision(h, other.device.id)).toMatchObject({
      reason: 'address.denied',
      sourceAddress: '2001:db9::1',
    });
  });

  it.each([
    ['garbage', 'not-an-ip'],
    ['one bad entry among good ones', '203.0.113.7, 999.1.1.1'],
    ['an empty entry', '203.0.113.7,,198.51.100.9'],
    // issue 12: this was read as 10.0.0.5; a zone id is never stripped from a forwarded entry
    ['an IPv4-mapped entry with a zone id', '::ffff:10.0.0.5%eth0'],
    ['a bracketed link-local entry with a zone id', '[fe80::1%eth0]:443'],
  ])('a malformed header (%s) fails closed: CONNACK 5, address.malformed', async (_label, header) => {
    // Even a key with no address rule is refused: the address cannot be known.
    const k = await deviceWithOwnKey(h, {});
    expect(await attempt(k, header)).toEqual({ accepted: false, code: 5 });
    const e = await connectDecision(h, k.device.id);
    expect(e).toMatchObject({ transport: 'ws', result: 'denied', reason: 'address.malformed', forwardedFor: header });
    expect(e.rule).toMatch(/X-Forwarded-For/);
  });
});

describe('WebSocket with no trusted proxy (trustedProxies: [])', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness({ trustedProxies: [] });
  });
  afterAll(() => h?.stop());

  it('the header is ignored: whitelist 203.0.113.0/24 with a matching XFF is refused, the peer 127.0.0.1 is used', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['203.0.113.0/24'] });
    const r = await pool.refusal(h.ws, { ...k.auth, wsOptions: { headers: { 'x-forwarded-for': '203.0.113.7' } } });
    expect(r.code).toBe(5);
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      transport: 'ws',
      result: 'denied',
      reason: 'address.denied',
      sourceAddress: '127.0.0.1',
      forwardedFor: '203.0.113.7',
    });
  });

  it('a garbage header is ignored too (not malformed): a key for 127.0.0.1 is accepted', async () => {
    const k = await deviceWithOwnKey(h, { addressFilterType: 'whitelist', addresses: ['127.0.0.1'] });
    await pool.connect(h.ws, { ...k.auth, wsOptions: { headers: { 'x-forwarded-for': 'not-an-ip' } } });
    expect(await connectDecision(h, k.device.id)).toMatchObject({
      result: 'allowed',
      reason: 'connect.accepted',
      sourceAddress: '127.0.0.1',
    });
  });
});
