// Cluster mode's failures (docs/design.md §12b): a bad --cluster value, a Redis that is not there at
// start, and Redis going away and coming back while a node runs. Each is one clear line naming the
// URL with its password masked; never a stack trace, never the password. And a closed node leaves
// no connection open in Redis.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterStartError } from '../../src-main/broker/cluster-engine.ts';
import { startRuntime } from '../../src-main/server/runtime.ts';
import { keyport, tempDir } from '../helpers/cli.ts';
import { startCluster, type Cluster } from '../helpers/cluster-nodes.ts';
import { ClientPool, closed, nextMessage, subscribe } from '../helpers/mqtt-clients.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.ts';

const PASSWORD = 'hunter2-cluster-pw';
const cleanups: Array<() => Promise<unknown>> = [];
const pool = new ClientPool();
afterAll(async () => {
  await pool.endAll();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const PORTS = ['--mqtt-port', '0', '--ws-port', '0', '--tls-port', '0', '--http-port', '0', '--json'];

describe('keyport serve --cluster: bad values', () => {
  it.each([
    ['http://127.0.0.1:6379', /--cluster: .*scheme must be redis:\/\/ or rediss:\/\//],
    ['not a url', /--cluster: .*is not a URL/],
    ['redis://127.0.0.1:6379/abc', /--cluster: .*database number/],
  ])('--cluster %s exits 2 naming the flag', async (value, message) => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const r = await keyport(t.dir, ['serve', '--cluster', value, ...PORTS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--node-id with a space, or without --cluster, exits 2 naming the flag', async () => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const bad = await keyport(t.dir, ['serve', '--cluster', 'redis://127.0.0.1:1', '--node-id', 'a b', ...PORTS]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--node-id: node id "a b" must be/)]);
    const alone = await keyport(t.dir, ['serve', '--node-id', 'n1', ...PORTS]);
    expect([alone.code, alone.stderr]).toEqual([2, expect.stringMatching(/--node-id needs --cluster/)]);
  });
});

describe('Redis not there at start', () => {
  it('startRuntime rejects with one error naming the URL (password masked), and releases the data directory', async () => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const port = await freePort(); // nothing listens there
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    const opts = { dataDir: t.dir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {} };
    const err = await startRuntime({ ...opts, cluster: { url } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterStartError);
    expect((err as Error).message).toBe(
      `cannot reach the cluster's Redis at redis://:***@127.0.0.1:${port}: ECONNREFUSED`,
    );
    // The lock went with the failed start: the same directory starts without a cluster.
    const rt = await startRuntime(opts);
    await rt.close();
  });

  it('keyport serve exits 1 with that line on stderr: no stack trace, no password', async () => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const port = await freePort();
    const r = await keyport(t.dir, ['serve', '--cluster', `redis://:${PASSWORD}@127.0.0.1:${port}`, ...PORTS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keyport: cannot reach the cluster's Redis at redis://:***@127.0.0.1:${port}: ECONNREFUSED\n`,
    );
    expect(r.stdout).toBe('');
  });

  it('KEYPORT_CLUSTER is read when --cluster is not given', async () => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const r = await keyport(t.dir, ['serve', ...PORTS], { env: { KEYPORT_CLUSTER: 'ftp://x' } });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/^keyport: KEYPORT_CLUSTER: .*scheme/)]);
  });
});

describe('Redis going away while a node runs', () => {
  let redis: RedisServer;
  let cluster: Cluster;

  it('logs one line when Redis goes and one when it is back (password masked), then delivers again', async () => {
    redis = await startRedis(['--requirepass', PASSWORD]);
    cleanups.push(() => redis.stop());
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    cluster = await startCluster(url, { nodes: 1, devices: 1 });
    cleanups.push(() => cluster.stop());
    const n = cluster.nodes[0]!;
    const masked = `redis://:***@127.0.0.1:${redis.port}`;
    const lost = n.logLine((l) => l.includes('lost the cluster'));
    await redis.stop();
    expect(await lost).toMatch(
      new RegExp(`^keyport: lost the cluster's Redis at ${escape(masked)} \\(\\w+\\); reconnecting`),
    );
    // A new Redis on the same port (the later --port wins over the helper's).
    const back = n.logLine((l) => l.includes('is back'));
    redis = await startRedis(['--requirepass', PASSWORD, '--port', String(redis.port)]);
    cleanups.push(() => redis.stop());
    expect(await back).toBe(`keyport: the cluster's Redis at ${masked} is back`);
    expect(n.logs.filter((l) => l.includes('lost the cluster'))).toHaveLength(1);
    expect(n.logs.join('\n')).not.toContain(PASSWORD);
    // The emitter re-subscribed: a message goes through Redis and back to a subscriber.
    const d = cluster.devices[0]!;
    const c = await pool.connect(n.mqttUrl, d.auth);
    await subscribe(c, ['again/#'], 1);
    const got = nextMessage(c, 'again/x');
    await c.publishAsync('again/x', 'after the outage', { qos: 1 });
    expect((await got).payload).toBe('after the outage');
  });
});

describe('closing a node', () => {
  it('closes its three Redis connections', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const admin = new Redis(redis.url);
    cleanups.push(() => admin.quit());
    const cluster = await startCluster(redis.url, { nodes: 1, devices: 1 });
    cleanups.push(() => cluster.stop());
    const ours = async () =>
      String(await admin.client('LIST'))
        .split('\n')
        .filter((l) => l.includes('name=keyport:node-0')).length;
    expect(await ours()).toBe(3);
    await cluster.stop();
    expect(await ours()).toBe(0);
  });
});

describe('closing a node while Redis is away', () => {
  // 60 s: a Redis and a cluster node start, then ioredis must notice the lost connection; about
  // 3 s alone, but it passed the suite's 20 s beside two busy loops (seen once, 2026-12-02).
  it('does not wait for Redis: the node closes and its clients are disconnected', { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const cluster = await startCluster(redis.url, { nodes: 1, devices: 1 });
    cleanups.push(() => cluster.stop());
    const n = cluster.nodes[0]!;
    const c = await pool.connect(n.mqttUrl, { ...cluster.devices[0]!.auth, clean: false });
    await subscribe(c, ['held/#'], 1);
    const lost = n.logLine((l) => l.includes('lost the cluster'));
    await redis.stop();
    await lost;
    const gone = closed(c, 10_000); // 10 s: the close is immediate; ioredis' own give-up would take ~40 s
    await n.stop();
    await gone;
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
