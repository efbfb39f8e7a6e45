// The cluster a data directory joins at its next start (`<data>/settings.json`,
// `{"cluster":{"url":"redis://…","nodeId":"node-1"}}`), so the desktop app — which has no command
// line — can be a cluster node too (docs/design.md §12b). `keyport serve --cluster` overrides it
// for a run. The URL may carry the Redis password: the file is written 0600 (writeFileAtomic) and
// the URL is only ever shown masked.
import { join } from 'node:path';
import { checkNodeId, checkRedisUrl, maskRedisUrl, type ClusterSettings } from '../broker/cluster-url.ts';
import { writeFileAtomic } from '../shared/atomic-write.ts';
import { readSettings, SETTINGS_FILE } from './limits-setting.ts';

/** The stored cluster, or null when none is stored. Throws naming the file and the bad value. */
export async function loadClusterSetting(dataDir: string): Promise<ClusterSettings | null> {
  const s = await readSettings(dataDir);
  if (s.cluster === undefined || s.cluster === null) return null;
  const file = join(dataDir, SETTINGS_FILE);
  const c = s.cluster as Record<string, unknown>;
  if (typeof c !== 'object' || Array.isArray(c) || typeof c.url !== 'string')
    throw new Error(`${file}: "cluster" must be {"url":"redis://HOST:PORT"} with an optional "nodeId", or null`);
  try {
    checkRedisUrl(c.url);
    if (c.nodeId !== undefined && typeof c.nodeId !== 'string') throw new Error('"nodeId" must be a string');
    if (typeof c.nodeId === 'string') checkNodeId(c.nodeId);
  } catch (err) {
    throw new Error(`${file}: cluster: ${(err as Error).message}`, { cause: err });
  }
  return typeof c.nodeId === 'string' ? { url: c.url, nodeId: c.nodeId } : { url: c.url };
}

/** Stores `setting` (null: no cluster at the next start), keeping every other setting in the file. */
export async function saveClusterSetting(dataDir: string, setting: ClusterSettings | null): Promise<void> {
  if (setting) {
    checkRedisUrl(setting.url);
    if (setting.nodeId !== undefined) checkNodeId(setting.nodeId);
  }
  const s = await readSettings(dataDir);
  if (setting) s.cluster = setting.nodeId ? { url: setting.url, nodeId: setting.nodeId } : { url: setting.url };
  else delete s.cluster;
  await writeFileAtomic(join(dataDir, SETTINGS_FILE), JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}

/** The stored setting as the UI may see it: the URL's password masked. */
export function describeClusterSetting(setting: ClusterSettings | null): { url: string; nodeId: string | null } | null {
  return setting ? { url: maskRedisUrl(setting.url), nodeId: setting.nodeId ?? null } : null;
}
