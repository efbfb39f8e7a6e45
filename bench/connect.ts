// 1. Connect: N clients, C in flight, each with its own device and key — Keyport (every CONNECT
// check, decision feed, connection status persisted) vs plain aedes (fixed password) vs
// mosquitto (password file). Sides alternate per round (K A M K A M …); medians are reported.
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startMosquittoSide, startPlainAedes, type Side } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { asConnect, provision } from './lib/provision.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, p95, ratio, round } from './lib/stats.ts';
import { measureIdleMemory } from './idle-memory.ts';

export const MOSQUITTO_USERS = 10;

export async function benchConnect(opts: BenchOptions): Promise<Section> {
  const clients = opts.quick ? 1000 : 2000;
  const inFlight = 100;
  const rounds = opts.quick ? 3 : 5;
  // Memory per idle client at 5,000 clients (issue 17 item 4); fewer in quick mode.
  const memClients = opts.quick ? 2000 : 5000;
  const log = opts.log;

  const driver = await ClientDriver.start();
  const keyport = await startKeyport();
  const aedes = await startPlainAedes();
  const mosq = await startMosquittoSide(MOSQUITTO_USERS);
  try {
    log(`connect: provisioning ${Math.max(clients, memClients)} devices with one key each`);
    const allCreds = await provision(keyport.service, Math.max(clients, memClients));
    await keyport.service.store.flush();
    const creds = allCreds.slice(0, clients);
    const ids = creds.map((c) => c.deviceId);
    const plans: { side: Side; clients: ConnectFields[] }[] = [
      { side: keyport, clients: creds.map(asConnect) },
      { side: aedes, clients: ids.map(asPlain) },
      {
        side: mosq,
        clients: ids.map((id, i) => {
          const u = mosq.users[i % mosq.users.length] as { username: string; password: string };
          return { clientId: id, username: u.username, password: u.password };
        }),
      },
    ];
    const samples = new Map<string, { rate: number; cpuUs: number; p50: number; p95: number }[]>();
    // Round 0 warms up the JIT of each side and is not counted.
    for (let r = 0; r <= rounds; r++) {
      for (const { side, clients: list } of plans) {
        // Keyport: its status writes are part of a connect.
        const { res, cpuUs } = await driver.connectRound(side, list, {
          concurrency: inFlight,
          ...(side === keyport ? { after: () => keyport.service.store.flush() } : {}),
        });
        if (res.connected !== list.length) {
          throw new Error(
            `connect: ${side.name} accepted ${res.connected}/${list.length} (refused ${res.refused}, errors ${res.errors}: ${res.firstError ?? ''})`,
          );
        }
        const s = {
          rate: res.connected / (res.ms / 1000),
          cpuUs,
          p50: median(res.latencies),
          p95: p95(res.latencies),
        };
        log(
          `connect: ${r === 0 ? 'warm-up' : `round ${r}/${rounds}`} ${side.name}: ${fmt(s.rate)} conn/s, ${fmt(s.cpuUs)} µs CPU/connect`,
        );
        if (r > 0) samples.set(side.name, [...(samples.get(side.name) ?? []), s]);
      }
    }
    // Ratios are the median of per-round ratios: the sides of one round run back to back, so a
    // change in the machine's load between rounds cancels out.
    const baseRounds = samples.get(aedes.name) ?? [];
    const pairedRatio = (ss: { rate: number; cpuUs: number }[], f: 'rate' | 'cpuUs') =>
      median(ss.map((s, i) => ratio(s[f], (baseRounds[i] as { rate: number; cpuUs: number })[f])));
    const summary = plans.map(({ side }) => {
      const ss = samples.get(side.name) ?? [];
      return {
        side: side.name,
        rateVsAedes: pairedRatio(ss, 'rate'),
        cpuVsAedes: pairedRatio(ss, 'cpuUs'),
        connPerSec: median(ss.map((s) => s.rate)),
        cpuUsPerConnect: median(ss.map((s) => s.cpuUs)),
        latencyP50Ms: median(ss.map((s) => s.p50)),
        latencyP95Ms: median(ss.map((s) => s.p95)),
        roundsConnPerSec: ss.map((s) => round(s.rate, 0)),
      };
    });
    const kp = summary[0] as (typeof summary)[number];
    const rateRatio = kp.rateVsAedes;
    const memCreds = allCreds.slice(0, memClients);
    const [memK, memA] = (await measureIdleMemory(
      driver,
      [
        { side: keyport, clients: memCreds.map(asConnect), afterConnect: () => keyport.service.store.flush() },
        {
          side: aedes,
          clients: memCreds.map((c) => asPlain(c.deviceId)),
        },
      ],
      opts.quick ? 2 : 3,
      log,
    )) as [
      Awaited<ReturnType<typeof measureIdleMemory>>[number],
      Awaited<ReturnType<typeof measureIdleMemory>>[number],
    ];
    const overAedesKB = memK.heapPerClientKB - memA.heapPerClientKB;
    return {
      id: 'connect',
      title: `Connect: ${clients} clients, ${inFlight} in flight, ${rounds} alternating rounds after a warm-up (medians)`,
      tables: [
        {
          title: `Connect — ${clients} clients, ${inFlight} in flight, each its own client id; median of ${rounds} alternating rounds after a warm-up`,
          header: [
            'broker',
            'connects/s',
            'vs plain aedes',
            'broker CPU µs/connect',
            'CPU vs plain aedes',
            'latency p50 ms',
            'p95 ms',
          ],
          rows: summary.map((s) => [
            s.side,
            fmt(s.connPerSec),
            fmtRatio(s.rateVsAedes),
            fmt(s.cpuUsPerConnect),
            fmtRatio(s.cpuVsAedes),
            fmt(s.latencyP50Ms),
            fmt(s.latencyP95Ms),
          ]),
        },
        {
          title: `Memory per idle client — ${memClients} clients held, median of ${opts.quick ? 2 : 3} alternating rounds`,
          header: ['broker', 'heap+external KB/client (after gc)', 'RSS KB/client', 'over plain aedes KB'],
          rows: [memK, memA].map((m) => [
            m.side,
            fmt(m.heapPerClientKB),
            fmt(m.rssPerClientKB),
            m === memA ? '' : fmt(overAedesKB),
          ]),
        },
      ],
      data: {
        clients,
        inFlight,
        rounds,
        mosquittoUsers: MOSQUITTO_USERS,
        mosquittoVersion: mosq.mosquitto.version,
        results: summary.map((s) => ({
          ...s,
          rateVsAedes: round(s.rateVsAedes, 3),
          cpuVsAedes: round(s.cpuVsAedes, 3),
          connPerSec: round(s.connPerSec, 0),
          cpuUsPerConnect: round(s.cpuUsPerConnect, 1),
          latencyP50Ms: round(s.latencyP50Ms, 2),
          latencyP95Ms: round(s.latencyP95Ms, 2),
        })),
        idleMemory: {
          clients: memClients,
          keyportHeapPerClientKB: round(memK.heapPerClientKB, 2),
          aedesHeapPerClientKB: round(memA.heapPerClientKB, 2),
          keyportRssPerClientKB: round(memK.rssPerClientKB, 2),
          aedesRssPerClientKB: round(memA.rssPerClientKB, 2),
          keyportOverAedesKB: round(overAedesKB, 2),
        },
        ratios: {
          keyportVsAedesRate: round(rateRatio, 3),
          keyportVsAedesCpu: round(kp.cpuVsAedes, 3),
          keyportVsMosquittoRate: round(ratio(kp.connPerSec, (summary[2] as (typeof summary)[number]).connPerSec), 3),
        },
      },
      targets: [
        {
          name: 'Keyport connect rate vs plain aedes',
          value: round(rateRatio, 3),
          limit: '≥ 0.9×',
          met: rateRatio >= 0.9,
        },
        {
          name: 'Keyport broker CPU per connect vs plain aedes',
          value: round(kp.cpuVsAedes, 3),
          limit: '≤ 1.2×',
          met: kp.cpuVsAedes <= 1.2,
        },
        {
          name: 'memory per idle client over plain aedes (KB, heap+external)',
          value: round(overAedesKB, 2),
          limit: '≤ 2 KB',
          met: overAedesKB <= 2,
        },
      ],
      notes: [
        'Keyport: the whole runtime on a lowdb data dir — key lookup, HMAC secret check, address and device checks, a decision-feed event per CONNECT, connection status persisted (CPU window includes the coalesced store writes).',
        'plain aedes 1.2.0: Aedes.createBroker({authenticate}) comparing one fixed username/password, over net.createServer.',
        `mosquitto: ${MOSQUITTO_USERS} password-file users (mosquitto_passwd -b, PBKDF2-SHA512) shared round-robin by the clients; each client still has its own client id.`,
        "Clients: raw MQTT 3.1.1 CONNECT packets from a forked child process (so the parent's cpuUsage is the broker); mosquitto CPU from /proc/<pid>/stat (10 ms ticks).",
        `Memory: ${memClients} clients connected and held per side (the other side idle), heap+external after gc() and RSS, growth over the same broker with no clients, divided by the clients; Keyport's figure includes the new connection status each device's record keeps.`,
        'Ratios: median of per-round ratios (the sides of a round run back to back); absolute figures: medians over rounds. Keyport and plain aedes share this process (and its heap); each is idle while the other is measured.',
      ],
    };
  } finally {
    driver.close(); // synchronous (returns void)
    await Promise.allSettled([keyport.stop(), aedes.stop(), mosq.stop()]);
  }
}
