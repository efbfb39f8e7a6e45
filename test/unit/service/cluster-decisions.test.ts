// The merged decision stream against a real redis-server (docs/design.md §8 "Clustered"): a
// reader that loses its connection resumes after the last id it saw (nothing lost, nothing twice),
// and with Redis gone appends stay bounded and warn without holding up the feed.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterDecisions } from '../../../src-main/service/cluster-decisions.ts';
import { rateLimitedWarn } from '../../../src-main/service/cluster-redis.ts';
import { DecisionFeed } from '../../../src-main/service/decision-feed.ts';
import type { NewDecision } from '../../../src-main/shared/ports.ts';
import { within } from '../../helpers/mqtt-clients.ts';
import { freePort, startRedis, type RedisServer } from '../../helpers/redis-server.ts';

let redis: RedisServer;
const open: ClusterDecisions[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const d of open) await d.close();
  await redis?.stop();
});

const decision = (n: number): NewDecision => ({
  transport: 'tcp',
  action: 'publish',
  result: 'allowed',
  reason: 'publish.allowed',
  rule: `rule ${n}`,
  topic: `t/${n}`,
});

async function node(
  id: string,
  key: string,
  extra: { maxQueue?: number; maxLen?: number; perEntry?: number; warn?: (k: string, m: string) => void } = {},
) {
  const feed = new DecisionFeed(1000);
  feed.node = id;
  const d = await ClusterDecisions.start({
    url: redis.url,
    nodeId: id,
    feed,
    key,
    warn: extra.warn ?? (() => {}),
    ...(extra.maxQueue ? { maxQueue: extra.maxQueue } : {}),
    ...(extra.maxLen ? { maxLen: extra.maxLen } : {}),
    ...(extra.perEntry ? { perEntry: extra.perEntry } : {}),
  });
  open.push(d);
  return { feed, d };
}

/** Resolves once `feed` holds `n` events from `node`. */
function merged(feed: DecisionFeed, node: string, n: number) {
  const count = () => feed.list().filter((e) => e.node === node).length;
  if (count() >= n) return Promise.resolve();
  let off = () => {};
  // 10 s: the events cross loopback Redis in milliseconds, after a reconnect within a second.
  return within(
    new Promise<void>((resolve) => {
      off = feed.events.on('decision', () => {
        if (count() >= n) resolve();
      });
    }),
    10_000,
    `${n} events from ${node}`,
  ).finally(() => off());
}

describe('cluster decision stream', () => {
  it('resumes after a dropped connection from the last id: every event once, in order', async () => {
    const x = await node('x', 'k1');
    const y = await node('y', 'k1');
    for (let i = 0; i < 5; i++) y.feed.record(decision(i));
    await merged(x.feed, 'y', 5);
    const admin = new Redis(redis.url);
    // x's reader drops; y appends before x is back (ioredis reconnects after 100 ms at the earliest).
    const list = (await admin.client('LIST')) as string;
    const readerId = /id=(\d+) .*name=keyport-x-decisions-reader/.exec(list)?.[1];
    expect(readerId).toBeDefined();
    await admin.client('KILL', 'ID', readerId!);
    for (let i = 5; i < 10; i++) y.feed.record(decision(i));
    await merged(x.feed, 'y', 10);
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'); // now every node connection drops
    for (let i = 10; i < 20; i++) y.feed.record(decision(i)); // queued on y while it reconnects
    await merged(x.feed, 'y', 20);
    const rules = x.feed
      .list()
      .filter((e) => e.node === 'y')
      .map((e) => e.rule);
    expect(rules).toEqual(Array.from({ length: 20 }, (_, i) => `rule ${i}`));
    const entries = await admin.xrange('k1', '-', '+');
    const inStream = entries.flatMap(([, f]) => JSON.parse(f[3]!) as unknown[]);
    expect(inStream).toHaveLength(20); // each event appended once, although connections dropped
    await admin.quit();
  });

  it('packs events into bounded entries and keeps the stream bounded', async () => {
    const z = await node('z', 'k2', { maxLen: 10, perEntry: 10 });
    for (let i = 0; i < 3000; i++) z.feed.record(decision(i));
    await z.d.close(); // sends everything still queued
    expect(z.d.counts.appended).toBe(3000);
    const admin = new Redis(redis.url);
    const len = await admin.xlen('k2');
    expect(len).toBeLessThan(300); // 300 entries were added
    expect(len).toBeGreaterThanOrEqual(10); // MAXLEN ~ trims whole macro nodes, never below the bound
    const [[, fields] = ['', []]] = await admin.xrevrange('k2', '+', '-', 'COUNT', 1);
    expect(fields.slice(0, 2)).toEqual(['node', 'z']);
    const last = JSON.parse(fields[3]!) as Array<{ rule: string; node: string }>;
    expect(last.map((e) => e.rule)).toEqual(Array.from({ length: 10 }, (_, i) => `rule ${2990 + i}`));
    await admin.quit();
  });

  it('with Redis gone, recording never waits, the queue stays bounded and the warnings are rate-limited', async () => {
    const own = await startRedis();
    const lines: string[] = [];
    let down!: () => void;
    const isDown = new Promise<void>((r) => (down = r));
    const feed = new DecisionFeed(1000);
    feed.node = 'w';
    const warn = rateLimitedWarn((l) => lines.push(l));
    const d = await ClusterDecisions.start({
      url: own.url,
      nodeId: 'w',
      feed,
      key: 'k3',
      maxQueue: 10,
      warn: (k, m) => {
        if (k.startsWith('redis-')) down();
        warn(k, m);
      },
    });
    await own.stop();
    // 10 s: ioredis sees the closed socket at once; the bound only names an event that never came.
    await within(isDown, 10_000, 'the connection error');
    for (let i = 0; i < 100; i++) feed.record(decision(i));
    expect(feed.size).toBe(100);
    expect(d.queued).toBeLessThanOrEqual(10);
    expect(d.counts.dropped).toBeGreaterThanOrEqual(90);
    expect(lines.filter((l) => l.includes('not sent to the cluster stream'))).toHaveLength(1);
    await d.close(); // returns although Redis is gone
  });
});

describe('cluster decision stream, no Redis', () => {
  it('fails to start with an error naming the role and the URL without its password', async () => {
    const port = await freePort(); // nothing listens there
    const feed = new DecisionFeed(10);
    const start = ClusterDecisions.start({
      url: `redis://:pw-123@127.0.0.1:${port}`,
      nodeId: 'n',
      feed,
      warn: () => {},
    });
    await expect(start).rejects.toThrow(
      /cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/? \(decisions writer\)/,
    );
    await expect(start).rejects.not.toThrow(/pw-123/);
  });
});
