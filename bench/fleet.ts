// 4. Fleet: N simulated devices with per-device keys, broker and simulator in ONE process (this
// one). Uses the simulator's fleet API (src-main/simulator: Simulator.fleets.create, at most
// MAX_FLEET devices per fleet, so N is split over several fleets). Measures: creating the fleets
// (devices + keys through the service, then connecting), memory per device (heapUsed + external
// after a gc: everything connected vs baseline, and how much of it is the live connections),
// time to connect all (fleets stopped, then started together), and a reconnect storm: the
// runtime is closed and a new one started on the same data dir and port while the simulator
// keeps running; timed until every device is connected again.
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListenerInfo } from '../src-main/contract.ts';
import { MAX_FLEET } from '../src-main/simulator/fleets.ts';
import { Simulator } from '../src-main/simulator/simulator.ts';
import type { SimBehaviour } from '../src-main/simulator/types.ts';
import { startKeyport, type KeyportSide } from './lib/brokers.ts';
import { onExit } from './lib/cleanup.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, round } from './lib/stats.ts';

const BEHAVIOUR: SimBehaviour = {
  attributes: { temperature: { kind: 'float', min: 15, max: 25, decimals: 1 } },
  everySeconds: null,
};

interface Mem {
  heap: number;
  external: number;
  rss: number;
}

async function memory(): Promise<Mem> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice, with a turn of the event loop between: weak references and finalizers settle.
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

const used = (m: Mem) => m.heap + m.external;

async function until(what: string, pred: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`fleet: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

export async function benchFleet(opts: BenchOptions): Promise<Section> {
  const devices = opts.quick ? 1000 : 5000;
  const log = opts.log;
  const dataDir = await mkdtemp(join(tmpdir(), 'keyport-bench-fleet-'));
  const unregister = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  let rt: KeyportSide | null = await startKeyport({ dataDir });
  const port = rt.port;
  const listeners: ListenerInfo = { ...rt.rt.ports };
  // The simulator lives outside the runtime, so it keeps running (and reconnecting) across the
  // broker restart below. Product default back-off (1 s, doubling).
  const sim = new Simulator({
    service: rt.service,
    dataDir,
    listeners: () => listeners,
    log: () => {},
    fleetConcurrency: 100,
  });
  const connected = () => {
    let n = 0;
    for (const s of sim.all()) if (s.status === 'connected') n++;
    return n;
  };
  try {
    const m0 = await memory();
    const sizes: number[] = [];
    for (let left = devices; left > 0; left -= MAX_FLEET) sizes.push(Math.min(MAX_FLEET, left));
    log(
      `fleet: creating ${devices} devices with their own keys as ${sizes.length} fleet(s) of ${sizes.join(' + ')}, and connecting them`,
    );
    const tc = performance.now();
    const fleetIds: string[] = [];
    for (const [i, n] of sizes.entries()) {
      const f = await sim.fleets.create({
        count: n,
        namePrefix: `Bench fleet ${i + 1}`,
        behaviour: BEHAVIOUR,
        transport: 'tcp',
      });
      fleetIds.push(f.id);
    }
    await until('every fleet device to connect', () => connected() === devices, 120_000);
    const createMs = performance.now() - tc;
    await rt.service.store.flush();
    const m1 = await memory();
    log(
      `fleet: ${devices} created and connected in ${fmt(createMs / 1000)} s; ${fmt((used(m1) - used(m0)) / devices / 1024)} KB/device`,
    );

    // Disconnect everything, then time connecting all of them again (all fleets started together).
    await Promise.all(fleetIds.map((id) => sim.fleets.stop(id)));
    const side = rt;
    await until('the broker to drop every session', () => side.rt.broker.sessions.size === 0, 60_000);
    await rt.service.store.flush();
    const m2 = await memory();
    const tConnect = performance.now();
    await Promise.all(fleetIds.map((id) => sim.fleets.start(id)));
    await until('every fleet device to connect', () => connected() === devices, 120_000);
    const connectMs = performance.now() - tConnect;
    log(`fleet: all ${devices} connected in ${fmt(connectMs / 1000)} s`);
    await rt.service.store.flush();

    // Reconnect storm: close the runtime (every connection dropped), start a new one on the same
    // data dir and port; the simulated devices back off and reconnect by themselves.
    const tStorm = performance.now();
    await rt.stop();
    rt = null;
    const closedMs = performance.now() - tStorm;
    rt = await startKeyport({ dataDir, mqttPort: port });
    const upMs = performance.now() - tStorm;
    const fresh = rt;
    await until(
      'every device to reconnect after the restart',
      () => connected() === devices && fresh.rt.broker.sessions.size === devices,
      120_000,
    );
    const stormMs = performance.now() - tStorm;
    log(
      `fleet: restart ${fmt(upMs / 1000)} s, all ${devices} reconnected ${fmt(stormMs / 1000)} s after the old runtime started closing`,
    );

    const perDevice = (used(m1) - used(m0)) / devices;
    const perConnection = (used(m1) - used(m2)) / devices;
    return {
      id: 'fleet',
      title: `Fleet: ${devices} simulated devices, per-device keys, broker + simulator in one process`,
      tables: [
        {
          title: `Fleet — ${devices} simulated devices (simulator fleet API, ${sizes.length} fleet(s)), each its own key; broker and simulator in this process`,
          header: ['measure', 'value'],
          rows: [
            ['create devices + keys and connect (s)', fmt(createMs / 1000)],
            ['connect all, fleets started together (s)', fmt(connectMs / 1000)],
            ['connects/s while connecting all', fmt(devices / (connectMs / 1000))],
            ['memory per device, broker + simulator (KB, heapUsed+external)', fmt(perDevice / 1024)],
            ['  of which the live connection (KB)', fmt(perConnection / 1024)],
            ['RSS per device (KB)', fmt((m1.rss - m0.rss) / devices / 1024)],
            ['restart: old runtime closed (s)', fmt(closedMs / 1000)],
            ['restart: new runtime listening (s)', fmt(upMs / 1000)],
            ['reconnect storm: all connected again (s after close began)', fmt(stormMs / 1000)],
          ],
        },
      ],
      data: {
        devices,
        fleets: sizes,
        gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
        createAndConnectSeconds: round(createMs / 1000, 2),
        connectAllSeconds: round(connectMs / 1000, 2),
        connectsPerSecond: round(devices / (connectMs / 1000), 0),
        memoryPerDeviceKB: round(perDevice / 1024, 1),
        connectionMemoryPerDeviceKB: round(perConnection / 1024, 1),
        rssPerDeviceKB: round((m1.rss - m0.rss) / devices / 1024, 1),
        restart: {
          closedSeconds: round(closedMs / 1000, 2),
          listeningSeconds: round(upMs / 1000, 2),
          allReconnectedSeconds: round(stormMs / 1000, 2),
        },
      },
      targets: [
        {
          name: 'memory per fleet device (broker + simulator), KB',
          value: round(perDevice / 1024, 1),
          limit: '< 64 KB',
          met: perDevice < 64 * 1024,
        },
      ],
      notes: [
        `Simulator fleet API (Simulator.fleets.create; at most ${MAX_FLEET} devices per fleet, so ${sizes.length} fleet(s)). Behaviour: one float attribute, no periodic reports (each device sends one state report and subscribes to its command topic on every connect). TCP, product default back-off (1 s, doubling).`,
        'Memory: process heapUsed + external after gc() (run node with --expose-gc, as `npm run bench` does), everything connected minus the empty runtime; "of which the live connection" is connected minus the same fleet stopped.',
        'Reconnect storm: Runtime.close() on the old runtime (every socket dropped), startRuntime() on the same data dir and MQTT port; the simulator runs outside the runtime and reconnects by itself.',
      ],
    };
  } finally {
    await sim.close().catch(() => {});
    if (rt) await rt.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  }
}
