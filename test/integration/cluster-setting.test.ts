// The stored cluster setting (docs/design.md §12b): what the desktop app — which has no command
// line — joins at its next start. broker.setCluster stores it in settings.json (0600, the URL may
// carry the Redis password), the next startRuntime on that data directory runs as a cluster node,
// `cluster` given by the caller (serve --cluster) wins, and the password is never handed back.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterSettingInfo } from '../../src-main/contract.ts';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';
import { loadClusterSetting, saveClusterSetting } from '../../src-main/service/cluster-setting.ts';
import { saveLimitsMode } from '../../src-main/service/limits-setting.ts';
import { tempDir } from '../helpers/cli.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';

const PASSWORD = 'hunter2-setting-pw';
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const PORTS = { host: '127.0.0.1', mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, decisionLog: false } as const;

async function dir(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.remove);
  return t.dir;
}

async function start(dataDir: string, extra: { cluster?: { url: string; nodeId?: string } } = {}): Promise<Runtime> {
  const rt = await startRuntime({ dataDir, ...PORTS, log: () => {}, ...extra });
  cleanups.push(() => rt.close());
  return rt;
}

async function call<T>(rt: Runtime, method: string, req: unknown): Promise<T> {
  const reply = await dispatch(rt.dispatch, method, req);
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
}

/** A Redis that asks for a password, so the stored URL carries one. */
let redis: RedisServer;
const url = () => `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;

describe('the stored cluster setting', () => {
  it('settings.json: saved 0600 beside the limits mode, read back, removed by null, bad values named', async () => {
    const d = await dir();
    await saveLimitsMode(d, 'off');
    await saveClusterSetting(d, { url: 'redis://:pw@10.0.0.5:6379/2', nodeId: 'node-1' });
    const file = join(d, 'settings.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      limits: 'off',
      cluster: { url: 'redis://:pw@10.0.0.5:6379/2', nodeId: 'node-1' },
    });
    expect(await loadClusterSetting(d)).toEqual({ url: 'redis://:pw@10.0.0.5:6379/2', nodeId: 'node-1' });
    await saveClusterSetting(d, null);
    expect(await loadClusterSetting(d)).toBeNull();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ limits: 'off' });

    writeFileSync(file, JSON.stringify({ cluster: { url: 'http://x:1' } }));
    await expect(loadClusterSetting(d)).rejects.toThrow(/settings\.json: cluster: .*scheme must be redis/);
    writeFileSync(file, JSON.stringify({ cluster: 'redis://x:1' }));
    await expect(loadClusterSetting(d)).rejects.toThrow(/settings\.json: "cluster" must be/);
    // A hand-edited bad setting stops the start naming the file, before anything listens.
    await expect(startRuntime({ dataDir: d, ...PORTS, log: () => {} })).rejects.toThrow(/settings\.json/);
  });

  it('broker.setCluster stores it (password never returned); the next start on that directory is a cluster node', async () => {
    redis = await startRedis(['--requirepass', PASSWORD]);
    cleanups.push(() => redis.stop());
    const d = await dir();
    const alone = await start(d);
    const before = await call<ClusterSettingInfo>(alone, 'broker.cluster', {});
    expect(before).toEqual({ running: null, stored: null });

    // Bad input is refused naming the problem, and nothing is stored.
    const bad = await dispatch(alone.dispatch, 'broker.setCluster', { url: 'http://127.0.0.1:1' });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toMatch(/scheme must be redis/);
    const badId = await dispatch(alone.dispatch, 'broker.setCluster', { url: url(), nodeId: 'a b' });
    expect(badId.ok ? '' : badId.error.message).toMatch(/node id "a b" must be 1-64 letters/);
    expect(await loadClusterSetting(d)).toBeNull();

    const stored = await call<ClusterSettingInfo>(alone, 'broker.setCluster', { url: url(), nodeId: 'desk-1' });
    expect(stored.running).toBeNull(); // applies at the next start
    expect(stored.stored).toEqual({ url: `redis://:***@127.0.0.1:${redis.port}`, nodeId: 'desk-1' });
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    await alone.close();

    const node = await start(d);
    expect(node.cluster).toEqual({ nodeId: 'desk-1', url: `redis://:***@127.0.0.1:${redis.port}` });
    const info = await call<ClusterSettingInfo>(node, 'broker.cluster', {});
    expect(info.running?.nodeId).toBe('desk-1');
    expect(JSON.stringify(info)).not.toContain(PASSWORD);
    // It really is in the cluster: its node entry is in the registry the Broker view lists.
    const status = await call<{ nodes?: Array<{ nodeId: string }> }>(node, 'broker.status', {});
    expect(status.nodes?.map((n) => n.nodeId)).toContain('desk-1');

    // Leaving: stored as none; the running node stays a node until it restarts.
    const left = await call<ClusterSettingInfo>(node, 'broker.setCluster', { url: null });
    expect(left).toEqual({ running: { nodeId: 'desk-1', url: `redis://:***@127.0.0.1:${redis.port}` }, stored: null });
  });

  it('a cluster the caller names (serve --cluster) wins over the stored one', async () => {
    const d = await dir();
    await saveClusterSetting(d, { url: 'redis://127.0.0.1:1', nodeId: 'stored-node' });
    const rt = await start(d, { cluster: { url: url(), nodeId: 'flag-node' } });
    expect(rt.cluster?.nodeId).toBe('flag-node');
  });
});
