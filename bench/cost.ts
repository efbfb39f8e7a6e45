// 12. What each piece costs (issue 17): the same CONNECT and PUBLISH runs as sections 1 and 2, on
// one Keyport side with pieces of its work switched off one at a time and then together, beside
// plain aedes, all alternating pass by pass. A piece is switched off by replacing one method of
// the running service in this process (the decision feed's `add`, the device service's
// `setConnectionStatus`, the key service's `recordUse`, the telemetry's `acceptReport`), so the
// product has no switch for it: this is a measurement, not a mode. "Floor" is Keyport with all of
// them off; what is left above plain aedes then is the access check itself (key lookup, secret
// HMAC, address, device and scope checks, the session) or, per PUBLISH, the topic check and the
// delivery re-check. Savings are paired medians: each pass measures every variant back to back.
import type { Runtime } from '../src-main/server/runtime.ts';
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startPlainAedes, type Side } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { asConnect, provision, provisionPubSub, STATE_PAYLOAD } from './lib/provision.ts';
import type { BenchOptions, Section, Table } from './lib/report.ts';
import { fmt, fmtRatio, median, ratio, round } from './lib/stats.ts';

/** One piece of Keyport's work, and how to switch it off in a running runtime (returns the undo). */
interface Piece {
  id: string;
  what: string;
  off(rt: Runtime): () => void;
}

/** Shadows `obj[name]` with `fn` on the instance; the undo removes the shadow (the class's method shows again). */
function shadow(obj: object, name: string, fn: unknown): () => void {
  Object.defineProperty(obj, name, { value: fn, configurable: true, writable: true });
  return () => void delete (obj as Record<string, unknown>)[name];
}

const RESOLVED = Promise.resolve();
const STORED = Object.freeze({
  decision: Object.freeze({ allowed: true, reason: 'state.stored', rule: 'bench: state intake switched off' }),
  stored: true,
  durable: RESOLVED,
});

const DECISION: Piece = {
  id: 'decision',
  what: 'decision event (feed ring, decision log line, live listeners)',
  off: (rt) => shadow(rt.service.feed, 'add', (e: unknown) => e),
};
const STATUS: Piece = {
  id: 'status',
  what: "device's connection status (store put, journal line, device.status event)",
  off: (rt) => shadow(rt.service.devices, 'setConnectionStatus', () => RESOLVED),
};
const LAST_USE: Piece = {
  id: 'lastUse',
  what: "key's last-use record (a check per CONNECT; a lazy put once a minute per key)",
  off: (rt) => shadow(rt.service.keys, 'recordUse', () => {}),
};
const STATE: Piece = {
  id: 'state',
  what: 'state intake (parse, validate, merge, store, history)',
  off: (rt) => shadow(rt.service.telemetry, 'acceptReport', () => STORED),
};

interface Variant {
  /** 'on' (everything on), a piece's id (that piece off), or 'floor' (every piece off). */
  id: string;
  name: string;
  pieces: Piece[];
}

/** Everything on, each piece off, and every piece off (with one piece, its own row is the floor). */
function variantsOf(pieces: Piece[]): Variant[] {
  return [
    { id: 'on', name: 'Keyport, everything on', pieces: [] },
    ...pieces.map((p) => ({ id: p.id, name: `without the ${p.what}`, pieces: [p] })),
    ...(pieces.length > 1 ? [{ id: 'floor', name: 'floor: all of these off', pieces }] : []),
  ];
}

interface Row {
  id: string;
  variant: string;
  cpuUs: number;
  savedUs: number;
  cpuVsAedes: number;
}

interface Measured {
  rows: Row[];
  aedesCpuUs: number;
  /** Keyport's CPU with every piece off, over plain aedes' (paired median). */
  floorCpuVsAedes: number;
}

/** Runs `measure` for each variant and for plain aedes, pass by pass; pass 0 warms up. */
async function alternate(
  rt: Runtime,
  variants: Variant[],
  passes: number,
  measure: (side: 'keyport' | 'aedes') => Promise<number>,
  log: (l: string) => void,
  label: string,
): Promise<Measured> {
  const samples = variants.map(() => [] as number[]);
  const aedes: number[] = [];
  for (let p = 0; p <= passes; p++) {
    for (let v = 0; v < variants.length; v++) {
      const undo = (variants[v] as Variant).pieces.map((piece) => piece.off(rt));
      try {
        const us = await measure('keyport');
        if (p > 0) (samples[v] as number[]).push(us);
      } finally {
        undo.forEach((u) => u());
      }
    }
    const us = await measure('aedes');
    if (p > 0) aedes.push(us);
    log(`cost ${label}: ${p === 0 ? 'warm-up' : `pass ${p}/${passes}`} done`);
  }
  const full = samples[0] as number[];
  const rows = variants.map((v, i) => {
    const s = samples[i] as number[];
    return {
      id: v.id,
      variant: v.name,
      cpuUs: round(median(s), 2),
      savedUs: round(median(s.map((x, j) => (full[j] as number) - x)), 2),
      cpuVsAedes: round(median(s.map((x, j) => ratio(x, aedes[j] as number))), 3),
    };
  });
  // The last variant has every piece off: the floor.
  return { rows, aedesCpuUs: round(median(aedes), 2), floorCpuVsAedes: (rows.at(-1) as Row).cpuVsAedes };
}

function table(title: string, r: Measured, unit: string): Table {
  return {
    title,
    header: ['variant', `broker CPU µs/${unit}`, `saved vs everything on (µs/${unit})`, 'CPU vs plain aedes'],
    rows: [
      ...r.rows.map((x) => [x.variant, fmt(x.cpuUs), fmt(x.savedUs), fmtRatio(x.cpuVsAedes)]),
      ['plain aedes', fmt(r.aedesCpuUs), '', '1.00×'],
    ],
  };
}

export async function benchCost(opts: BenchOptions): Promise<Section> {
  const clients = opts.quick ? 1000 : 2000;
  const passes = opts.quick ? 3 : 10;
  const messages = opts.quick ? 20_000 : 50_000;
  const log = opts.log;
  const driver = await ClientDriver.start();
  const keyport = await startKeyport();
  const aedes = await startPlainAedes();
  try {
    const creds = await provision(keyport.service, clients);
    await keyport.service.store.flush();
    const kpList = creds.map(asConnect);
    const plainList = creds.map((c) => asPlain(c.deviceId));
    const connectOnce = async (which: 'keyport' | 'aedes'): Promise<number> => {
      const side: Side = which === 'keyport' ? keyport : aedes;
      const { res, cpuUs } = await driver.connectRound(side, which === 'keyport' ? kpList : plainList, {
        concurrency: 100,
        ...(which === 'keyport' ? { after: () => keyport.service.store.flush() } : {}),
      });
      if (res.connected !== clients) throw new Error(`cost: ${side.name} accepted ${res.connected}/${clients}`);
      return cpuUs;
    };
    const connect = await alternate(
      keyport.rt,
      variantsOf([DECISION, STATUS, LAST_USE]),
      passes,
      connectOnce,
      log,
      'connect',
    );

    const { pub, sub, subState } = await provisionPubSub(keyport.service);
    const stateTopic = `losant/${pub.deviceId}/state`;
    const publishOnce =
      (kind: 'state' | 'custom', qos: 0 | 1) =>
      async (which: 'keyport' | 'aedes'): Promise<number> => {
        const side: Side = which === 'keyport' ? keyport : aedes;
        await side.settle();
        const fields: { pub: ConnectFields; sub: ConnectFields } =
          which === 'keyport'
            ? { pub: asConnect(pub), sub: kind === 'state' ? subState : asConnect(sub) }
            : { pub: asPlain(pub.deviceId), sub: asPlain(sub.deviceId) };
        const cpu0 = side.cpuMs();
        const res = await driver.pubsub({
          port: side.port,
          ...fields,
          topic: kind === 'state' ? stateTopic : 'bench/pub/data',
          count: messages,
          size: 100,
          ...(kind === 'state' ? { payload: STATE_PAYLOAD } : {}),
          qos,
          window: 1000,
          capMs: 60_000,
        });
        if (res.received < messages) throw new Error(`cost: ${side.name} delivered ${res.received}/${messages}`);
        return ((side.cpuMs() - cpu0) * 1000) / res.received;
      };
    const publish: Record<string, Measured> = {};
    for (const [key, kind, qos, pieces] of [
      ['stateQos0', 'state', 0, [DECISION, STATE]],
      ['stateQos1', 'state', 1, [DECISION, STATE]],
      ['customQos0', 'custom', 0, [DECISION]],
    ] as const)
      publish[key] = await alternate(keyport.rt, variantsOf([...pieces]), passes, publishOnce(kind, qos), log, key);

    const n = `median of ${passes} alternating passes after a warm-up`;
    return {
      id: 'cost',
      title: 'What each piece of Keyport’s work costs (pieces switched off in the bench process, one at a time)',
      tables: [
        table(`CONNECT: ${clients} clients, 100 in flight; ${n}`, connect, 'connect'),
        table(
          `State report QoS 0 (losant/{id}/state), ${messages.toLocaleString('en-US')} messages; ${n}`,
          publish.stateQos0!,
          'msg',
        ),
        table(`State report QoS 1, ${messages.toLocaleString('en-US')} messages; ${n}`, publish.stateQos1!, 'msg'),
        table(`Custom topic QoS 0, ${messages.toLocaleString('en-US')} messages; ${n}`, publish.customQos0!, 'msg'),
      ],
      data: { clients, passes, messages, connect, publish },
      targets: [],
      notes: [
        'A piece is switched off by shadowing one method of the running service in the bench process; the product has no such switch.',
        'Floor: every listed piece off at once. What stays above plain aedes is the access check itself (CONNECT) or the topic check and delivery re-check (PUBLISH).',
      ],
    };
  } finally {
    driver.close();
    await Promise.allSettled([keyport.stop(), aedes.stop()]);
  }
}
