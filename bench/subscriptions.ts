// 11. Publish CPU with 1, 100 and 10,000 subscriptions (issue 17 item 6): one device reports state
// (QoS 0 Losant state reports on losant/{id}/state) while N subscribed clients are on the broker,
// Keyport vs plain aedes, alternating rounds. Broker CPU per PUBLISH.
//  - "1 matching": N clients, each its own device, hold one subscription each: one watcher on the
//    publisher's state topic (it receives every report), the other N − 1 on their own command
//    topic losant/{own id}/command (a real fleet waiting for commands). What having N
//    subscriptions on the broker costs a PUBLISH that reaches one of them.
//  - "all match": the N clients all subscribe to the state topic (N deliveries per PUBLISH):
//    the fan-out cost, also given per delivery. Measured on the same population right after
//    "1 matching": every client adds the state topic to its command topic.
//  - Keyport: the whole runtime on a lowdb data dir; every subscriber has its own key scoped to
//    itself and the publisher (so it may read the publisher's state topic); the publisher has
//    its own single-device key. Plain aedes: one fixed password.
//  - Per size, round and side: the clients connect and subscribe (not measured; a store flush,
//    a gc() and an unmeasured tenth of the run follow), then the CPU of this process is read
//    around the publisher's run, then they disconnect. 10,000 clients are on one broker at a time only (memory bounded
//    by one population, and under the open-file limit).
import { ClientDriver } from './lib/client-driver.ts';
import {
  PLAIN_PASSWORD,
  PLAIN_USER,
  startKeyport,
  startPlainAedes,
  type KeyportSide,
  type Side,
} from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, ratio, round } from './lib/stats.ts';

/** The same ~100-byte Losant state report as bench/publish.ts. */
const STATE_PAYLOAD = JSON.stringify({
  data: { temperature: 21.5, humidity: 40.25, status: 'running', counter: 123456 },
});
/** Deliveries allowed between the publisher and its subscribers (at least one message). */
const WINDOW_DELIVERIES = 1000;

type Kind = 'one' | 'all';
interface Config {
  subscriptions: number;
  kind: Kind;
}

interface Sample {
  cpuUsPerPublish: number;
  msgPerSec: number;
  complete: boolean;
}

async function provisionKeyport(kp: KeyportSide, n: number) {
  const service = kp.service;
  const pubDevice = await service.devices.create({ name: 'subs publisher' });
  const pubKey = await service.keys.create({ name: 'subs publisher', deviceIds: [pubDevice.id] });
  const subs: ConnectFields[] = [];
  // 500 at a time: the store coalesces each batch into one write.
  for (let i = 0; i < n; i += 500) {
    const devices = await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, j) =>
        service.devices.create({ name: `subs subscriber ${i + j}` }),
      ),
    );
    const keys = await Promise.all(
      devices.map((d, j) => service.keys.create({ name: `subs subscriber ${i + j}`, deviceIds: [d.id, pubDevice.id] })),
    );
    devices.forEach((d, j) => {
      const k = keys[j];
      if (k) subs.push({ clientId: d.id, username: k.accessKey.key, password: k.secret, keepalive: 0 });
    });
  }
  await service.store.flush();
  return {
    pubId: pubDevice.id,
    pub: { clientId: pubDevice.id, username: pubKey.accessKey.key, password: pubKey.secret } as ConnectFields,
    subs,
  };
}

export async function benchSubscriptions(opts: BenchOptions): Promise<Section> {
  const sizes = [1, 100, 10_000];
  const max = sizes[sizes.length - 1] as number;
  const rounds = opts.quick ? 2 : 3;
  /** Deliveries per run (divided into messages by the number of matching subscribers). */
  const deliveries = opts.quick ? 100_000 : 200_000;
  const minMessages = opts.quick ? 10 : 20;
  const maxMessages = opts.quick ? 20_000 : 50_000;
  const capMs = opts.quick ? 30_000 : 60_000;
  // 10,000 CONNECT + SUBSCRIBE take a few seconds; two minutes means something is wrong.
  const subscribeCapMs = 120_000;
  const log = opts.log;

  const driver = await ClientDriver.start();
  const keyport = await startKeyport();
  const aedes = await startPlainAedes();
  try {
    const t0 = performance.now();
    const kp = await provisionKeyport(keyport, max);
    log(`subs: ${max.toLocaleString('en-US')} subscriber devices + keys in ${Math.round(performance.now() - t0)} ms`);
    const stateTopic = `losant/${kp.pubId}/state`;
    const plans: { side: Side; pub: ConnectFields; subs: ConnectFields[] }[] = [
      { side: keyport, pub: kp.pub, subs: kp.subs },
      {
        side: aedes,
        pub: { clientId: kp.pubId, username: PLAIN_USER, password: PLAIN_PASSWORD },
        subs: kp.subs.map((s) => ({ ...s, username: PLAIN_USER, password: PLAIN_PASSWORD })),
      },
    ];
    const configs: Config[] = [
      { subscriptions: 1, kind: 'one' },
      ...sizes.slice(1).flatMap((n) => [
        { subscriptions: n, kind: 'one' as const },
        { subscriptions: n, kind: 'all' as const },
      ]),
    ];
    const samples = new Map<string, Sample[]>();
    const keyOf = (c: Config, side: string) => `${c.subscriptions}/${c.kind}/${side}`;
    const messagesFor = (matching: number) =>
      Math.max(minMessages, Math.min(maxMessages, Math.floor(deliveries / matching)));
    /** One measured run: broker CPU per PUBLISH with the held population. */
    const measure = async (p: (typeof plans)[number], c: Config, r: number): Promise<void> => {
      const matching = c.kind === 'one' ? 1 : c.subscriptions;
      const count = messagesFor(matching);
      const run = (n: number) =>
        driver.fanout({
          port: p.side.port,
          pub: p.pub,
          topic: stateTopic,
          payload: STATE_PAYLOAD,
          count: n,
          deliveriesPerMessage: matching,
          window: Math.max(1, Math.floor(WINDOW_DELIVERIES / matching)),
          capMs,
        });
      if (p.side === keyport) await keyport.service.store.flush();
      globalThis.gc?.();
      // An unmeasured tenth first: what the connects and the gc() leave behind (background GC,
      // the new sessions' first messages) would otherwise be charged to the PUBLISHes.
      await run(Math.max(1, Math.floor(count / 10)));
      const cpu0 = p.side.cpuMs();
      const res = await run(count);
      const cpu = p.side.cpuMs() - cpu0;
      const complete = !res.timedOut && res.delivered >= count * matching;
      const s: Sample = {
        cpuUsPerPublish: (cpu * 1000) / Math.max(1, res.sent),
        msgPerSec: res.sent / (res.ms / 1000),
        complete,
      };
      log(
        `subs ${c.subscriptions.toLocaleString('en-US')} (${c.kind === 'one' ? '1 matching' : 'all match'}): ${r === 0 ? 'warm-up' : `round ${r}/${rounds}`} ${p.side.name}: ${fmt(s.cpuUsPerPublish)} µs CPU/PUBLISH, ${fmt(s.msgPerSec)} msg/s${complete ? '' : ` (INCOMPLETE: ${res.delivered}/${count * matching})`}`,
      );
      if (r > 0) samples.set(keyOf(c, p.side.name), [...(samples.get(keyOf(c, p.side.name)) ?? []), s]);
    };
    let warmed = false;
    for (const n of sizes) {
      // One warm-up round before the first size only (JIT, caches); later sizes reuse it.
      for (let r = warmed ? 1 : 0; r <= rounds; r++) {
        for (const p of plans) {
          // The population: client 0 watches the state topic, the others their command topic.
          const clients = p.subs.slice(0, n);
          const filters = clients.map((c, i) => (i === 0 ? stateTopic : `losant/${c.clientId}/command`));
          const sub = await driver.subscribe({
            port: p.side.port,
            clients,
            filters,
            concurrency: 100,
            capMs: subscribeCapMs,
          });
          if (sub.subscribed !== clients.length)
            throw new Error(
              `subs: ${p.side.name}: ${sub.subscribed}/${clients.length} subscribed (${sub.firstError ?? 'cap reached'})`,
            );
          log(
            `subs ${n.toLocaleString('en-US')}: ${p.side.name}: ${n} clients connected and subscribed in ${Math.round(sub.ms)} ms`,
          );
          await measure(p, { subscriptions: n, kind: 'one' }, r);
          if (n > 1) {
            // The same clients all add the state topic: every one receives every report.
            await driver.resubscribe(stateTopic, 100);
            await measure(p, { subscriptions: n, kind: 'all' }, r);
          }
          await driver.release();
          await p.side.settle();
        }
      }
      warmed = true;
    }

    const results = configs.map((c) => {
      const k = samples.get(keyOf(c, keyport.name)) ?? [];
      const a = samples.get(keyOf(c, aedes.name)) ?? [];
      const matching = c.kind === 'one' ? 1 : c.subscriptions;
      const perRound = k.map((s, i) => ratio(s.cpuUsPerPublish, (a[i] as Sample).cpuUsPerPublish));
      return {
        subscriptions: c.subscriptions,
        matching,
        messages: messagesFor(matching),
        keyportCpuUsPerPublish: round(median(k.map((s) => s.cpuUsPerPublish)), 2),
        aedesCpuUsPerPublish: round(median(a.map((s) => s.cpuUsPerPublish)), 2),
        cpuVsAedes: round(median(perRound), 3),
        keyportCpuUsPerDelivery: round(median(k.map((s) => s.cpuUsPerPublish / matching)), 3),
        aedesCpuUsPerDelivery: round(median(a.map((s) => s.cpuUsPerPublish / matching)), 3),
        keyportMsgPerSec: round(median(k.map((s) => s.msgPerSec)), 0),
        aedesMsgPerSec: round(median(a.map((s) => s.msgPerSec)), 0),
        roundsKeyportCpuUsPerPublish: k.map((s) => round(s.cpuUsPerPublish, 2)),
        roundsAedesCpuUsPerPublish: a.map((s) => round(s.cpuUsPerPublish, 2)),
        allRoundsComplete: [...k, ...a].every((s) => s.complete),
      };
    });
    const one = results.find((r) => r.subscriptions === 1);
    const rows = results.map((r) => [
      r.subscriptions.toLocaleString('en-US'),
      r.matching === 1 ? '1' : 'all',
      fmt(r.keyportCpuUsPerPublish),
      fmt(r.aedesCpuUsPerPublish),
      fmtRatio(r.cpuVsAedes),
      fmtRatio(ratio(r.keyportCpuUsPerDelivery, one?.keyportCpuUsPerDelivery ?? Number.NaN)),
      fmt(r.keyportCpuUsPerDelivery),
      fmt(r.aedesCpuUsPerDelivery),
      fmt(r.keyportMsgPerSec),
      fmt(r.aedesMsgPerSec),
      r.allRoundsComplete ? 'yes' : 'NO',
    ]);
    return {
      id: 'subs',
      title: 'Publish CPU with 1, 100 and 10,000 subscriptions (state reports, QoS 0)',
      tables: [
        {
          title: `Publish CPU vs subscriptions — one device reports ${Buffer.byteLength(STATE_PAYLOAD)}-byte state (QoS 0) while N subscribed clients are connected; median of ${rounds} alternating rounds`,
          header: [
            'subscriptions',
            'matching',
            'Keyport CPU µs/PUBLISH',
            'plain aedes CPU µs/PUBLISH',
            'Keyport vs aedes',
            'Keyport per delivery vs 1 subscription',
            'Keyport µs/delivery',
            'aedes µs/delivery',
            'Keyport msg/s',
            'aedes msg/s',
            'complete',
          ],
          rows,
        },
      ],
      data: {
        rounds,
        deliveriesPerRun: deliveries,
        windowDeliveries: WINDOW_DELIVERIES,
        statePayloadBytes: Buffer.byteLength(STATE_PAYLOAD),
        results,
      },
      targets: [],
      notes: [
        '"1 matching": one watcher on the state topic, the other N − 1 clients on their own command topic; "all match": the same clients then all add the state topic (CPU per PUBLISH includes its N deliveries).',
        `Messages per run: ${deliveries.toLocaleString('en-US')} deliveries divided by the matching subscribers (between ${minMessages} and ${maxMessages.toLocaleString('en-US')} messages); at most ${WINDOW_DELIVERIES} deliveries (at least one message) outstanding, the same for both brokers.`,
        'Subscribers connect and subscribe before the measured window and disconnect after it; the publisher connects inside it (one CONNECT against thousands of PUBLISHes or deliveries). Keyport stores every state report; plain aedes relays it.',
      ],
    };
  } finally {
    driver.close();
    await Promise.allSettled([keyport.stop(), aedes.stop()]);
  }
}
