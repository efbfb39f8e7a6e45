// Issue 13: one client that stops reading must not hold up anyone else's delivery. Device S
// subscribes to its own state topic, stops reading its socket and publishes 400 × 64 KB; device
// A's QoS 1 messages must keep reaching subscriber B, and S must be closed with a client.slow
// decision naming the bytes queued. Before the fix aedes held every delivery behind S's socket
// (mqemitter waits on each subscriber's write callback) until its 60 s drain timeout.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { ClientPool, within } from '../helpers/mqtt-clients.ts';
import { connectPacket, gen, rawConnect, type RawConnection } from '../helpers/raw-mqtt.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

const pool = new ClientPool();
const open: RawConnection[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.destroy();
  await pool.endAll();
});

type Key = { accessKey: AccessKey; secret: string };

async function device(h: Harness): Promise<{ d: Device; k: Key }> {
  const d = await h.device();
  return { d, k: await h.key({ deviceIds: [d.id], filterType: 'all' }) };
}

/** S: logged in, subscribed to its own state topic, then no longer reading its socket. */
async function stalledSubscriber(h: Harness): Promise<{ s: RawConnection; id: string; topic: string }> {
  const { d, k } = await device(h);
  const s = await rawConnect('tcp', h.rt.ports.mqtt);
  open.push(s);
  s.write(connectPacket(d.id, k.accessKey.key, k.secret));
  await s.next((p) => p.cmd === 'connack');
  const topic = `losant/${d.id}/state`;
  s.write(gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
  await s.next((p) => p.cmd === 'suback');
  s.pause();
  return { s, id: d.id, topic };
}

/** 400 state reports of ~64 KB each, written by S (which reads none of its copies). */
function flood(s: RawConnection, topic: string): void {
  const blob = 'x'.repeat(64 * 1024 - 40);
  const payload = Buffer.from(JSON.stringify({ data: { blob } }));
  const one = gen({ cmd: 'publish', topic, payload, qos: 0 });
  for (let i = 0; i < 400; i++) s.write(one);
}

/** A publishes `n` QoS 1 messages (each awaited); resolves when B has received all of them. */
async function fastTraffic(h: Harness, n: number): Promise<number> {
  const a = await device(h);
  const b = await device(h);
  const topic = `fast/${randomBytes(4).toString('hex')}`;
  const sub = await pool.connect(h.mqttUrl, { clientId: b.d.id, username: b.k.accessKey.key, password: b.k.secret });
  await sub.subscribeAsync(topic, { qos: 1 });
  let got = 0;
  const all = new Promise<void>((resolve) =>
    sub.on('message', () => {
      if (++got === n) resolve();
    }),
  );
  const pub = await pool.connect(h.mqttUrl, { clientId: a.d.id, username: a.k.accessKey.key, password: a.k.secret });
  for (let i = 0; i < n; i++) await pub.publishAsync(topic, `m${i}`, { qos: 1 });
  // Generous for a loaded 2-core machine, yet far below aedes' default 60 s drain timeout, which
  // is how long the old broker held these deliveries behind S.
  await within(all, 20_000, `${n} deliveries to B`).catch(() => {});
  return got;
}

describe('slow consumer: outgoing-queue bound (default 4 MiB)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  // 60 s for the case, 30 s for the queue to pass 4 MiB: the flood has to fill the socket
  // buffers and then the broker's queue (about 1-2 s idle); the other clients' 50 deliveries run
  // meanwhile. 10 s for the disconnect that follows the decision at once.
  it('other clients keep getting QoS 1 deliveries; S is closed with client.slow', { timeout: 60_000 }, async () => {
    const { s, id, topic } = await stalledSubscriber(h);
    const slow = h.decision((e) => e.deviceId === id && e.reason === 'client.slow', 30_000);
    flood(s, topic);
    const delivered = await fastTraffic(h, 50);
    expect(delivered).toBe(50);
    const e = await slow;
    expect(e).toMatchObject({ action: 'deliver', result: 'denied' });
    expect(e.rule).toMatch(
      /^client is not reading: [\d,]+ bytes queued for delivery exceed the per-connection limit of 4,194,304/,
    );
    const bye = await h.decision((x) => x.deviceId === id && x.action === 'disconnect', 10_000);
    expect(bye).toMatchObject({ reason: 'client.slow', result: 'denied' });
    // (S's own socket is paused, so it would only see the close once it read again.)
  });
});

describe('slow consumer: drain timeout', () => {
  let h: Harness;
  beforeAll(async () => {
    // A queue bound too large to trip, so only the drain timeout can close S.
    h = await startHarness({ brokerLimits: { maxQueuedBytes: 1024 ** 3, drainTimeoutMs: 500 } });
  });
  afterAll(() => h?.stop());

  // 60 s: the flood, the 500 ms drain timeout and the disconnect, with room for a loaded machine.
  it('a socket that does not drain within the timeout is closed, naming the timeout', { timeout: 60_000 }, async () => {
    const { s, id, topic } = await stalledSubscriber(h);
    flood(s, topic);
    const delivered = await fastTraffic(h, 20);
    expect(delivered).toBe(20);
    // The 500 ms timer starts when S's socket first refuses a write; 20 s covers a loaded machine.
    const e = await h.decision((x) => x.deviceId === id && x.reason === 'client.slow', 20_000);
    expect(e.rule).toMatch(/^client is not reading: its socket did not drain for [\d,]+ ms \(drain timeout 500 ms\)/);
    const waited = Number(/drain for ([\d,]+) ms/.exec(e.rule)?.[1]?.replace(/,/g, ''));
    expect(waited).toBeGreaterThanOrEqual(500); // it waited the timeout, not since 1970
    const bye = await h.decision((x) => x.deviceId === id && x.action === 'disconnect', 10_000);
    expect(bye.reason).toBe('client.slow');
  });
});
