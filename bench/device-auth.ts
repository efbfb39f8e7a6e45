// 8. HTTP device auth (issue 17 item 5): POST /auth/device requests/s with 50 in flight, for cold
// keys (not used in the last minute: each request records lastUsed, a lazy store write) and warm
// keys (used seconds ago: no bookkeeping). The answer must not wait for the lastUsed write, so
// both should run at the same rate. Real runtime, lowdb store in a temp data dir, real HTTP. The
// requests come from a child process (client-driver.ts: raw HTTP/1.1 on kept-alive sockets), so
// this process is the server alone and its CPU per request is the server's cost; that figure,
// cold vs warm, decides when the machine is too busy to show the rate.
import { losantApiRoutes } from '../src-main/server/losant-api/routes.ts';
import { startRuntime } from '../src-main/server/runtime.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './lib/cleanup.ts';
import { ClientDriver } from './lib/client-driver.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, p95, ratio, round } from './lib/stats.ts';

const IN_FLIGHT = 50;
/** A run of 1,000 requests takes well under a second even on a busy machine; 60 s means stuck. */
const RUN_CAP_MS = 60_000;

interface Cred {
  deviceId: string;
  key: string;
  secret: string;
}

interface RunResult {
  perSec: number;
  p50: number;
  p95: number;
  /** This process's CPU (user + system, all threads) per request, µs: the server's cost. */
  cpuUs: number;
}

async function run(
  driver: ClientDriver,
  port: number,
  creds: readonly Cred[],
  flush: () => Promise<void>,
): Promise<RunResult> {
  const cpu0 = process.cpuUsage();
  const r = await driver.httpPost({
    port,
    path: '/auth/device',
    bodies: creds.map((c) => JSON.stringify(c)),
    concurrency: IN_FLIGHT,
    capMs: RUN_CAP_MS,
  });
  // The lazy lastUsed writes of a cold run land within the store's lazy window, after the
  // answers: the flush puts their CPU in this run's figure (it is outside the timed part).
  await flush();
  const cpu = process.cpuUsage(cpu0);
  if (r.failed > 0 || r.ok200 !== creds.length)
    throw new Error(`auth: ${r.failed} of ${creds.length} requests failed (${r.firstError ?? 'no answer'})`);
  return {
    perSec: (creds.length * 1000) / r.ms,
    p50: median(r.latencies),
    p95: p95(r.latencies),
    cpuUs: (cpu.user + cpu.system) / creds.length,
  };
}

export async function benchDeviceAuth(opts: BenchOptions): Promise<Section> {
  const count = opts.quick ? 300 : 1_000;
  const rounds = opts.quick ? 2 : 3;
  const log = opts.log;
  const dataDir = await mkdtemp(join(tmpdir(), 'keyport-bench-auth-'));
  const unregister = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const rt = await startRuntime({
    dataDir,
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: () => {},
    limits: 'off',
    routes: (r) => losantApiRoutes({ ...r, trustedProxies: ['127.0.0.0/8', '::1/128'] }),
  });
  const driver = await ClientDriver.start();
  try {
    const port = rt.ports.http;
    const flush = () => rt.service.store.flush();
    // One key per device; a warm-up set (JIT, connections) plus `rounds` sets, so every cold
    // round uses keys nobody has used yet.
    const made = await Promise.all(
      Array.from({ length: count * (rounds + 1) }, async (_, i) => {
        const device = await rt.service.devices.create({ name: `auth ${i}` });
        const { accessKey, secret } = await rt.service.keys.create({ deviceIds: [device.id] });
        return { deviceId: device.id, key: accessKey.key, secret };
      }),
    );
    await flush();
    const warmUp = made.splice(0, count);
    await run(driver, port, warmUp, flush);
    await run(driver, port, warmUp, flush);
    const cold: RunResult[] = [];
    const warm: RunResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const set = made.slice(r * count, (r + 1) * count);
      const c = await run(driver, port, set, flush); // first use of each key: lastUsed recorded (lazy write)
      const w = await run(driver, port, set, flush); // the same keys again, seconds later: no bookkeeping
      cold.push(c);
      warm.push(w);
      log(
        `auth: round ${r + 1}/${rounds}: cold ${fmt(c.perSec)}/s (${fmt(c.cpuUs)} µs CPU/req), warm ${fmt(w.perSec)}/s (${fmt(w.cpuUs)} µs CPU/req)`,
      );
    }
    const stat = (xs: typeof cold) => ({
      perSec: median(xs.map((x) => x.perSec)),
      p50: median(xs.map((x) => x.p50)),
      p95: median(xs.map((x) => x.p95)),
      cpuUs: median(xs.map((x) => x.cpuUs)),
    });
    const c = stat(cold);
    const w = stat(warm);
    const coldVsWarm = ratio(c.perSec, w.perSec);
    const cpuColdVsWarm = ratio(c.cpuUs, w.cpuUs);
    return {
      id: 'auth',
      title: 'HTTP device auth: POST /auth/device, cold vs warm keys',
      tables: [
        {
          title: `POST /auth/device — ${count} requests per run, ${IN_FLIGHT} in flight, median of ${rounds} rounds`,
          header: ['keys', 'requests/s', 'p50 ms', 'p95 ms', 'server CPU µs/req', 'vs warm'],
          rows: [
            [
              'cold (not used in the last minute: lastUsed written)',
              fmt(c.perSec),
              fmt(c.p50),
              fmt(c.p95),
              fmt(c.cpuUs),
              fmtRatio(coldVsWarm),
            ],
            ['warm (used seconds ago)', fmt(w.perSec), fmt(w.p50), fmt(w.p95), fmt(w.cpuUs), '1.00×'],
          ],
        },
      ],
      data: {
        requests: count,
        inFlight: IN_FLIGHT,
        rounds,
        cold: {
          perSec: round(c.perSec, 0),
          p50Ms: round(c.p50, 2),
          p95Ms: round(c.p95, 2),
          cpuUsPerReq: round(c.cpuUs, 1),
        },
        warm: {
          perSec: round(w.perSec, 0),
          p50Ms: round(w.p50, 2),
          p95Ms: round(w.p95, 2),
          cpuUsPerReq: round(w.cpuUs, 1),
        },
        ratios: { coldVsWarm: round(coldVsWarm, 3), cpuColdVsWarm: round(cpuColdVsWarm, 3) },
      },
      targets: [
        {
          name: 'POST /auth/device, cold keys vs warm keys (rate)',
          value: round(coldVsWarm, 3),
          limit: '≥ 0.8×',
          met: coldVsWarm >= 0.8,
        },
        // 200 µs of server CPU per request is one core's worth of 5,000 requests/s: the figure that
        // decides when the client and other load leave the server less than a core.
        ...(
          [
            ['cold', c],
            ['warm', w],
          ] as const
        ).flatMap(([name, r]) => {
          return [
            {
              name: `POST /auth/device, ${name} keys, server CPU per request (µs)`,
              value: round(r.cpuUs, 0),
              limit: '≤ 200',
              met: r.cpuUs <= 200,
            },
            {
              name: `POST /auth/device, ${name} keys, requests/s (2 cores shared with the client)`,
              value: round(r.perSec, 0),
              limit: '≥ 5,000',
              met: r.perSec >= 5_000,
            },
          ];
        }),
      ],
      notes: [
        'The requests come from a child process (raw HTTP/1.1, kept-alive sockets); server CPU is this process (user + system, all threads, the lazy writes of a cold run included) per request. The issue asks ≥ 5,000/s on a quiet machine.',
      ],
    };
  } finally {
    driver.close();
    await rt.close();
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  }
}
