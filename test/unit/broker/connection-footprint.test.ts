// What an idle connection holds (issue 17 item 4), socket-free: the parser carries one 'packet'
// and one 'error' listener (Keyport's checks folded into aedes' own, not a listener array per
// event), and the CONNECT packet mqtt-packet keeps no longer holds the device's secret. The
// checks those listeners run still run: a SUBSCRIBE is still bounded, a malformed packet is still
// logged naming its device and still closes the connection.
import type { Client } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerHarness, type BrokerHarness } from '../../helpers/broker-harness.ts';
import { deviceWithOwnKey } from '../../helpers/decision-checks.ts';
import { ClientPool } from '../../helpers/mqtt-clients.ts';

let h: BrokerHarness;
const pool = new ClientPool();
const logged: string[] = [];

beforeAll(async () => {
  h = await startBrokerHarness({ log: (l) => logged.push(l) });
});
afterEach(() => pool.endAll());
afterAll(() => h?.stop());

interface ParserView {
  listenerCount(event: string): number;
  settings: { cmd?: string; password?: unknown; username?: string };
}
const aedesClient = (deviceId: string): Client & { _parser: ParserView } => {
  const c = (h.rt.broker.aedes as unknown as { clients: Record<string, Client> }).clients[deviceId];
  if (!c) throw new Error(`no aedes client ${deviceId}`);
  return c as Client & { _parser: ParserView };
};

describe('an idle connection', () => {
  it('has one packet and one error listener on its parser', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.tcp, k.auth);
    const parser = aedesClient(k.device.id)._parser;
    expect(parser.listenerCount('packet')).toBe(1);
    expect(parser.listenerCount('error')).toBe(1);
  });

  it('keeps the CONNECT packet without its password', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.tcp, k.auth);
    const settings = aedesClient(k.device.id)._parser.settings;
    expect(settings.cmd).toBe('connect');
    expect(settings.username).toBe(k.accessKey.key);
    expect(settings.password).toBeUndefined();
  });

  it('still gets its SUBSCRIBE bounded through the folded packet listener', async () => {
    // The bound tags the packet before aedes handles it; untagged, aedes would grant both.
    const bounded = await startBrokerHarness({ limits: { maxFiltersPerSubscribe: 1 } });
    try {
      const k = await deviceWithOwnKey(bounded, { filterType: 'whitelist', subTopics: ['a/#'] });
      const c = await pool.connect(bounded.tcp, k.auth);
      expect((await c.subscribeAsync('a/1')).map((g) => g.qos)).toEqual([0]);
      await expect(c.subscribeAsync(['a/2', 'a/3'])).rejects.toThrow(/subscribe error/i);
    } finally {
      pool.endAll();
      await bounded.stop();
    }
  });

  it('still reports a malformed packet through the folded error listener', async () => {
    const k = await deviceWithOwnKey(h);
    await pool.connect(h.tcp, k.auth);
    const client = aedesClient(k.device.id);
    const errored = new Promise<Error>((resolve) => client.once('error', resolve));
    // PUBLISH with QoS 3 is malformed [MQTT-3.3.1-4]: mqtt-packet refuses it with an 'error',
    // which Keyport logs naming the device and aedes still gets (it closes the connection).
    (client as unknown as { _parser: { parse(b: Buffer): number } })._parser.parse(Buffer.from([0x36, 0x00]));
    expect((await errored).message).toMatch(/qos/i);
    expect(logged.filter((l) => l.includes(`malformed MQTT packet from device ${k.device.id}`))).toHaveLength(1);
  });
});
