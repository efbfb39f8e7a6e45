// Two in-process Keyport nodes sharing one Redis store (issue 18 item 2): a change made through
// node A's service reaches the live MQTT sessions of node B by the path a local change takes
// (service/cluster-sync.ts → watchSessions, docs/design.md §4a). Real redis-server, real
// runtimes on port 0 with separate data directories, real mqtt.js clients.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { loadClusterSecrets } from '../../src-main/service/cluster-secrets.ts';
import { followClusterChanges } from '../../src-main/service/cluster-sync.ts';
import { openRedisStore, type RedisStore } from '../../src-main/store/redis-store.ts';
import { makeTempDir, removeTempDir } from '../helpers/fixtures.ts';
import { ClientPool, closed, decisionsFrom, nextStatus } from '../helpers/mqtt-clients.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { backendHelpers, type BackendHarness } from '../helpers/runtime-harness.ts';

interface Node extends BackendHarness {
  rt: Runtime;
  store: RedisStore;
  mqttUrl: string;
}

let server: RedisServer;
let raw: Redis;
let a: Node;
let b: Node;
const nodes: Node[] = [];
const pool = new ClientPool();
const noLog = () => undefined;

async function startNode(): Promise<Node> {
  const dataDir = await makeTempDir();
  const secrets = await loadClusterSecrets(raw, dataDir, { log: noLog });
  // What the runtime does when clustered: the node runs with the cluster's pepper and token
  // (here through the data directory's files, which the runtime reads).
  await writeFile(join(dataDir, 'pepper.key'), secrets.pepper, { mode: 0o600 });
  await writeFile(join(dataDir, 'admin-token'), `${secrets.adminToken}\n`, { mode: 0o600 });
  const store = await openRedisStore(server.url, { log: noLog });
  const rt = await startRuntime({
    dataDir,
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: noLog,
    limits: 'off',
    decisionLog: false,
    store,
  });
  const unfollow = followClusterChanges(rt.service, store);
  const node: Node = {
    rt,
    store,
    mqttUrl: `mqtt://127.0.0.1:${rt.ports.mqtt}`,
    ...backendHelpers(rt.service),
    async stop() {
      unfollow();
      await rt.close();
      await removeTempDir(dataDir);
    },
  };
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  server = await startRedis();
  raw = new Redis(server.url);
  a = await startNode();
  b = await startNode();
});
afterEach(() => pool.endAll());
afterAll(async () => {
  await pool.endAll();
  for (const n of nodes) await n.stop().catch(() => undefined);
  raw?.disconnect();
  await server?.stop();
});

type Key = { accessKey: AccessKey; secret: string };
const creds = (d: Device, k: Key): IClientOptions => ({
  clientId: d.id,
  username: k.accessKey.key,
  password: k.secret,
});
const uniqueTag = () => ({ key: 'zone', value: `z-${randomBytes(6).toString('hex')}` });

/** A device and a key made through node A, connected through node B. */
async function connectedOnB(keyInput: (d: Device, tag: { key: string; value: string }) => Record<string, unknown>) {
  const tag = uniqueTag();
  const device = await a.device({ tags: [tag] });
  const key = await a.key(keyInput(device, tag));
  await b.store.caughtUp();
  const client = await pool.connect(b.mqttUrl, creds(device, key));
  return { tag, device, key, client };
}

describe('two nodes on one Redis store', () => {
  it('both nodes verify with the same pepper: a key made on A connects on B', async () => {
    expect(a.rt.service.pepper).toEqual(b.rt.service.pepper);
    expect(a.rt.adminToken).toBe(b.rt.adminToken);
    const { client, key } = await connectedOnB((d) => ({ deviceIds: [d.id] }));
    expect(client.connected).toBe(true);
    expect(b.rt.broker.sessions.forKey(key.accessKey.id)).toHaveLength(1);
  });

  it('a key set inactive through A closes its session on B, and B’s decision says why', async () => {
    const { device, key, client } = await connectedOnB((d) => ({ deviceIds: [d.id] }));
    const onB = decisionsFrom(b);
    const gone = closed(client);
    await a.rt.service.keys.update(key.accessKey.id, { status: 'inactive' });
    await gone;
    const e = await onB((x) => x.action === 'disconnect' && x.deviceId === device.id);
    expect(e).toMatchObject({ reason: 'key.inactive', keyId: key.accessKey.id });
    expect(JSON.stringify(e)).not.toContain(key.secret);
    expect((await pool.refusal(b.mqttUrl, creds(device, key))).code).toBe(5);
  });

  it('a device deleted through A closes its session on B (device.unknown)', async () => {
    const { device, client } = await connectedOnB((d) => ({ deviceIds: [d.id] }));
    const onB = decisionsFrom(b);
    const gone = closed(client);
    await a.rt.service.devices.remove(device.id);
    await gone;
    expect(await onB((x) => x.action === 'disconnect' && x.deviceId === device.id)).toMatchObject({
      reason: 'device.unknown',
    });
  });

  it('a tag change through A is re-evaluated on B as a local one is: the session flagged, on both nodes', async () => {
    const { device, client } = await connectedOnB((_d, tag) => ({ deviceTags: [tag] }));
    const flaggedOnA = nextStatus(a, device.id, (d) => d.connectionStatus?.scopeChangedSinceConnect === true);
    const flaggedOnB = nextStatus(b, device.id, (d) => d.connectionStatus?.scopeChangedSinceConnect === true);
    await a.rt.service.devices.setTags(device.id, [{ key: 'colour', value: 'blue' }]);
    // B's session follows the change (docs/design.md §4: it stays connected, marked), and B's status write
    // reaches A through Redis.
    await flaggedOnB;
    expect(b.rt.broker.sessions.forDevice(device.id)?.scopeChangedSinceConnect).toBe(true);
    expect((await flaggedOnA).connectionStatus).toMatchObject({ status: 'connected', scopeChangedSinceConnect: true });
    expect(client.connected).toBe(true);
    expect(b.store.getDevice(device.id)?.tags).toEqual([{ key: 'colour', value: 'blue' }]);
  });
});
