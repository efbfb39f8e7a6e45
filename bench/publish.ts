// 2. Publish: COUNT messages of SIZE bytes, one publisher, one subscriber (both raw MQTT in the
// forked client process), QoS 0 and QoS 1 — Keyport (publish check + decision-feed event per
// PUBLISH, delivery re-check per message) vs plain aedes vs mosquitto. Timed from the first
// PUBLISH until the subscriber has every message (and, at QoS 1, the publisher every PUBACK).
// Two topics (issue 17): the device's state topic `losant/{id}/state` with a Losant state report
// (what every real device publishes: Keyport parses, validates and stores each one) — the
// headline figure — and a custom topic (`bench/pub/data`, checked and relayed, not stored).
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startMosquittoSide, startPlainAedes, type Side } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { asConnect, provisionPubSub, STATE_PAYLOAD } from './lib/provision.ts';
import type { BenchOptions, Section, Table } from './lib/report.ts';
import { fmt, fmtRatio, median, ratio, round } from './lib/stats.ts';

const TOPIC = 'bench/pub/data';
/** Messages allowed between publisher and subscriber: same flow control for every broker, and
 * within mosquitto's default per-client queue (1000 + 20 in flight), so no broker drops any. */
const WINDOW = 1000;

export async function benchPublish(opts: BenchOptions): Promise<Section> {
  const count = opts.quick ? 20_000 : 100_000;
  const size = 100;
  const rounds = opts.quick ? 2 : 5;
  const capMs = opts.quick ? 20_000 : 60_000;
  const log = opts.log;

  const driver = await ClientDriver.start();
  const keyport = await startKeyport();
  const aedes = await startPlainAedes();
  const mosq = await startMosquittoSide(2);
  try {
    const { pub, sub, subState } = await provisionPubSub(keyport.service);
    const stateTopic = `losant/${pub.deviceId}/state`;
    const m0 = mosq.users[0] as { username: string; password: string };
    const m1 = mosq.users[1] as { username: string; password: string };
    const plans: { side: Side; pub: ConnectFields; sub: ConnectFields }[] = [
      { side: keyport, pub: asConnect(pub), sub: asConnect(sub) },
      {
        side: aedes,
        pub: asPlain(pub.deviceId),
        sub: asPlain(sub.deviceId),
      },
      {
        side: mosq,
        pub: { clientId: pub.deviceId, username: m0.username, password: m0.password },
        sub: { clientId: sub.deviceId, username: m1.username, password: m1.password },
      },
    ];
    const tables: Table[] = [];
    const data: Record<string, unknown> = {
      count,
      size,
      rounds,
      window: WINDOW,
      topic: TOPIC,
      stateTopic: 'losant/{publisher id}/state',
      statePayloadBytes: Buffer.byteLength(STATE_PAYLOAD),
    };
    const ratios: Record<string, number> = {};
    const state: Record<string, unknown> = {};
    data.state = state;
    let worstRatio = Number.POSITIVE_INFINITY;
    let worstState = Number.POSITIVE_INFINITY;
    const variants = [
      { kind: 'state' as const, topic: stateTopic, payload: STATE_PAYLOAD as string | undefined },
      { kind: 'custom' as const, topic: TOPIC, payload: undefined as string | undefined },
    ];
    for (const variant of variants)
      for (const qos of [0, 1] as const) {
        const isState = variant.kind === 'state';
        const samples = new Map<string, { rate: number; cpuUs: number; complete: boolean }[]>();
        // Round 0 warms up each side and is not counted.
        for (let r = 0; r <= rounds; r++) {
          for (const p of plans) {
            await p.side.settle();
            const cpu0 = p.side.cpuMs();
            const res = await driver.pubsub({
              port: p.side.port,
              pub: p.pub,
              sub: isState && p.side === keyport ? subState : p.sub,
              topic: variant.topic,
              count,
              size,
              ...(variant.payload !== undefined ? { payload: variant.payload } : {}),
              qos,
              window: WINDOW,
              capMs,
            });
            const cpu = p.side.cpuMs() - cpu0;
            const complete = !res.timedOut && res.received >= count;
            const s = {
              rate: res.received / (res.ms / 1000),
              cpuUs: (cpu * 1000) / Math.max(1, res.received),
              complete,
            };
            log(
              `publish ${variant.kind} QoS ${qos}: ${r === 0 ? 'warm-up' : `round ${r}/${rounds}`} ${p.side.name}: ${fmt(s.rate)} msg/s, ${fmt(s.cpuUs)} µs CPU/msg${complete ? '' : ` (INCOMPLETE: ${res.received}/${count} in ${Math.round(res.ms)} ms)`}`,
            );
            if (r > 0) samples.set(p.side.name, [...(samples.get(p.side.name) ?? []), s]);
          }
        }
        // Ratios: median of per-round ratios (the sides of one round run back to back).
        const baseRounds = samples.get(aedes.name) ?? [];
        const paired = (ss: { rate: number; cpuUs: number }[], f: 'rate' | 'cpuUs') =>
          median(ss.map((s, i) => ratio(s[f], (baseRounds[i] as { rate: number; cpuUs: number })[f])));
        const summary = plans.map(({ side }) => {
          const ss = samples.get(side.name) ?? [];
          return {
            side: side.name,
            rateVsAedes: paired(ss, 'rate'),
            cpuVsAedes: paired(ss, 'cpuUs'),
            msgPerSec: median(ss.map((s) => s.rate)),
            cpuUsPerMsg: median(ss.map((s) => s.cpuUs)),
            allRoundsComplete: ss.every((s) => s.complete),
            roundsMsgPerSec: ss.map((s) => round(s.rate, 0)),
          };
        });
        const kp = summary[0] as (typeof summary)[number];
        const rr = kp.rateVsAedes;
        if (isState) worstState = Math.min(worstState, rr);
        else worstRatio = Math.min(worstRatio, rr);
        const prefix = isState ? 'stateQos' : 'qos';
        ratios[`${prefix}${qos}KeyportVsAedes`] = round(rr, 3);
        ratios[`${prefix}${qos}KeyportVsMosquitto`] = round(
          ratio(kp.msgPerSec, (summary[2] as (typeof summary)[number]).msgPerSec),
          3,
        );
        ratios[`${prefix}${qos}KeyportVsAedesCpu`] = round(kp.cpuVsAedes, 3);
        (isState ? state : data)[`qos${qos}`] = summary.map((s) => ({
          ...s,
          rateVsAedes: round(s.rateVsAedes, 3),
          cpuVsAedes: round(s.cpuVsAedes, 3),
          msgPerSec: round(s.msgPerSec, 0),
          cpuUsPerMsg: round(s.cpuUsPerMsg, 2),
        }));
        tables.push({
          title: isState
            ? `Publish QoS ${qos}, STATE topic losant/{id}/state (parsed, validated, stored by Keyport) — ${count.toLocaleString('en-US')} × ${Buffer.byteLength(STATE_PAYLOAD)} B state reports, 1 publisher → 1 subscriber; median of ${rounds} alternating rounds after a warm-up`
            : `Publish QoS ${qos}, custom topic ${TOPIC} (checked, not stored) — ${count.toLocaleString('en-US')} × ${size} B, 1 publisher → 1 subscriber; median of ${rounds} alternating rounds after a warm-up`,
          header: ['broker', 'msg/s', 'vs plain aedes', 'broker CPU µs/msg', 'CPU vs plain aedes', 'complete'],
          rows: summary.map((s) => [
            s.side,
            fmt(s.msgPerSec),
            fmtRatio(s.rateVsAedes),
            fmt(s.cpuUsPerMsg),
            fmtRatio(s.cpuVsAedes),
            s.allRoundsComplete ? 'yes' : 'NO',
          ]),
        });
      }
    data.ratios = ratios;
    return {
      id: 'publish',
      title: `Publish: ${count} × ${size} B, state topic and custom topic, QoS 0 and 1`,
      tables,
      data,
      targets: [
        {
          name: 'Keyport STATE-topic publish throughput vs plain aedes (worse of QoS 0/1; headline)',
          value: round(worstState, 3),
          limit: '≥ 0.8×',
          met: worstState >= 0.8,
        },
        {
          name: 'Keyport custom-topic publish throughput vs plain aedes (worse of QoS 0/1)',
          value: round(worstRatio, 3),
          limit: '≥ 0.95×',
          met: worstRatio >= 0.95,
        },
      ],
      notes: [
        `Keyport keys: single-device, filterType whitelist, pubTopics/subTopics ["bench/#"]; custom topic ${TOPIC}. Every PUBLISH is checked and recorded in the decision feed; every delivery re-checked.`,
        `State topic: the publisher reports ${Buffer.byteLength(STATE_PAYLOAD)}-byte Losant state reports on losant/{its id}/state (Keyport parses, validates and stores each; plain aedes and mosquitto only relay them); the subscriber's key covers both devices.`,
        `Flow control: at most ${WINDOW} messages between publisher and subscriber for every broker (mosquitto defaults: max_queued_messages 1000, max_inflight_messages 20 — nothing is dropped).`,
        'Clients are raw MQTT in a forked child process; one core of two is the load generator, so mosquitto (C) is mostly client-bound.',
        'Ratios: median of per-round ratios (the sides of a round run back to back); absolute figures: medians over rounds.',
      ],
    };
  } finally {
    driver.close(); // synchronous (returns void)
    await Promise.allSettled([keyport.stop(), aedes.stop(), mosq.stop()]);
  }
}
