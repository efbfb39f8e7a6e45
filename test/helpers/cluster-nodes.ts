// Two or three Keyport runtimes clustered on one real Redis (test/helpers/redis-server.ts), in this
// process, each with its own data directory and listeners on port 0. Until the Redis store exists
// they share ONE in-memory store (and the pepper its verifiers were made with), so a device and its
// key work on every node. Await events, never sleep.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessKeyRecord, Device } from '../../src-main/core/types.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src-main/server/runtime.ts';
import { createMemoryStore } from '../../src-main/store/memory-store.ts';
import type { Store } from '../../src-main/store/store.ts';
import { makeDevice, makeKeyWithSecret, TEST_PEPPER } from './fixtures.ts';
import { backendHelpers, type BackendHarness } from './runtime-harness.ts';

export interface ClusterDevice {
  device: Device;
  key: AccessKeyRecord;
  secret: string;
  /** mqtt.js options for this device (client id = device id). */
  auth: { clientId: string; username: string; password: string };
}

export interface ClusterNode extends Pick<BackendHarness, 'decision'> {
  rt: Runtime;
  nodeId: string;
  mqttUrl: string;
  logs: string[];
  /** Resolves with the first log line (past or future) matching `pred`. */
  logLine(pred: (line: string) => boolean): Promise<string>;
  /** Closes this node (idempotent); the cluster's stop() closes the rest. */
  stop(): Promise<void>;
}

export interface Cluster {
  nodes: ClusterNode[];
  devices: ClusterDevice[];
  store: Store;
  stop(): Promise<void>;
}

/** Devices, each with its own key allowing every topic (filterType all). */
export function seedDevices(count: number): ClusterDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const device = makeDevice({ name: `cluster device ${i}` });
    const { record, secret } = makeKeyWithSecret({ deviceIds: [device.id], filterType: 'all' });
    return { device, key: record, secret, auth: { clientId: device.id, username: record.key, password: secret } };
  });
}

/** The shared store, seen by each runtime as its own: closing one runtime must not close it for the others. */
function shared(store: Store): Store {
  return Object.create(store, { close: { value: async () => {} } }) as Store;
}

export async function startCluster(
  redisUrl: string,
  opts: { nodes?: number; devices?: number; runtime?: Partial<RuntimeOptions> } = {},
): Promise<Cluster> {
  const devices = seedDevices(opts.devices ?? 4);
  const store = createMemoryStore({ devices: devices.map((d) => d.device), keys: devices.map((d) => d.key) });
  const nodes: ClusterNode[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < (opts.nodes ?? 2); i++) nodes.push(await startNode(redisUrl, `node-${i}`, store, opts.runtime));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { nodes, devices, store, stop: stopAll };
}

async function startNode(
  redisUrl: string,
  nodeId: string,
  store: Store,
  extra: Partial<RuntimeOptions> = {},
): Promise<ClusterNode> {
  const dataDir = await mkdtemp(join(tmpdir(), `keyport-cluster-${nodeId}-`));
  await writeFile(join(dataDir, 'pepper.key'), TEST_PEPPER, { mode: 0o600 });
  const logs: string[] = [];
  const waiters = new Set<(line: string) => void>();
  const log = (line: string) => {
    logs.push(line);
    for (const w of [...waiters]) w(line);
  };
  let rt: Runtime;
  try {
    rt = await startRuntime({
      dataDir,
      mqttPort: 0,
      wsPort: 0,
      tlsPort: 0,
      httpPort: 0,
      log,
      limits: 'off', // retain and persistent sessions are refused in Losant limits mode (docs/design.md §7a)
      decisionLog: false,
      store: shared(store),
      cluster: { url: redisUrl, nodeId },
      ...extra,
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    rt,
    nodeId,
    logs,
    logLine: (pred) =>
      new Promise((resolve) => {
        const past = logs.find(pred);
        if (past !== undefined) return resolve(past);
        const w = (line: string) => {
          if (!pred(line)) return;
          waiters.delete(w);
          resolve(line);
        };
        waiters.add(w);
      }),
    mqttUrl: `mqtt://127.0.0.1:${rt.ports.mqtt}`,
    decision: backendHelpers(rt.service).decision,
    stop: () =>
      (stopped ??= (async () => {
        await rt.close();
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}
