// Cluster: what a node of a Redis cluster costs against a single node (issue 18,
// docs/design.md §12b). Real `keyport serve` processes (the built CLI) so each node's CPU is its own process's
// (/proc/PID/stat); a real redis-server, whose CPU is reported too. Per round, alternating:
// N CONNECTs to the single node, N CONNECTs to cluster node A; COUNT QoS 0 messages publisher →
// subscriber on the single node, and publisher on A → subscriber on B. Medians after a warm-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { generateKey, generateSecret, generatePepper, makeVerifier } from '../src-main/core/secrets.ts';
import { startRedis } from '../test/helpers/redis-server.ts';
import { ClientDriver } from './lib/client-driver.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import type { BenchOptions, Section } from './lib/report.ts';
import { fmt, fmtRatio, median, ratio, round } from './lib/stats.ts';

const BIN = fileURLToPath(new URL('../bin/keyport.mjs', import.meta.url));
const TICK_MS = 10; // /proc/PID/stat counts CPU in clock ticks of 1/100 s (USER_HZ on Linux)

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
}

interface Node {
  pid: number;
  mqtt: number;
  child: ChildProcess;
}

function serve(dir: string, extra: string[]): Promise<Node> {
  const args = [BIN, 'serve', '--json', '--data', dir, '--limits', 'off'];
  for (const f of ['--mqtt-port', '--ws-port', '--tls-port', '--http-port']) args.push(f, '0');
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`keyport serve exited ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      child.stdout!.resume();
      resolve({ pid: child.pid!, mqtt: (JSON.parse(line) as { mqtt: number }).mqtt, child });
    });
  });
}

function stop(n: Node): Promise<void> {
  return new Promise((resolve) => {
    if (n.child.exitCode !== null) return resolve();
    n.child.once('exit', () => resolve());
    n.child.kill('SIGTERM');
  });
}

/** A data directory with `count` devices (one key each, every topic allowed) and its pepper. */
async function seed(dir: string, count: number): Promise<ConnectFields[]> {
  const pepper = generatePepper();
  const now = new Date().toISOString();
  const creds: ConnectFields[] = [];
  const devices = [];
  const keys = [];
  for (let i = 0; i < count; i++) {
    const id = randomBytes(12).toString('hex');
    const [key, secret] = [generateKey(), generateSecret()];
    devices.push({
      id,
      name: `bench ${i}`,
      description: '',
      tags: [],
      deviceClass: 'standalone',
      creationDate: now,
      lastUpdated: now,
    });
    keys.push({
      id: randomBytes(12).toString('hex'),
      key,
      status: 'active',
      addressFilterType: 'all',
      addresses: [],
      filterType: 'all',
      pubTopics: [],
      subTopics: [],
      creationDate: now,
      lastUpdated: now,
      createdVia: 'api',
      secretVerifier: makeVerifier(secret, pepper),
      deviceIds: [id],
    });
    creds.push({ clientId: id, username: key, password: secret });
  }
  const data = { version: 1, applicationId: randomBytes(12).toString('hex'), devices, keys };
  await writeFile(join(dir, 'keyport.json'), JSON.stringify(data), { mode: 0o600 });
  await writeFile(join(dir, 'pepper.key'), pepper, { mode: 0o600 });
  return creds;
}

export async function benchCluster(opts: BenchOptions): Promise<Section> {
  const connects = opts.quick ? 300 : 2000;
  const messages = opts.quick ? 3000 : 20_000;
  const rounds = opts.quick ? 2 : 5;
  const log = opts.log;
  const root = await mkdtemp(join(tmpdir(), 'keyport-bench-cluster-'));
  const redis = await startRedis();
  const driver = await ClientDriver.start();
  const nodes: Node[] = [];
  try {
    const seedDir = join(root, 'seed');
    await mkdir(seedDir);
    log(`cluster: seeding ${connects + 2} devices`);
    const creds = await seed(seedDir, connects + 2);
    const [pub, sub, ...fleet] = creds as [ConnectFields, ConnectFields, ...ConnectFields[]];
    const dirs = await Promise.all(
      ['single', 'a', 'b'].map(async (name) => {
        const d = join(root, name);
        await mkdir(d);
        for (const f of ['keyport.json', 'pepper.key']) await copyFile(join(seedDir, f), join(d, f));
        return d;
      }),
    );
    const single = await serve(dirs[0]!, []);
    nodes.push(single);
    const a = await serve(dirs[1]!, ['--cluster', redis.url, '--node-id', 'bench-a']);
    nodes.push(a);
    const b = await serve(dirs[2]!, ['--cluster', redis.url, '--node-id', 'bench-b']);
    nodes.push(b);
    const redisPid = redis.process.pid!;
    const s = { single: [] as number[], clustered: [] as number[], redisConn: [] as number[] };
    const m = { single: [] as number[], a: [] as number[], b: [] as number[], redisMsg: [] as number[] };
    for (let r = 0; r <= rounds; r++) {
      for (const [side, node] of [
        ['single', single],
        ['clustered', a],
      ] as const) {
        const c0 = cpuMsOf(node.pid);
        const r0 = cpuMsOf(redisPid);
        const res = await driver.connect(node.mqtt, fleet, { concurrency: 100, hold: true, capMs: 120_000 });
        await driver.release();
        if (res.connected !== fleet.length)
          throw new Error(`cluster: ${side} accepted ${res.connected}/${fleet.length}`);
        if (r === 0) continue; // warm-up
        s[side].push(((cpuMsOf(node.pid) - c0) * 1000) / fleet.length);
        if (side === 'clustered') s.redisConn.push(((cpuMsOf(redisPid) - r0) * 1000) / fleet.length);
      }
      for (const side of ['single', 'clustered'] as const) {
        const [pn, sn] = side === 'single' ? [single, single] : [a, b];
        const c0 = [cpuMsOf(pn.pid), cpuMsOf(sn.pid), cpuMsOf(redisPid)];
        const res = await driver.pubsub({
          port: pn.mqtt,
          subPort: sn.mqtt,
          pub,
          sub,
          topic: 'bench/cluster',
          count: messages,
          size: 100,
          qos: 0,
          window: 100,
          capMs: 120_000,
        });
        if (res.received !== messages) throw new Error(`cluster: ${side} delivered ${res.received}/${messages}`);
        if (r === 0) continue;
        const per = (ms: number) => (ms * 1000) / messages;
        if (side === 'single') m.single.push(per(cpuMsOf(pn.pid) - c0[0]!));
        else {
          m.a.push(per(cpuMsOf(pn.pid) - c0[0]!));
          m.b.push(per(cpuMsOf(sn.pid) - c0[1]!));
          m.redisMsg.push(per(cpuMsOf(redisPid) - c0[2]!));
        }
      }
      if (r > 0) log(`cluster: round ${r}/${rounds} done`);
    }
    const fig = {
      connectUsSingle: median(s.single),
      connectUsClustered: median(s.clustered),
      connectUsRedis: median(s.redisConn),
      msgUsSingle: median(m.single),
      msgUsPublisherNode: median(m.a),
      msgUsSubscriberNode: median(m.b),
      msgUsRedis: median(m.redisMsg),
    };
    return {
      id: 'cluster',
      title: `Cluster: per-node CPU, 2 nodes on one Redis vs a single node (${connects} CONNECTs, ${messages} QoS 0 messages of 100 B; median of ${rounds} alternating rounds after a warm-up)`,
      tables: [
        {
          title: 'CPU µs per operation, each process its own (/proc/PID/stat, 10 ms ticks)',
          header: ['operation', 'single node', 'cluster node(s)', 'vs single', 'Redis'],
          rows: [
            [
              'CONNECT (node accepting it)',
              fmt(fig.connectUsSingle),
              fmt(fig.connectUsClustered),
              fmtRatio(ratio(fig.connectUsClustered, fig.connectUsSingle)),
              fmt(fig.connectUsRedis),
            ],
            [
              'QoS 0 message, publisher node',
              fmt(fig.msgUsSingle),
              fmt(fig.msgUsPublisherNode),
              fmtRatio(ratio(fig.msgUsPublisherNode, fig.msgUsSingle)),
              fmt(fig.msgUsRedis),
            ],
            ['QoS 0 message, subscriber node', '(same node)', fmt(fig.msgUsSubscriberNode), '', ''],
          ],
        },
      ],
      data: Object.fromEntries(Object.entries(fig).map(([k, v]) => [k, round(v, 1)])),
      targets: [],
      notes: [
        'Single: publisher and subscriber on one node. Cluster: publisher on node A, subscriber on node B; every message goes A → Redis → B (and back to A, which has no subscriber).',
        'Each node is a `keyport serve` process; the client load comes from a separate worker process.',
      ],
    };
  } finally {
    driver.close();
    await Promise.all(nodes.map(stop));
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  }
}
