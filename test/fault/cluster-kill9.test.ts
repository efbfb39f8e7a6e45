// kill -9 one node of three under QoS 1 load (issue 18, docs/design.md §12b): its devices reconnect
// to the other nodes (mqtt.js `servers`, the next node's URL on each reconnect), and every QoS 1
// PUBLISH that was acknowledged (PUBACK received by the device) reaches a subscriber on a surviving
// node. Real `keyport serve --cluster` processes (the built CLI), a real Redis, real mqtt.js clients.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllServes, startServeProcess, tempDir, type ServeRun } from '../helpers/cli.ts';
import { seedDevices, type ClusterDevice } from '../helpers/cluster-nodes.ts';
import { TEST_PEPPER } from '../helpers/fixtures.ts';
import { within } from '../helpers/mqtt-clients.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';

const NODES = 3;
const DEVICES = 30; // publishers, 10 a node
const KILL_AFTER = 300; // acknowledged PUBLISHes before the kill
const AFTER_RECONNECT = 5; // acknowledged PUBLISHes each moved device sends from its new node

let redis: RedisServer | undefined;
const clients: MqttClient[] = [];
const removers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await killAllServes();
  await redis?.stop();
  await Promise.all(removers.map((r) => r()));
});

/** One data directory seeded, then copied to each node's: the same devices, keys and pepper everywhere. */
async function nodeDirs(devices: ClusterDevice[]): Promise<string[]> {
  const t = await tempDir('keyport-fault-cluster-');
  removers.push(t.remove);
  const seed = join(t.dir, 'seed');
  await mkdir(seed);
  const data = {
    version: 1,
    applicationId: 'c'.repeat(24),
    devices: devices.map((d) => d.device),
    keys: devices.map((d) => d.key),
  };
  await writeFile(join(seed, 'keyport.json'), JSON.stringify(data), { mode: 0o600 });
  await writeFile(join(seed, 'pepper.key'), TEST_PEPPER, { mode: 0o600 });
  const dirs: string[] = [];
  for (let i = 0; i < NODES; i++) {
    const dir = join(t.dir, `node-${i}`);
    await mkdir(dir);
    for (const f of ['keyport.json', 'pepper.key']) await copyFile(join(seed, f), join(dir, f));
    dirs.push(dir);
  }
  return dirs;
}

function connectTo(nodes: ServeRun[], first: number, d: ClusterDevice, extra: mqtt.IClientOptions = {}): MqttClient {
  // Its own node first, then the others in turn: each reconnect goes to the next URL.
  const servers = nodes.map((_, k) => ({ host: '127.0.0.1', port: nodes[(first + k) % nodes.length]!.ready.mqtt }));
  const c = mqtt.connect({
    servers,
    protocol: 'mqtt',
    ...d.auth,
    reconnectPeriod: 50, // reconnect at once, as a fleet would; the broker it lands on is alive
    connectTimeout: 5_000,
    ...extra,
  });
  c.on('error', () => {}); // refused connects to the dead node surface as reconnects
  clients.push(c);
  return c;
}

describe('kill -9 one node of a cluster under QoS 1 load', () => {
  // Three serve start-ups, a Redis and 31 clients on a shared 2-core machine: about 10 s alone.
  it('its devices reconnect to the other nodes and nothing acknowledged is lost', { timeout: 90_000 }, async () => {
    redis = await startRedis();
    const [subscriber, ...publishers] = seedDevices(DEVICES + 1);
    const dirs = await nodeDirs([subscriber!, ...publishers]);
    const nodes: ServeRun[] = [];
    for (let i = 0; i < NODES; i++)
      nodes.push(await startServeProcess(dirs[i]!, ['--cluster', redis.url, '--node-id', `node-${i}`]));
    expect(nodes.map((n) => (n.ready as unknown as { cluster?: { nodeId: string } }).cluster?.nodeId)).toEqual([
      'node-0',
      'node-1',
      'node-2',
    ]);
    const victim = 0;
    const survivor = NODES - 1;

    const received = new Set<string>();
    const sub = connectTo([nodes[survivor]!], 0, subscriber!);
    sub.on('message', (_t, payload) => received.add(payload.toString()));
    await within(new Promise((r) => sub.once('connect', r)), 10_000, 'the subscriber CONNACK');
    await sub.subscribeAsync('load/#', { qos: 1 });

    const acked: string[] = [];
    let killed = false;
    let stop = false;
    const onVictim = new Map<string, { moved: boolean; ackedAfter: number }>();
    let allMoved = () => {};
    const moved = new Promise<void>((resolve) => (allMoved = resolve));
    const run = async (d: ClusterDevice, i: number): Promise<void> => {
      const home = i % NODES;
      const c = connectTo(nodes, home, d);
      if (home === victim) onVictim.set(d.device.id, { moved: false, ackedAfter: 0 });
      await within(new Promise((r) => c.once('connect', r)), 10_000, `device ${i} CONNACK`);
      c.on('connect', () => {
        const v = onVictim.get(d.device.id);
        if (v && killed) v.moved = true;
      });
      for (let n = 0; !stop; n++) {
        const payload = `${d.device.id}:${n}`;
        try {
          await c.publishAsync(`load/${d.device.id}`, payload, { qos: 1 });
        } catch {
          continue; // not acknowledged (the client gave up on it): it may or may not arrive
        }
        acked.push(payload);
        const v = onVictim.get(d.device.id);
        if (v?.moved) {
          v.ackedAfter++;
          if ([...onVictim.values()].every((x) => x.ackedAfter >= AFTER_RECONNECT)) allMoved();
        }
        if (!killed && acked.length >= KILL_AFTER) {
          killed = true;
          process.kill(nodes[victim]!.pid, 'SIGKILL');
        }
      }
    };
    const publishing = Promise.all(publishers.map((d, i) => run(d!, i)));
    await within(moved, 30_000, "the victim's devices publishing from their new nodes");
    stop = true;
    await publishing;
    const exit = await nodes[victim]!.exited;
    expect(exit.signal).toBe('SIGKILL');

    // Every acknowledged message reaches the subscriber (at least once: QoS 1 may repeat one).
    const allIn = new Promise<void>((resolve) => {
      const check = () => acked.every((p) => received.has(p)) && resolve();
      check();
      sub.on('message', check);
    });
    await within(allIn, 10_000, 'every acknowledged message at the subscriber').catch(() => {});
    const missing = acked.filter((p) => !received.has(p));
    const movedPorts = clients
      .slice(1)
      .filter((_c, i) => i % NODES === victim)
      .map((c) => (c.options as { port?: number }).port);
    console.log(
      `fault cluster-kill9: ${acked.length} QoS 1 PUBLISHes acknowledged (${KILL_AFTER} before kill -9 of node-${victim}), ` +
        `${onVictim.size} devices moved, ${missing.length} acknowledged but not received`,
    );
    expect(missing).toEqual([]);
    expect(movedPorts.every((p) => p !== nodes[victim]!.ready.mqtt)).toBe(true);
  });
});
