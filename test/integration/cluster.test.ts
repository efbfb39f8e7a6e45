// Cluster mode (docs/design.md §12b): two Keyport nodes on one real Redis, real mqtt.js and
// mosquitto clients on their TCP listeners. What one node's client publishes reaches the other
// node's subscribers (QoS 0 and 1), retained messages and persistent sessions are in Redis, and a
// device connecting on another node takes its session over (session.taken-over on the first).
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type ClusterDevice } from '../helpers/cluster-nodes.ts';
import {
  ClientPool,
  closed,
  collect,
  HAVE_MOSQUITTO,
  mosquitto,
  mosquittoAuth,
  nextMessage,
  subscribe,
  within,
} from '../helpers/mqtt-clients.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';

let redis: RedisServer;
let cluster: Cluster;
const pool = new ClientPool();
/** Clients made with mqtt.connect directly (to listen before CONNACK); ended after each test. */
const raw: MqttClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster(redis.url, { nodes: 2, devices: 6 });
});
afterEach(async () => {
  await pool.endAll();
  await Promise.all(raw.splice(0).map((c) => c.endAsync(true)));
});
afterAll(async () => {
  await pool.endAll();
  await cluster?.stop();
  await redis?.stop();
});

const node = (i: number) => cluster.nodes[i]!;
const dev = (i: number): ClusterDevice => cluster.devices[i]!;
const connect = (n: number, d: ClusterDevice, extra: Record<string, unknown> = {}): Promise<MqttClient> =>
  pool.connect(node(n).mqttUrl, { ...d.auth, ...extra });

describe('cross-node delivery', () => {
  it('a subscriber on node A receives what a device on node B publishes, at QoS 0 and QoS 1', async () => {
    const sub = await connect(0, dev(0));
    await subscribe(sub, ['plant/+/temp'], 1);
    const pub = await connect(1, dev(1));
    const got = collect(sub);
    const q0 = nextMessage(sub, 'plant/q0/temp');
    await pub.publishAsync('plant/q0/temp', 'zero', { qos: 0 });
    expect((await q0).payload).toBe('zero');
    const q1 = new Promise<{ qos: number; payload: string }>((resolve) =>
      sub.on('message', (t, p, packet) => t === 'plant/q1/temp' && resolve({ qos: packet.qos, payload: String(p) })),
    );
    await pub.publishAsync('plant/q1/temp', 'one', { qos: 1 }); // resolves on PUBACK from node B
    expect(await within(q1, 5_000, 'the QoS 1 message on node A')).toEqual({ qos: 1, payload: 'one' });
    expect(got.map((m) => m.payload)).toEqual(['zero', 'one']); // each exactly once
  });

  it.skipIf(!HAVE_MOSQUITTO)(
    'mosquitto_pub on node B reaches mqtt.js on node A, and mosquitto_sub on B gets a retained message set on A',
    async () => {
      const sub = await connect(0, dev(2));
      await subscribe(sub, ['mq/live'], 1);
      const live = nextMessage(sub, 'mq/live');
      const pub = await mosquitto('mosquitto_pub', [
        ...mosquittoAuth(node(1).rt.ports.mqtt, dev(3).device.id, dev(3).key.key, dev(3).secret),
        '-t',
        'mq/live',
        '-m',
        'from-mosquitto',
        '-q',
        '1',
      ]);
      expect(pub.code).toBe(0);
      expect((await live).payload).toBe('from-mosquitto');

      const set = await mosquitto('mosquitto_pub', [
        ...mosquittoAuth(node(0).rt.ports.mqtt, dev(3).device.id, dev(3).key.key, dev(3).secret),
        '-t',
        'mq/retained',
        '-m',
        'kept',
        '-q',
        '1',
        '-r',
      ]);
      expect(set.code).toBe(0);
      const read = await mosquitto('mosquitto_sub', [
        ...mosquittoAuth(node(1).rt.ports.mqtt, dev(2).device.id + '', dev(2).key.key, dev(2).secret),
        '-t',
        'mq/retained',
        '-C',
        '1',
        '-W',
        '5',
        '-v',
      ]);
      expect(read.stdout.trim()).toBe('mq/retained kept');
    },
  );
});

describe('state in Redis', () => {
  it('a retained message published on node B is delivered, flagged retained, to a later subscriber on node A', async () => {
    const pub = await connect(1, dev(1));
    await pub.publishAsync('cfg/setpoint', '21.5', { qos: 1, retain: true });
    await pub.endAsync();
    const sub = await connect(0, dev(0));
    const got = nextMessage(sub, 'cfg/setpoint');
    await subscribe(sub, ['cfg/#'], 1);
    expect(await got).toEqual({ payload: '21.5', retain: true });
  });

  it('a persistent session made on node A gets, on node B, the QoS 1 messages published while it was away', async () => {
    const d = dev(4);
    const first = await connect(0, d, { clean: false });
    await subscribe(first, ['jobs/#'], 1);
    await first.endAsync();
    const pub = await connect(1, dev(5));
    for (const n of [1, 2, 3]) await pub.publishAsync(`jobs/${n}`, `job ${n}`, { qos: 1 });
    // Queued messages follow the CONNACK at once: listen before the connection exists.
    const again = mqtt.connect(node(1).mqttUrl, { ...d.auth, clean: false, reconnectPeriod: 0 });
    raw.push(again);
    const got = collect(again);
    const connack = new Promise<{ sessionPresent: boolean }>((resolve) => again.once('connect', resolve));
    expect((await within(connack, 5_000, 'CONNACK from node B')).sessionPresent).toBe(true);
    const all = new Promise<void>((resolve) => {
      const check = () => got.length >= 3 && resolve();
      check();
      again.on('message', check);
    });
    await within(all, 5_000, 'three queued messages on node B');
    expect(got.map((m) => m.payload).sort()).toEqual(['job 1', 'job 2', 'job 3']);
  });
});

describe('takeover across nodes', () => {
  it('the same device connecting on node B closes its connection on node A, which records session.taken-over', async () => {
    const d = dev(0);
    const onA = await connect(0, d);
    // Only decisions from here on: earlier tests closed this device's connections too.
    const since = Math.max(
      0,
      ...node(0)
        .rt.service.feed.list()
        .map((e) => e.seq),
    );
    const goneA = closed(onA);
    const onB = await connect(1, d);
    await goneA;
    const dc = await node(0).decision((e) => e.seq > since && e.action === 'disconnect' && e.deviceId === d.device.id);
    expect(dc).toMatchObject({ reason: 'session.taken-over', result: 'denied', keyId: d.key.id });
    expect(node(0).rt.broker.sessions.forDevice(d.device.id)).toBeUndefined();
    expect(node(1).rt.broker.sessions.forDevice(d.device.id)).toBeDefined();
    // The shared store still says connected: node A's close is not the device going away.
    expect(cluster.store.getDevice(d.device.id)?.connectionStatus?.status).toBe('connected');
    expect(onB.connected).toBe(true);
  });
});
