// Issue 18 item 3: one picture of the cluster, with a real redis-server and real Keyport nodes on
// port 0 (each its own data directory, one shared in-memory store and the same pepper, as the
// Redis store will give them), real mqtt.js clients. docs/design.md §8 "Clustered", §7a.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNodeInfo } from '../../src-main/contract.ts';
import type { AccessKey } from '../../src-main/core/types.ts';
import { attachClusterViews, type ClusterViews } from '../../src-main/server/cluster-views.ts';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { PEPPER_FILE } from '../../src-main/service/data-dir.ts';
import { createMemoryStore } from '../../src-main/store/memory-store.ts';
import type { Store } from '../../src-main/store/store.ts';
import { ClientPool, within } from '../helpers/mqtt-clients.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { backendHelpers } from '../helpers/runtime-harness.ts';

interface Node {
  id: string;
  rt: Runtime;
  views: ClusterViews;
  dir: string;
  mqttUrl: string;
  helpers: ReturnType<typeof backendHelpers>;
}

let redis: RedisServer;
let store: Store;
let clock = 5_000_000;
const nodes: Node[] = [];
const dirs: string[] = [];
const pool = new ClientPool();
const logs: string[] = [];
let a: Node;
let b: Node;

async function startNode(id: string, pepperFrom?: string): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), `keyport-cluster-${id}-`));
  dirs.push(dir);
  if (pepperFrom) await copyFile(join(pepperFrom, PEPPER_FILE), join(dir, PEPPER_FILE));
  const rt = await startRuntime({
    dataDir: dir,
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    store,
    limits: 'losant',
    now: () => clock,
    decisionLog: false,
    log: (l) => logs.push(l),
  });
  const views = await attachClusterViews({
    redisUrl: redis.url,
    nodeId: id,
    service: rt.service,
    broker: rt.broker,
    ports: () => rt.ports,
    log: (l) => logs.push(l),
    // 100 ms beats, 600 ms TTL: a dead node is gone within a second (production: 1 s and 5 s).
    heartbeatMs: 100,
    ttlMs: 600,
  });
  const node = {
    id,
    rt,
    views,
    dir,
    mqttUrl: `mqtt://127.0.0.1:${rt.ports.mqtt}`,
    helpers: backendHelpers(rt.service),
  };
  nodes.push(node);
  return node;
}

async function stopNode(n: Node, opts?: { deregister?: boolean }): Promise<void> {
  nodes.splice(nodes.indexOf(n), 1);
  await n.views.close(opts);
  await n.rt.close();
}

/** Resolves with A's node list once `pred` holds for it (checked on every heartbeat). */
function nodesUntil(n: Node, pred: (list: ClusterNodeInfo[]) => boolean, what: string): Promise<ClusterNodeInfo[]> {
  const now = n.views.nodes.list();
  if (pred(now)) return Promise.resolve(now);
  let off = () => {};
  // 5 s: a heartbeat comes every 100 ms and a TTL is 600 ms; the bound only names what never came.
  return within(
    new Promise<ClusterNodeInfo[]>((resolve) => {
      off = n.views.nodes.events.on('nodes', (list) => {
        if (pred(list)) resolve(list);
      });
    }),
    5_000,
    what,
  ).finally(() => off());
}

beforeAll(async () => {
  redis = await startRedis();
  // The shared store stands in for the Redis store (w5-redis-store): both nodes see one set of keys.
  store = createMemoryStore();
  a = await startNode('node-a');
  b = await startNode('node-b', a.dir);
});
afterEach(() => pool.endAll());
afterAll(async () => {
  for (const n of [...nodes].reverse()) await stopNode(n).catch(() => {});
  await redis?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  // No secret reaches a log line (the Redis URL has none here; the access-key secrets never do).
  expect(logs.join('\n')).not.toMatch(/secret/i);
});

type Key = { accessKey: AccessKey; secret: string };
async function deviceWithKey(n: Node): Promise<{ id: string; k: Key }> {
  const d = await n.helpers.device();
  return { id: d.id, k: await n.helpers.key({ deviceIds: [d.id], filterType: 'all' }) };
}

describe('cluster views (real Redis, two nodes)', () => {
  it("a CONNECT denied on node B shows up in node A's decision feed, naming node B", async () => {
    const { id, k } = await deviceWithKey(a);
    const refused = await pool.refusal(b.mqttUrl, {
      clientId: id,
      username: k.accessKey.key,
      password: 'not-the-secret',
    });
    expect(refused.code).toBe(4);
    const onB = await b.helpers.decision((e) => e.deviceId === id && e.action === 'connect');
    expect(onB).toMatchObject({ node: 'node-b', result: 'denied', reason: 'secret.mismatch' });
    const onA = await a.helpers.decision((e) => e.deviceId === id && e.action === 'connect');
    expect(onA).toMatchObject({ node: 'node-b', result: 'denied', reason: 'secret.mismatch', time: onB.time });
    expect(JSON.stringify(a.rt.service.feed.list())).not.toContain(k.secret);
    // A's own decisions name A, and are not merged back from the stream a second time.
    const ok = await pool.connect(a.mqttUrl, { clientId: id, username: k.accessKey.key, password: k.secret });
    const accepted = await a.helpers.decision((e) => e.deviceId === id && e.reason === 'connect.accepted');
    expect(accepted.node).toBe('node-a');
    const onB2 = await b.helpers.decision((e) => e.deviceId === id && e.reason === 'connect.accepted');
    expect(onB2.node).toBe('node-a');
    await ok.endAsync();
    await b.helpers.decision((e) => e.deviceId === id && e.action === 'disconnect' && e.node === 'node-a');
    expect(a.rt.service.feed.list().filter((e) => e.deviceId === id && e.reason === 'connect.accepted')).toHaveLength(
      1,
    );
  });

  it("node A lists nodes A and B with B's client, and the status names each client's node", async () => {
    const { id, k } = await deviceWithKey(a);
    const c = await pool.connect(b.mqttUrl, { clientId: id, username: k.accessKey.key, password: k.secret });
    const list = await nodesUntil(
      a,
      (l) => l.some((n) => n.nodeId === 'node-b' && n.clients.some((x) => x.deviceId === id)),
      "node B's entry listing its client",
    );
    expect(list.map((n) => [n.nodeId, n.self])).toEqual([
      ['node-a', true],
      ['node-b', false],
    ]);
    const nb = list.find((n) => n.nodeId === 'node-b')!;
    expect(nb.clients.find((x) => x.deviceId === id)).toMatchObject({ keyId: k.accessKey.id, transport: 'tcp' });
    expect(nb.listeners?.mqtt).toBe(b.rt.ports.mqtt);
    expect(nb.clientCount).toBe(1);
    const statusB = b.views.status(b.rt.broker.status(b.rt.ports));
    expect(statusB.clients.find((x) => x.deviceId === id)?.node).toBe('node-b');
    expect(statusB.nodes?.map((n) => n.nodeId)).toEqual(['node-b', 'node-a']);
    await c.endAsync();
  });

  it('a device banned on node A is refused on node B for the rest of the ban, and escalates there', async () => {
    const { id, k } = await deviceWithKey(a);
    const creds = { clientId: id, username: k.accessKey.key, password: k.secret };
    const imported = new Promise<void>((resolve) => {
      const off = b.views.limits.events.on('imported', (ban) => {
        if (ban.deviceId !== id) return;
        off();
        resolve();
      });
    });
    const c = await pool.connect(a.mqttUrl, creds);
    const topic = `losant/${id}/state`;
    for (let i = 0; i < 30; i++) await c.publishAsync(topic, JSON.stringify({ data: { n: i } }), { qos: 1 });
    c.publish(topic, JSON.stringify({ data: { n: 31 } }), { qos: 1 });
    await a.helpers.decision((e) => e.deviceId === id && e.reason === 'limit.topic-rate');
    // 5 s: the ban crosses Redis pub/sub in milliseconds; the bound only names a ban that never came.
    await within(imported, 5_000, 'node B importing the ban');
    clock += 10_000;
    const refused = await pool.refusal(b.mqttUrl, creds);
    expect(refused.code).toBe(5);
    const onB = await b.helpers.decision((e) => e.deviceId === id && e.reason === 'limit.banned');
    expect(onB.rule).toContain('20 s more (ban level 1');
    // A sees B's refusal in its own feed.
    await a.helpers.decision((e) => e.deviceId === id && e.reason === 'limit.banned' && e.node === 'node-b');
    clock += 21_000; // the ban is over: B admits the device, and a second offence there is level 2
    const again = await pool.connect(b.mqttUrl, creds);
    for (let i = 0; i < 30; i++) await again.publishAsync(topic, JSON.stringify({ data: { n: i } }), { qos: 1 });
    again.publish(topic, JSON.stringify({ data: { n: 31 } }), { qos: 1 });
    const second = await b.helpers.decision(
      (e) => e.deviceId === id && e.reason === 'limit.topic-rate' && e.node === 'node-b',
    );
    expect(second.rule).toContain('banned for 60 s (ban level 2)');
    clock += 3_600_000 * 3; // past every ban and its memory: the other tests' devices are unaffected
  });

  it("the application's connection rate is summed across nodes", async () => {
    // Node B says (through its heartbeat) how many devices it admitted in the window; A adds them.
    const before = a.rt.broker.losant.app.connectsInWindow(clock);
    const devices = await Promise.all(Array.from({ length: 3 }, () => deviceWithKey(a)));
    for (const { id, k } of devices)
      await pool.connect(b.mqttUrl, { clientId: id, username: k.accessKey.key, password: k.secret });
    const onB = b.rt.broker.losant.app.connectsInWindow(clock);
    expect(onB).toBeGreaterThanOrEqual(3);
    await nodesUntil(a, () => a.views.limits.connectsElsewhere() >= onB, "node B's connect count reaching A");
    expect(a.views.limits.connectsElsewhere()).toBe(onB);
    expect(a.rt.broker.losant.app.connectsInWindow(clock)).toBe(before);
  });

  it("a node that dies drops out of the others' lists after its TTL", async () => {
    const c = await startNode('node-c', a.dir);
    await nodesUntil(a, (l) => l.some((n) => n.nodeId === 'node-c'), 'node C appearing on A');
    await stopNode(c, { deregister: false }); // its entry is left to expire, as after kill -9
    const list = await nodesUntil(a, (l) => !l.some((n) => n.nodeId === 'node-c'), 'node C dropping out of A');
    expect(list.map((n) => n.nodeId)).toEqual(['node-a', 'node-b']);
  });
});
