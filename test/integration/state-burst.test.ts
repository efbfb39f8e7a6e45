// docs/design.md §5, §8, §8a, §11: a burst of state reports in ONE socket write (aedes handles
// them in one turn of the event loop, so all but the first of the device's reports are merged and
// stored together at the end of that turn, service/telemetry.ts). Real runtime over a temp data
// dir, a raw TCP client on port 0; every wait is on an event.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { connectPacket, gen, rawConnect } from '../helpers/raw-mqtt.ts';
import { backendHelpers } from '../helpers/runtime-harness.ts';

const dirs: string[] = [];
const runtimes: Runtime[] = [];
afterAll(async () => {
  await Promise.allSettled(runtimes.map((r) => r.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function start(dataDir: string): Promise<Runtime> {
  return startRuntime({ dataDir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {}, limits: 'off' }).then(
    (rt) => (runtimes.push(rt), rt),
  );
}

const T0 = 1_000_000_000_000;
const iso = (ms: number) => new Date(T0 + ms).toISOString();

describe('a burst of state reports in one socket write', () => {
  it('stores the last valid report merged over the rest; feed and tap see every message in order; survives a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keyport-burst-'));
    dirs.push(dataDir);
    const rt = await start(dataDir);
    const h = backendHelpers(rt.service);
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const topic = `losant/${d.id}/state`;
    const watch = rt.service.messages.subscribe(topic);
    const conn = await rawConnect('tcp', rt.ports.mqtt);
    conn.write(connectPacket(d.id, k.accessKey.key, k.secret));
    await conn.next((p) => p.cmd === 'connack');
    const payloads = [
      { data: { a: 1, b: 1 }, time: T0 + 10 },
      { data: { b: 2 }, time: T0 + 20 },
      { data: { b: 'x', bad: null } }, // invalid: recorded as state.invalid, not stored
      { data: { a: 99, c: 99 }, time: T0 + 15 }, // late: history only
      { data: { c: 3 }, time: T0 + 30 },
      { data: { a: 4 }, time: T0 + 40 },
    ];
    const since = rt.service.feed.list(1)[0]?.seq ?? 0;
    conn.write(
      Buffer.concat(
        payloads.map((p, i) =>
          gen({
            cmd: 'publish',
            topic,
            payload: JSON.stringify(p),
            qos: 1,
            messageId: i + 1,
            retain: false,
            dup: false,
          }),
        ),
      ),
    );
    await conn.next((p) => p.cmd === 'puback' && (p as { messageId?: number }).messageId === payloads.length);
    const want = { time: iso(40), data: { a: 4, b: 2, c: 3 } };
    expect(rt.service.store.getDevice(d.id)?.lastState).toEqual(want);
    expect(rt.service.telemetry.history(d.id).map((s) => s.time)).toEqual([
      iso(10),
      iso(20),
      iso(15),
      iso(30),
      iso(40),
    ]);
    // Feed: one publish per message, in order, the state.invalid right after its PUBLISH.
    const events = rt.service.feed
      .list()
      .filter((e) => e.seq > since && e.deviceId === d.id && (e.action === 'publish' || e.action === 'state'));
    expect(events.map((e) => `${e.action}:${e.reason}`)).toEqual([
      'publish:publish.allowed',
      'publish:publish.allowed',
      'publish:publish.allowed',
      'state:state.invalid',
      'publish:publish.allowed',
      'publish:publish.allowed',
      'publish:publish.allowed',
    ]);
    expect(events[3]?.rule).toMatch(/data\.bad/);
    // Tap: every message, in order, with its payload and its PUBLISH decision.
    const tapped = rt.service.messages.list(watch.subscription.id);
    expect(tapped.map((m) => Buffer.from(m.payload, 'base64').toString())).toEqual(
      payloads.map((p) => JSON.stringify(p)),
    );
    expect(tapped.map((m) => m.decision?.seq)).toEqual(events.filter((e) => e.action === 'publish').map((e) => e.seq));
    conn.destroy();
    await conn.closed;
    await rt.close();
    runtimes.pop();
    // Closed cleanly: what was acknowledged is on disk, and the feed comes back from the log.
    const again = await start(dataDir);
    expect(again.service.store.getDevice(d.id)?.lastState).toEqual(want);
    const back = again.service.feed.list().filter((e) => e.deviceId === d.id && e.action === 'state');
    expect(back.map((e) => e.reason)).toEqual(['state.invalid']);
  });
});
