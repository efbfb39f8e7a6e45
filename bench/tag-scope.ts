// 7. Tag scopes (issue 17 item 2): broker CPU per CONNECT for an id-scoped key and for tag-scoped
// keys, with 1,000 / 10,000 / 100,000 devices in the store. A tag-scoped key's scope comes from
// the store's tag index (store/tag-index.ts), so it should cost the same at every size; the
// "scan" column times what resolving the same scope by scanning every device (the pre-index way,
// scanTagLookup) would add per CONNECT.
//  - Stores are MEMORY stores built directly (createMemoryStore): this part is about the lookup,
//    not the file. 100 connector devices, each with its own single-device key, carry
//    site=bench; every device (connectors and filler) carries type=thermostat. So the
//    "tag, 100 match" key (site=bench) admits the 100 connectors, the "tag, all match" key
//    (type=thermostat) admits every device in the store.
//  - Each round runs every size and every key kind (alternating), `connects` connect → CONNACK →
//    DISCONNECT cycles one at a time over the 100 connectors; figures are medians of the rounds.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveScope, scanTagLookup } from '../src-main/core/device-scope.ts';
import { newId } from '../src-main/core/ids.ts';
import { generateKey, generateSecret, makeVerifier } from '../src-main/core/secrets.ts';
import type { AccessKeyRecord, Device, TagMatch } from '../src-main/core/types.ts';
import { loadPepper } from '../src-main/service/data-dir.ts';
import { createMemoryStore } from '../src-main/store/memory-store.ts';
import type { Store } from '../src-main/store/store.ts';
import { startKeyport, type KeyportSide } from './lib/brokers.ts';
import { onExit } from './lib/cleanup.ts';
import { ClientDriver } from './lib/client-driver.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, ratio, round } from './lib/stats.ts';

const CONNECTORS = 100;
const KINDS = ['id', 'tag100', 'tagAll'] as const;
type Kind = (typeof KINDS)[number];
const LABEL: Record<Kind, string> = {
  id: 'single-device key',
  tag100: 'tag key, 100 devices match (site=bench)',
  tagAll: 'tag key, every device matches (type=thermostat)',
};
const TAGS: Record<Exclude<Kind, 'id'>, TagMatch[]> = {
  tag100: [{ key: 'site', value: 'bench' }],
  tagAll: [{ key: 'type', value: 'thermostat' }],
};

const AT = '2024-01-01T00:00:00.000Z';

function device(i: number, connector: boolean): Device {
  return {
    id: newId(),
    name: `${connector ? 'connector' : 'filler'} ${i}`,
    description: '',
    tags: [
      { key: 'type', value: 'thermostat' },
      ...(connector ? [{ key: 'site', value: 'bench' }] : [{ key: 'floor', value: String(i % 12) }]),
    ],
    deviceClass: 'standalone',
    creationDate: AT,
    lastUpdated: AT,
    connectionStatus: { status: 'disconnected', messagesFromClient: 0, messagesToClient: 0 },
  };
}

function key(name: string, restriction: Pick<AccessKeyRecord, 'deviceIds' | 'deviceTags'>, verifier: string) {
  const record: AccessKeyRecord = {
    id: newId(),
    key: generateKey(),
    name,
    status: 'active',
    ...restriction,
    addressFilterType: 'all',
    addresses: [],
    filterType: 'none',
    pubTopics: [],
    subTopics: [],
    creationDate: AT,
    lastUpdated: AT,
    createdVia: 'api',
    secretVerifier: verifier,
  };
  return record;
}

interface Built {
  devices: number;
  side: KeyportSide;
  store: Store;
  clients: Record<Kind, ConnectFields[]>;
  tagKeys: Record<Exclude<Kind, 'id'>, AccessKeyRecord>;
}

async function build(total: number): Promise<Built> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keyport-bench-tags-'));
  const unregister = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const pepper = await loadPepper(dataDir);
  const secret = generateSecret();
  const verifier = makeVerifier(secret, pepper);
  const connectors = Array.from({ length: CONNECTORS }, (_, i) => device(i, true));
  const devices = [...connectors];
  for (let i = CONNECTORS; i < total; i++) devices.push(device(i, false));
  const idKeys = connectors.map((d, i) => key(`device ${i}`, { deviceIds: [d.id] }, verifier));
  const tagKeys = {
    tag100: key('site=bench', { deviceTags: TAGS.tag100 }, verifier),
    tagAll: key('type=thermostat', { deviceTags: TAGS.tagAll }, verifier),
  };
  const store = createMemoryStore({ devices, keys: [...idKeys, tagKeys.tag100, tagKeys.tagAll] });
  const side = await startKeyport({ dataDir, store });
  const stop = side.stop;
  side.stop = async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
    unregister();
  };
  const as = (k: (i: number) => AccessKeyRecord): ConnectFields[] =>
    connectors.map((d, i) => ({ clientId: d.id, username: k(i).key, password: secret }));
  return {
    devices: total,
    side,
    store,
    tagKeys,
    clients: {
      id: as((i) => idKeys[i] as AccessKeyRecord),
      tag100: as(() => tagKeys.tag100),
      tagAll: as(() => tagKeys.tagAll),
    },
  };
}

/** µs to resolve the key's scope in-process: through the tag index, and by scanning every device. */
function resolveCost(b: Built, k: AccessKeyRecord, runs: number): { indexUs: number; scanUs: number } {
  const index = (item: TagMatch) => b.store.devicesTagged(item);
  const scan = scanTagLookup(() => b.store.listDevices());
  const time = (lookup: typeof index, n: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) resolveScope(k, lookup);
    return ((performance.now() - t0) * 1000) / n;
  };
  const scanRuns = Math.max(3, Math.round(runs / (b.devices / 1000)));
  return { indexUs: time(index, runs * 100), scanUs: time(scan, scanRuns) };
}

export async function benchTagScope(opts: BenchOptions): Promise<Section> {
  const sizes = [1_000, 10_000, 100_000];
  const connects = opts.quick ? 200 : 500;
  const rounds = opts.quick ? 3 : 5;
  const log = opts.log;
  const driver = await ClientDriver.start();
  const sides: Built[] = [];
  try {
    for (const n of sizes) {
      const t0 = performance.now();
      sides.push(await build(n));
      log(
        `tags: built a memory store with ${n.toLocaleString('en-US')} devices in ${Math.round(performance.now() - t0)} ms`,
      );
    }
    const samples = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      for (const b of sides) {
        for (const kind of KINDS) {
          const list = Array.from({ length: connects }, (_, i) => b.clients[kind][i % CONNECTORS] as ConnectFields);
          await b.side.settle();
          const cpu0 = b.side.cpuMs();
          const res = await driver.connect(b.side.port, list, { concurrency: 1, hold: false, capMs: 60_000 });
          await b.side.settle();
          const cpuUs = ((b.side.cpuMs() - cpu0) * 1000) / connects;
          if (res.connected !== connects)
            throw new Error(
              `tags: ${res.connected}/${connects} connects (${kind}, ${b.devices} devices): ${res.firstError ?? ''}`,
            );
          const id = `${b.devices}/${kind}`;
          samples.set(id, [...(samples.get(id) ?? []), cpuUs]);
          log(
            `tags: round ${r + 1}/${rounds}, ${b.devices.toLocaleString('en-US')} devices, ${kind}: ${fmt(cpuUs)} µs CPU per connect+disconnect`,
          );
        }
      }
    }
    const resolve = sides.map((b) => ({
      devices: b.devices,
      tag100: resolveCost(b, b.tagKeys.tag100, opts.quick ? 20 : 50),
      tagAll: resolveCost(b, b.tagKeys.tagAll, opts.quick ? 20 : 50),
    }));
    const cpu = (n: number, kind: Kind): number => median(samples.get(`${n}/${kind}`) ?? []);
    const rows = sizes.flatMap((n, i) =>
      KINDS.map((kind) => {
        const rc = kind === 'id' ? undefined : resolve[i]?.[kind];
        return [
          n.toLocaleString('en-US'),
          LABEL[kind],
          fmt(cpu(n, kind)),
          fmtRatio(ratio(cpu(n, kind), cpu(n, 'id'))),
          fmtRatio(ratio(cpu(n, kind), cpu(sizes[0] as number, kind))),
          rc ? fmt(rc.indexUs) : '',
          rc ? fmt(rc.scanUs) : '',
        ];
      }),
    );
    const big = sizes[sizes.length - 1] as number;
    const worst = Math.max(ratio(cpu(big, 'tag100'), cpu(big, 'id')), ratio(cpu(big, 'tagAll'), cpu(big, 'id')));
    return {
      id: 'tags',
      title: 'Tag scopes: CONNECT CPU for id- and tag-scoped keys at 1k / 10k / 100k devices',
      tables: [
        {
          title: `Tag scopes — ${connects} connect/disconnect cycles one at a time per key kind and round, median of ${rounds} alternating rounds`,
          header: [
            'devices',
            'key',
            'broker CPU µs/cycle',
            'vs single-device key',
            'vs 1k devices',
            'scope resolve µs (index)',
            'scope resolve µs (scan)',
          ],
          rows,
        },
      ],
      data: {
        connectsPerRound: connects,
        rounds,
        connect: sizes.map((n) => ({
          devices: n,
          ...Object.fromEntries(KINDS.map((k) => [`${k}CpuUs`, round(cpu(n, k), 1)])),
        })),
        resolve: resolve.map((r) => ({
          devices: r.devices,
          tag100IndexUs: round(r.tag100.indexUs, 3),
          tag100ScanUs: round(r.tag100.scanUs, 1),
          tagAllIndexUs: round(r.tagAll.indexUs, 3),
          tagAllScanUs: round(r.tagAll.scanUs, 1),
        })),
        ratios: { tagVsIdAt100k: round(worst, 3) },
      },
      targets: [
        {
          name: 'tag-scoped CONNECT CPU at 100k devices vs a single-device key (worse of the two tag keys)',
          value: round(worst, 3),
          limit: '≤ 1.5×',
          met: worst <= 1.5,
        },
      ],
      notes: [
        'Stores built directly with createMemoryStore; every device is tagged type=thermostat, the 100 connectors also site=bench. All three runtimes share this process (one heap).',
        '"scope resolve (scan)" is what resolving the same scope by scanning every device costs in-process: the per-CONNECT work the tag index removed.',
      ],
    };
  } finally {
    for (const b of sides) await b.side.stop().catch(() => {});
    driver.close();
  }
}
