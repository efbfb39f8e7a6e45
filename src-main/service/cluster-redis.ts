// Redis connections for the cluster views (docs/design.md §8 "Clustered", §7a), and the one warning
// sink they share. A Redis outage must never stall the broker: connections are made with no offline
// queue (a command fails at once while Redis is away, and the caller keeps or drops its own bounded
// work), and what goes wrong is logged at most once per interval per kind, with how many repeats
// were not logged. The URL is never logged with its password.
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis URL as it may appear in a log line: any user and password replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
      return u.toString().replace('//', '//***@');
    }
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** Checks a cluster Redis URL where it enters: redis:// or rediss:// with a host. */
export function parseRedisUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0) throw new Error('cluster redisUrl must be a redis:// URL');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`cluster redisUrl is not a URL (${redactRedisUrl(url)})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`cluster redisUrl must start with redis:// or rediss:// (got ${u.protocol}//)`);
  if (!u.hostname) throw new Error('cluster redisUrl has no host');
  return url;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A node id: 1–64 letters, digits, `.`, `_`, `-` (it is part of Redis key names and shown in the UI). */
export function parseNodeId(id: unknown): string {
  if (typeof id !== 'string' || !NODE_ID.test(id))
    throw new Error(
      `cluster nodeId must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (got ${JSON.stringify(id)})`,
    );
  return id;
}

export type Warn = (kind: string, message: string) => void;

/** At most one line per `intervalMs` per kind; the next one says how many were held back. */
export function rateLimitedWarn(log: (line: string) => void, intervalMs = 10_000, now = Date.now): Warn {
  const last = new Map<string, { at: number; held: number }>();
  return (kind, message) => {
    const t = now();
    const s = last.get(kind);
    if (s && t - s.at < intervalMs) {
      s.held++;
      return;
    }
    const held = s?.held ?? 0;
    last.set(kind, { at: t, held: 0 });
    log(`cluster: ${message}${held > 0 ? ` (${held} more like this not logged)` : ''}`);
  };
}

export interface RedisConnectOptions {
  url: string;
  /** What the connection is for, in log lines ("decisions reader"). */
  role: string;
  /** The node's id: with the role, the connection's name in CLIENT LIST (`keyport-<node>-<role>`). */
  nodeId: string;
  warn: Warn;
  /** Commands wait for a reconnect instead of failing at once (the blocking reader). */
  offlineQueue?: boolean;
}

/** Opens one connection and waits until it is ready; the error names the role and the (redacted) URL. */
export async function connectRedis(opts: RedisConnectOptions): Promise<Redis> {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: opts.offlineQueue ?? false,
    // Reconnect forever, at most a second apart: a node outlives a Redis restart.
    retryStrategy: (times) => Math.min(times * 100, 1000),
    // A command on a dead connection fails after one retry rather than twenty; callers retry themselves.
    maxRetriesPerRequest: 1,
    connectionName: `keyport-${opts.nodeId}-${opts.role.replace(/\s+/g, '-')}`,
  };
  const redis = new Redis(opts.url, options);
  redis.on('error', (err: Error) =>
    opts.warn(`redis-${opts.role}`, `Redis ${opts.role} at ${redactRedisUrl(opts.url)}: ${err.message}`),
  );
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `cluster: cannot reach Redis at ${redactRedisUrl(opts.url)} (${opts.role}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return redis;
}

/** Ends a connection: QUIT when it answers, otherwise drops it (never leaves vitest waiting). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
