// Demo scenarios (docs/design.md §7): one call builds devices + keys + simulations that show a restriction
// and its outcome, live. Names are prefixed with the scenario ("Tag scope: thermostat"). Scenarios
// with stages (a tag removed, a key switched off, a burst of reports) run them in the background, pausing
// `scenarioStepMs` between stages so a person can watch each one. Every device carries the scenario's
// mark (core/sim-marks.ts) and every device and key is recorded, so Clear (cleanup.ts) deletes them;
// scenario tags use reserved `keyport-demo-` keys, which no user device can carry.
import { LOSANT_LIMITS, describeDuration } from '../core/limits.ts';
import { scenarioMark } from '../core/sim-marks.ts';
import type { DeviceAttribute, Tag } from '../core/types.ts';
import { declaredAttributes } from './generators.ts';
import { ServiceError } from '../shared/errors.ts';
import type { SimulatedDevice } from './simulated-device.ts';
import type { Simulator } from './simulator.ts';
import { SCENARIOS, type ScenarioInfo, type ScenarioName, type SimBehaviour, type SimTransport } from './types.ts';

const every = (s: number): Pick<SimBehaviour, 'everySeconds'> => ({ everySeconds: s });
const climate: SimBehaviour['attributes'] = {
  temp: { kind: 'float', min: 18, max: 26, decimals: 1 },
  humidity: { kind: 'int', min: 30, max: 70 },
};

const INFO: Record<ScenarioName, Omit<ScenarioInfo, 'name'>> = {
  'tag-scope': {
    title: 'Tag scope',
    description:
      'One key for devices tagged keyport-demo-type=thermostat OR keyport-demo-floor=2: a device matching ANY one listed tag is in scope, as in Losant. The thermostat (type thermostat, floor 1) and the floor-2 sensor (type sensor, floor 2) connect; the lamp (type lamp, floor 1) matches neither tag and is refused. The tag keys start with the reserved "keyport-", so this key never admits your own devices. Then the thermostat loses its tags while connected: it stays connected (a key\'s scope is resolved at connect) and is marked "scope changed since connect"; its next connect is refused.',
    expected: [
      {
        simName: 'Tag scope: thermostat',
        outcome: 'connect accepted (tag keyport-demo-type=thermostat)',
        reason: 'connect.accepted',
      },
      { simName: 'Tag scope: lamp', outcome: 'connect refused; backs off, then stops', reason: 'device.out-of-scope' },
      {
        simName: 'Tag scope: floor-2 sensor',
        outcome: 'connect accepted (tag keyport-demo-floor=2: any one listed tag is enough)',
        reason: 'connect.accepted',
      },
      {
        simName: 'Tag scope: thermostat',
        outcome: 'tag removed while connected: stays connected, marked "scope changed since connect"',
        reason: 'connect.accepted',
      },
      {
        simName: 'Tag scope: thermostat',
        outcome: 'its reconnect is refused; backs off, then stops',
        reason: 'device.out-of-scope',
      },
    ],
  },
  'address-rule': {
    title: 'Address rule',
    description:
      'Keys that whitelist 127.0.0.2 (TCP) and 203.0.113.0/24 (WebSocket, X-Forwarded-For from a trusted local proxy). Only the devices coming from an allowed address get in. The TCP pair binds local addresses 127.0.0.2/127.0.0.3, which Linux has on loopback.',
    expected: [
      { simName: 'Address rule: from 127.0.0.2', outcome: 'connect accepted', reason: 'connect.accepted' },
      { simName: 'Address rule: from 127.0.0.3', outcome: 'connect refused', reason: 'address.denied' },
      { simName: 'Address rule: WS via 203.0.113.7', outcome: 'connect accepted', reason: 'connect.accepted' },
      { simName: 'Address rule: WS via 198.51.100.9', outcome: 'connect refused', reason: 'address.denied' },
    ],
  },
  'topic-rules': {
    title: 'Topic rules',
    description:
      'A whitelist key (pubTopics sensors/+/temp, subTopics alerts/#) and a blacklist key (private/#). Allowed publishes and subscriptions pass; a denied publish closes the connection (MQTT 3.1.1 has no negative PUBACK): the device drops that topic, reconnects after its back-off and never re-sends it; a refused subscription gets SUBACK 0x80 and the connection stays.',
    expected: [
      {
        simName: 'Topic rules: whitelist',
        outcome: 'publish on sensors/kitchen/temp allowed',
        reason: 'publish.allowed',
      },
      {
        simName: 'Topic rules: whitelist',
        outcome:
          'publish on sensors/kitchen/humidity denied: connection closed, topic dropped, reconnect after back-off',
        reason: 'topic.not-whitelisted',
      },
      { simName: 'Topic rules: whitelist', outcome: 'subscribe alerts/# granted', reason: 'subscribe.granted' },
      {
        simName: 'Topic rules: whitelist',
        outcome: 'subscribe config/# refused (SUBACK 0x80)',
        reason: 'topic.not-whitelisted',
      },
      {
        simName: 'Topic rules: blacklist',
        outcome: 'publish on public/lobby/status allowed',
        reason: 'publish.allowed',
      },
      {
        simName: 'Topic rules: blacklist',
        outcome: 'publish on private/lobby/diagnostics denied',
        reason: 'topic.blacklisted',
      },
      {
        simName: 'Topic rules: blacklist',
        outcome: 'subscribe private/# refused (SUBACK 0x80)',
        reason: 'topic.blacklisted',
      },
    ],
  },
  'inactive-key': {
    title: 'Inactive key',
    description:
      'A device connects with its key; then the key is set inactive. The broker closes the connection at once; every reconnect is refused, with a growing back-off, until the device gives up.',
    expected: [
      { simName: 'Inactive key: sensor', outcome: 'connect accepted', reason: 'connect.accepted' },
      {
        simName: 'Inactive key: sensor',
        outcome: 'key set inactive: the broker closes the connection',
        reason: 'key.inactive',
      },
      { simName: 'Inactive key: sensor', outcome: 'reconnects refused; backs off, then stops', reason: 'key.inactive' },
    ],
  },
  gateway: {
    title: 'Gateway',
    description:
      'A gateway reports its own state and the state of its two peripherals on losant/{peripheralId}/state. A third peripheral belongs to another gateway: that report is refused, the gateway drops it and reconnects after its back-off.',
    expected: [
      {
        simName: 'Gateway: gateway',
        outcome: 'reports for Gateway: peripheral 1 and Gateway: peripheral 2 are stored as their state',
        reason: 'publish.allowed',
      },
      {
        simName: 'Gateway: gateway',
        outcome: 'report for Gateway: peripheral of another gateway refused',
        reason: 'topic.out-of-scope',
      },
    ],
  },
  'rate-limit': {
    title: 'Rate limit',
    requires: 'losant-limits',
    description: `Needs Losant limits mode (the switch in the Broker view; limits apply to every device, so the scenario does not switch them on by itself). A sensor connects and reports every 5 s; then it sends a burst of state reports at once. The ${LOSANT_LIMITS.perTopic + 1}st message on its state topic within 15 s breaks Losant's limit of ${LOSANT_LIMITS.perTopic} per topic: the broker disconnects it and bans it for 30 s. Its reconnect is refused while the ban lasts (CONNACK 5); the scenario keeps it off until the ban ends, then connects it again: accepted, and reporting every 5 s stays under the limit.`,
    expected: [
      { simName: 'Rate limit: sensor', outcome: 'connect accepted', reason: 'connect.accepted' },
      {
        simName: 'Rate limit: sensor',
        outcome: `the ${LOSANT_LIMITS.perTopic + 1}st state report within 15 s: disconnected and banned for 30 s`,
        reason: 'limit.topic-rate',
      },
      {
        simName: 'Rate limit: sensor',
        outcome: 'its reconnect is refused while the ban lasts (CONNACK 5)',
        reason: 'limit.banned',
      },
      {
        simName: 'Rate limit: sensor',
        outcome: 'the ban is over after 30 s: connect accepted again',
        reason: 'connect.accepted',
        after: 'limit.banned',
      },
    ],
  },
};

export function scenarioInfo(): ScenarioInfo[] {
  return SCENARIOS.map((name) => ({ name, ...INFO[name], expected: INFO[name].expected.map((e) => ({ ...e })) }));
}

/** Why a scenario cannot run now (limits mode off for "Rate limit"), or null. */
export function scenarioBlocked(sim: Simulator, name: ScenarioName): string | null {
  if (INFO[name].requires !== 'losant-limits' || sim.limits?.on) return null;
  if (!sim.limits) return `the "${INFO[name].title}" scenario needs this Keyport's broker with Losant limits mode`;
  return `the "${INFO[name].title}" scenario needs Losant limits mode, which is off: switch "Losant limits" on in the Broker view (or run keyport serve --limits losant). It does not switch limits on by itself, because they apply to every device`;
}

/** Resolves when `pred` holds for the simulation (checked on each of its changes). */
export function waitForSim(
  sim: SimulatedDevice,
  pred: (s: SimulatedDevice) => boolean,
  ms: number,
  what: string,
): Promise<void> {
  if (pred(sim)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(`${sim.config.name ?? sim.deviceId}: ${what} did not happen within ${ms} ms (status ${sim.status})`),
      );
    }, ms);
    timer.unref(); // a scenario never keeps the process alive
    const off = sim.events.on('changed', () => {
      if (!pred(sim)) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface ScenarioRun {
  sims: SimulatedDevice[];
  /** Settles when the scenario's staged actions are done (at once for scenarios without stages). */
  done: Promise<void>;
}

export async function runScenario(sim: Simulator, name: ScenarioName): Promise<ScenarioRun> {
  const r = await build(sim, name);
  // A stage that cannot happen (a device never connected, the app closing) is shown, never thrown.
  const done = r.done.catch((err: unknown) => r.sims[0]?.note(`scenario stopped: ${(err as Error).message}`, false));
  return { sims: r.sims, done };
}

async function build(sim: Simulator, name: ScenarioName): Promise<ScenarioRun> {
  if (!SCENARIOS.includes(name)) throw new ServiceError('validation', `name must be one of ${SCENARIOS.join(', ')}`);
  const blocked = scenarioBlocked(sim, name);
  if (blocked) throw new ServiceError('conflict', blocked); // before any device or key is made
  const { devices, keys } = sim.service;
  const title = INFO[name].title;
  const step = sim.scenarioStepMs;
  const mark = scenarioMark(name);
  const made = `Made by the "${title}" simulator scenario`;
  const device = (
    n: string,
    extra: {
      tags?: Tag[];
      deviceClass?: 'gateway' | 'peripheral';
      gatewayId?: string;
      attributes?: DeviceAttribute[];
    } = {},
  ) =>
    devices
      .create(
        {
          name: `${title}: ${n}`,
          description: made,
          // Most scenario devices report the climate attributes; the ones that do not say so.
          attributes: declaredAttributes({ attributes: climate }),
          ...extra,
          tags: [mark, ...(extra.tags ?? [])],
        },
        { simulator: true },
      )
      .then((d) => {
        sim.recordMade(name, { deviceId: d.id });
        return d;
      });
  const key = (n: string, input: Record<string, unknown>) =>
    keys
      .create({ name: `Simulator: ${title}: ${n}`, description: made, createdVia: 'simulator', ...input })
      .then((k) => {
        sim.recordMade(name, { keyId: k.accessKey.id });
        return k;
      });
  const run = (
    d: { id: string; name: string },
    k: { accessKey: { id: string; key: string }; secret: string },
    behaviour: SimBehaviour,
    transport: SimTransport = 'tcp',
    sourceAddress?: string,
  ) =>
    sim.create(
      {
        deviceId: d.id,
        name: d.name,
        credentials: { key: k.accessKey.key, secret: k.secret },
        behaviour,
        transport,
        ...(sourceAddress ? { sourceAddress } : {}),
      },
      { scenario: name, keyId: k.accessKey.id },
    );

  switch (name) {
    case 'tag-scope': {
      const floor = (value: string): Tag => ({ key: 'keyport-demo-floor', value });
      const type = (value: string): Tag => ({ key: 'keyport-demo-type', value });
      const thermostat = await device('thermostat', { tags: [type('thermostat'), floor('1')] });
      const lamp = await device('lamp', {
        tags: [type('lamp'), floor('1')],
        attributes: declaredAttributes({ attributes: { on: { kind: 'boolean' } } }),
      });
      const sensor = await device('floor-2 sensor', { tags: [type('sensor'), floor('2')] });
      // The one scenario key that is not single-device: the point is an (inclusive) tag restriction.
      const k = await key('type=thermostat or floor=2', { deviceTags: [type('thermostat'), floor('2')] });
      const t = run(thermostat, k, { attributes: climate, ...every(5) });
      const l = run(lamp, k, { attributes: { on: { kind: 'boolean' } }, ...every(5) });
      const f = run(sensor, k, { attributes: climate, ...every(5) });
      const done = (async () => {
        await waitForSim(t, (s) => s.connected, 30_000, 'the first connect');
        await pause(step);
        t.note('scenario: removing the tags type=thermostat and floor=1 while the device is connected');
        await devices.update(thermostat.id, { tags: [mark] }); // the mark stays: Clear still finds it
        await waitForSim(t, (s) => s.scopeChanged, 10_000, 'the "scope changed" mark');
        await pause(step);
        t.note("scenario: reconnecting: the key's tag restriction is read again at connect");
        await t.reconnect();
      })();
      return { sims: [t, l, f], done };
    }
    case 'address-rule': {
      const out: SimulatedDevice[] = [];
      for (const [label, transport, from, allow] of [
        ['from 127.0.0.2', 'tcp', '127.0.0.2', '127.0.0.2'],
        ['from 127.0.0.3', 'tcp', '127.0.0.3', '127.0.0.2'],
        ['WS via 203.0.113.7', 'ws', '203.0.113.7', '203.0.113.0/24'],
        ['WS via 198.51.100.9', 'ws', '198.51.100.9', '203.0.113.0/24'],
      ] as const) {
        const d = await device(label);
        const k = await key(label, { deviceIds: [d.id], addressFilterType: 'whitelist', addresses: [allow] });
        out.push(run(d, k, { attributes: climate, ...every(5) }, transport, from));
      }
      return { sims: out, done: Promise.resolve() };
    }
    case 'topic-rules': {
      const w = await device('whitelist');
      const wk = await key('whitelist', {
        deviceIds: [w.id],
        filterType: 'whitelist',
        pubTopics: ['sensors/+/temp'],
        subTopics: ['alerts/#'],
      });
      const b = await device('blacklist');
      const bk = await key('blacklist', {
        deviceIds: [b.id],
        filterType: 'blacklist',
        pubTopics: ['private/#'],
        subTopics: ['private/#'],
      });
      // The denied publish goes last in each report and at QoS 1: it is never re-sent.
      const ws = run(w, wk, {
        attributes: climate,
        ...every(5),
        customPublish: [
          { topic: 'sensors/kitchen/temp', qos: 1 },
          { topic: 'sensors/kitchen/humidity', qos: 1 },
        ],
        customSubscribe: ['alerts/#', 'config/#'],
      });
      const bs = run(b, bk, {
        attributes: climate,
        ...every(5),
        customPublish: [
          { topic: 'public/lobby/status', qos: 1 },
          { topic: 'private/lobby/diagnostics', qos: 1 },
        ],
        customSubscribe: ['public/#', 'private/#'],
      });
      return { sims: [ws, bs], done: Promise.resolve() };
    }
    case 'inactive-key': {
      const d = await device('sensor');
      const k = await key('sensor', { deviceIds: [d.id] });
      const s = run(d, k, { attributes: climate, ...every(5) });
      const done = (async () => {
        await waitForSim(s, (x) => x.connected, 30_000, 'the first connect');
        await pause(step);
        s.note('scenario: setting the access key inactive');
        await keys.update(k.accessKey.id, { status: 'inactive' });
      })();
      return { sims: [s], done };
    }
    case 'gateway': {
      const gw = await device('gateway', { deviceClass: 'gateway' });
      const other = await device('another gateway', { deviceClass: 'gateway' });
      const p1 = await device('peripheral 1', { deviceClass: 'peripheral', gatewayId: gw.id });
      const p2 = await device('peripheral 2', { deviceClass: 'peripheral', gatewayId: gw.id });
      const p3 = await device('peripheral of another gateway', { deviceClass: 'peripheral', gatewayId: other.id });
      const k = await key('gateway', { deviceIds: [gw.id] });
      const s = run(gw, k, { attributes: climate, ...every(5), peripherals: [p1.id, p2.id, p3.id] });
      return { sims: [s], done: Promise.resolve() };
    }
    case 'rate-limit': {
      const limits = sim.limits!; // scenarioBlocked made sure
      const d = await device('sensor');
      const k = await key('sensor', { deviceIds: [d.id] });
      const s = run(d, k, { attributes: climate, ...every(5) });
      const done = (async () => {
        await waitForSim(s, (x) => x.connected, 30_000, 'the first connect');
        await pause(step);
        // Up to the (limit + 1)th message on the state topic, counting the reports sent since the
        // connect (one, unless the pause outlasted the 5 s interval).
        const burst = Math.max(1, LOSANT_LIMITS.perTopic + 1 - (s.snapshot().reports ?? 0));
        s.note(
          `scenario: a burst of ${burst} state reports at once, past Losant's ${LOSANT_LIMITS.perTopic} per topic in 15 s`,
        );
        for (let i = 0; i < burst && s.reportNow(); i++);
        // Its own back-off brings it back (about 1 s later), into the ban.
        await waitForSim(s, (x) => x.connectionReason === 'limit.banned', 30_000, 'a reconnect refused while banned');
        await s.stop('scenario: stopped retrying into the ban');
        const left = limits.banRemainingMs(d.id);
        s.note(`scenario: banned for ${describeDuration(left)} more; the device stays off until the ban ends`);
        // The ban ends by the limits' clock (tests move it on), so it is looked at, not timed.
        for (let ms = left; ms > 0; ms = limits.banRemainingMs(d.id)) {
          await pause(Math.min(ms, 1000));
          if (sim.closed || sim.find(s.id) !== s) throw new Error('the simulation was removed during the ban');
        }
        s.note('scenario: the ban is over; connecting again');
        s.start();
      })();
      return { sims: [s], done };
    }
  }
}
