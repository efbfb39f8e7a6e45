// 3. Key count: does CONNECT stay flat as the store grows (key lookup is an index), how fast is
// the advanced key query, and how long does creating keys through the service take.
//  - Lookup: three runtimes side by side with 1,000, 10,000 and 100,000 keys in MEMORY stores built
//    directly (createMemoryStore): creating 100,000 keys through the service would rewrite the
//    store file once per coalesced batch, and this part is about lookup, not persistence. The same
//    100 devices with single-device keys connect on every size; the rest are filler keys.
//    Rounds alternate 100 → 10k → 100k.
//  - Creation: service.keys.create on the LOWDB store (that part is about writing the file).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../src-main/core/ids.ts';
import { generateKey, generateSecret, makeVerifier } from '../src-main/core/secrets.ts';
import type { AccessKeyRecord, Device } from '../src-main/core/types.ts';
import { loadPepper } from '../src-main/service/data-dir.ts';
import { KeyportService } from '../src-main/service/service.ts';
import { openLowdbStore } from '../src-main/store/lowdb-store.ts';
import { createMemoryStore } from '../src-main/store/memory-store.ts';
import { ClientDriver } from './lib/client-driver.ts';
import { startKeyport, type KeyportSide } from './lib/brokers.ts';
import { onExit } from './lib/cleanup.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, p95, ratio, round } from './lib/stats.ts';
import { rmSync } from 'node:fs';

/** The query the Keys view's filter bar builds for "therm" plus the status switch. */
export const TYPICAL_QUERY = {
  $and: [
    { status: 'active' },
    {
      $or: [{ name: { $contains: 'therm', $ci: true } }, { deviceTags: { $tagKey: 'type', $tagValue: 'thermostat' } }],
    },
  ],
};

const KINDS = ['Thermostat', 'sensor', 'gateway', 'meter'] as const;
const CONNECTORS = 100;

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

interface Built {
  side: KeyportSide;
  clients: ConnectFields[];
  keys: number;
  dataDir: string;
}

function iso(i: number): string {
  return new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
}

function fillerKey(i: number): AccessKeyRecord {
  const kind = KINDS[i % KINDS.length] as string;
  const at = iso(i);
  return {
    id: newId(),
    key: generateKey(),
    name: `${kind} line ${i}`,
    description: i % 3 === 0 ? `provisioned for site ${i % 97}` : '',
    status: i % 10 === 0 ? 'inactive' : 'active',
    ...(i % 2 === 0
      ? {
          deviceTags: [
            { key: 'type', value: kind.toLowerCase() },
            { key: 'floor', value: String(i % 12) },
          ],
        }
      : { deviceIds: [newId()] }),
    addressFilterType: i % 5 === 0 ? 'whitelist' : 'all',
    addresses: i % 5 === 0 ? ['10.0.0.0/8'] : [],
    filterType: i % 4 === 0 ? 'whitelist' : 'none',
    pubTopics: i % 4 === 0 ? [`site/${i % 97}/#`] : [],
    subTopics: i % 4 === 0 ? [`site/${i % 97}/cmd`] : [],
    creationDate: at,
    lastUpdated: at,
    createdVia: 'api',
    // A real verifier would cost an HMAC per filler key; nobody connects with these.
    secretVerifier: `hmac-sha256:${'0'.repeat(64)}`,
  };
}

async function buildSide(
  total: number,
  connectors: { device: Device; key: AccessKeyRecord; secret: string }[],
): Promise<Built> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keyport-bench-keys-'));
  const unregister = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const pepper = await loadPepper(dataDir);
  const keys: AccessKeyRecord[] = connectors.map((c) => ({ ...c.key, secretVerifier: makeVerifier(c.secret, pepper) }));
  for (let i = keys.length; i < total; i++) keys.push(fillerKey(i));
  const store = createMemoryStore({ devices: connectors.map((c) => c.device), keys });
  const side = await startKeyport({ dataDir, store });
  const stop = side.stop;
  side.stop = async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  };
  return {
    side,
    dataDir,
    keys: total,
    clients: connectors.map((c) => ({ clientId: c.device.id, username: c.key.key, password: c.secret })),
  };
}

function connectors(n: number): { device: Device; key: AccessKeyRecord; secret: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const at = iso(i);
    const device: Device = {
      id: newId(),
      name: `connector ${i}`,
      description: '',
      tags: [{ key: 'type', value: 'thermostat' }],
      deviceClass: 'standalone',
      creationDate: at,
      lastUpdated: at,
      connectionStatus: { status: 'disconnected', messagesFromClient: 0, messagesToClient: 0 },
    };
    const secret = generateSecret();
    const key: AccessKeyRecord = {
      id: newId(),
      key: generateKey(),
      name: `${KINDS[i % KINDS.length]} device ${i}`,
      status: 'active',
      deviceIds: [device.id],
      addressFilterType: 'all',
      addresses: [],
      filterType: 'none',
      pubTopics: [],
      subTopics: [],
      creationDate: at,
      lastUpdated: at,
      createdVia: 'api',
      secretVerifier: '', // set per side (each data dir has its own pepper)
    };
    return { device, key, secret };
  });
}

async function creation(count: number, inFlight: number): Promise<{ ms: number; writes: number; bytes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyport-bench-create-'));
  const unregister = onExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    let writes = 0;
    let bytes = 0;
    const store = await openLowdbStore(dir, {
      onWrite: (w) => {
        writes++;
        bytes = w.bytes;
      },
    });
    const service = new KeyportService({ store, pepper: await loadPepper(dir) });
    writes = 0;
    let next = 0;
    const t0 = performance.now();
    const lane = async () => {
      while (next < count) {
        const i = next++;
        await service.keys.create({
          name: `${KINDS[i % KINDS.length]} line ${i}`,
          description: 'bench',
          deviceTags: [{ key: 'type', value: 'thermostat' }],
          filterType: 'whitelist',
          pubTopics: [`site/${i % 97}/#`],
          subTopics: [`site/${i % 97}/cmd`],
          createdVia: 'api',
        });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    await store.flush();
    const ms = performance.now() - t0;
    await store.close();
    return { ms, writes, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
    unregister();
  }
}

export async function benchKeyCount(opts: BenchOptions): Promise<Section> {
  const sizes = [1_000, 10_000, 100_000];
  const connects = opts.quick ? 200 : 500;
  const rounds = opts.quick ? 3 : 5;
  const createCount = opts.quick ? 2_000 : 10_000;
  const sequentialCount = opts.quick ? 200 : 1_000;
  const log = opts.log;

  const driver = await ClientDriver.start();
  const conn = connectors(CONNECTORS);
  const sides: Built[] = [];
  /** Heap + external after gc() each runtime added (its store, indexes and broker), MB. */
  const memoryMB = new Map<number, number>();
  try {
    for (const n of sizes) {
      const t0 = performance.now();
      const m0 = heapAfterGc();
      sides.push(await buildSide(n, conn));
      memoryMB.set(n, (heapAfterGc() - m0) / 2 ** 20);
      log(
        `keys: built a memory store with ${n.toLocaleString('en-US')} keys in ${Math.round(performance.now() - t0)} ms`,
      );
    }
    // CONNECT cost: `connects` connect → CONNACK → DISCONNECT cycles, one at a time, cycling
    // over the same 100 device/key pairs.
    const samples = new Map<number, { p50: number; p95: number; cpuUs: number }[]>();
    for (let r = 0; r < rounds; r++) {
      for (const b of sides) {
        const list = Array.from({ length: connects }, (_, i) => b.clients[i % b.clients.length] as ConnectFields);
        await b.side.settle();
        const cpu0 = b.side.cpuMs();
        const res = await driver.connect(b.side.port, list, { concurrency: 1, hold: false, capMs: 60_000 });
        await b.side.settle();
        const cpu = b.side.cpuMs() - cpu0;
        if (res.connected !== connects)
          throw new Error(`keys: ${res.connected}/${connects} connects with ${b.keys} keys (${res.firstError ?? ''})`);
        const s = { p50: median(res.latencies), p95: p95(res.latencies), cpuUs: (cpu * 1000) / connects };
        log(
          `keys: round ${r + 1}/${rounds}, ${b.keys.toLocaleString('en-US')} keys: connect p50 ${fmt(s.p50)} ms, ${fmt(s.cpuUs)} µs CPU per connect+disconnect`,
        );
        samples.set(b.keys, [...(samples.get(b.keys) ?? []), s]);
      }
    }
    // Advanced query latency, through the service (what the HTTP API and the Keys view call).
    const query: { keys: number; medianMs: number; p95Ms: number; matches: number; runs: number }[] = [];
    for (const b of sides) {
      const runs = b.keys >= 100_000 ? (opts.quick ? 5 : 15) : b.keys >= 10_000 ? (opts.quick ? 20 : 60) : 200;
      const times: number[] = [];
      let matches = 0;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        matches = b.side.service.keys.list(TYPICAL_QUERY).length;
        times.push(performance.now() - t0);
      }
      query.push({ keys: b.keys, medianMs: median(times), p95Ms: p95(times), matches, runs });
      log(
        `keys: query over ${b.keys.toLocaleString('en-US')} keys: median ${fmt(median(times))} ms (${matches} matches)`,
      );
    }
    for (const b of sides.splice(0)) await b.side.stop();

    log(`keys: creating ${createCount.toLocaleString('en-US')} keys through the service (lowdb store, 100 in flight)`);
    const created = await creation(createCount, 100);
    log(
      `keys: creating ${sequentialCount.toLocaleString('en-US')} keys one at a time (each awaited: one durable write each)`,
    );
    const sequential = await creation(sequentialCount, 1);

    const connectSummary = sizes.map((n) => {
      const ss = samples.get(n) ?? [];
      return {
        keys: n,
        connectP50Ms: median(ss.map((s) => s.p50)),
        connectP95Ms: median(ss.map((s) => s.p95)),
        cpuUsPerConnect: median(ss.map((s) => s.cpuUs)),
      };
    });
    const small = connectSummary[0] as (typeof connectSummary)[number];
    const big = connectSummary[2] as (typeof connectSummary)[number];
    const flat = ratio(big.connectP50Ms, small.connectP50Ms);
    const flatCpu = ratio(big.cpuUsPerConnect, small.cpuUsPerConnect);
    const q10k = query[1] as (typeof query)[number];
    return {
      id: 'keys',
      title: 'Key count: connect cost, memory and query latency at 1k / 10k / 100k keys; key creation',
      tables: [
        {
          title: `Key count — ${connects} connect/disconnect cycles one at a time per round, median of ${rounds} alternating rounds; query: status active AND (name contains "therm" OR tag type=thermostat)`,
          header: [
            'keys in store',
            'connect p50 ms',
            'p95 ms',
            'vs 1k keys',
            'broker CPU µs/cycle',
            'CPU vs 1k keys',
            'memory MB',
            'query median ms',
            'query p95 ms',
            'matches',
          ],
          rows: connectSummary.map((c, i) => [
            c.keys.toLocaleString('en-US'),
            fmt(c.connectP50Ms),
            fmt(c.connectP95Ms),
            fmtRatio(ratio(c.connectP50Ms, small.connectP50Ms)),
            fmt(c.cpuUsPerConnect),
            fmtRatio(ratio(c.cpuUsPerConnect, small.cpuUsPerConnect)),
            fmt(memoryMB.get(c.keys)),
            fmt(query[i]?.medianMs),
            fmt(query[i]?.p95Ms),
            String(query[i]?.matches ?? ''),
          ]),
        },
        {
          title: 'Creating keys through service.keys.create (lowdb store, fsync + rename per write)',
          header: ['keys', 'in flight', 'total s', 'keys/s', 'store file writes', 'final file MB'],
          rows: [
            [
              createCount.toLocaleString('en-US'),
              '100',
              fmt(created.ms / 1000),
              fmt(createCount / (created.ms / 1000)),
              String(created.writes),
              fmt(created.bytes / 2 ** 20),
            ],
            [
              sequentialCount.toLocaleString('en-US'),
              '1',
              fmt(sequential.ms / 1000),
              fmt(sequentialCount / (sequential.ms / 1000)),
              String(sequential.writes),
              fmt(sequential.bytes / 2 ** 20),
            ],
          ],
        },
      ],
      data: {
        connectsPerRound: connects,
        rounds,
        connect: connectSummary.map((c) => ({
          keys: c.keys,
          connectP50Ms: round(c.connectP50Ms, 3),
          connectP95Ms: round(c.connectP95Ms, 3),
          cpuUsPerConnect: round(c.cpuUsPerConnect, 1),
          memoryMB: round(memoryMB.get(c.keys) ?? 0, 1),
        })),
        query: {
          query: TYPICAL_QUERY,
          results: query.map((q) => ({ ...q, medianMs: round(q.medianMs, 3), p95Ms: round(q.p95Ms, 3) })),
        },
        create: {
          concurrent: {
            keys: createCount,
            inFlight: 100,
            seconds: round(created.ms / 1000, 2),
            keysPerSec: round(createCount / (created.ms / 1000), 0),
            writes: created.writes,
            fileBytes: created.bytes,
          },
          sequential: {
            keys: sequentialCount,
            inFlight: 1,
            seconds: round(sequential.ms / 1000, 2),
            keysPerSec: round(sequentialCount / (sequential.ms / 1000), 0),
            writes: sequential.writes,
            fileBytes: sequential.bytes,
          },
        },
        ratios: { connectLatency100kVs100: round(flat, 3), connectCpu100kVs100: round(flatCpu, 3) },
      },
      targets: [
        { name: 'connect latency at 100k keys vs 1k keys', value: round(flat, 3), limit: '≤ 1.1×', met: flat <= 1.1 },
        {
          name: 'advanced query over 10k keys, median ms',
          value: round(q10k.medianMs, 2),
          limit: '< 20 ms',
          met: q10k.medianMs < 20,
        },
      ],
      notes: [
        'Lookup stores were built directly with createMemoryStore (not through the service): 100 connecting devices with single-device keys, the rest filler keys (mixed names, tags, id restrictions, statuses, topic and address rules). All three runtimes share this process, so they share one heap.',
        'Creation goes through service.keys.create on the lowdb store: with 100 in flight the coalescer writes the whole file once per batch; one at a time, every create waits for its own durable write, so the cost grows with the file.',
      ],
    };
  } finally {
    for (const b of sides) await b.side.stop().catch(() => {});
    driver.close();
  }
}
