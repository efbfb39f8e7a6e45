// Connections to the cluster's Redis for the store (docs/design.md §11, "Clustered (Redis)"):
// a checked URL, one log line per distinct connection error (ioredis repeats it on every
// reconnect attempt), and never the URL's password in a message.
import { Redis } from 'ioredis';

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`,
  );
}

/** Reports a connection's errors to `log`, each distinct one once until it is ready again. */
export function reportErrors(redis: Redis, what: string, log: (line: string) => void): Redis {
  let last = '';
  redis.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    log(`keyport: Redis ${what}: ${err.message}`);
  });
  redis.on('ready', () => (last = ''));
  return redis;
}

/**
 * Connects to `url` (redis:// or rediss://, [user:password@]host:port[/db]). Rejects with a
 * message naming the (redacted) URL when it is not one or Redis cannot be reached at first try.
 */
export async function connectRedis(url: string, log: (line: string) => void): Promise<Redis> {
  const shown = redactRedisUrl(url);
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new Error(`${JSON.stringify(shown)} is not a redis:// or rediss:// URL`);
  // At open, one failed attempt is an answer (a wrong address should not hang `serve`); once
  // open, ioredis keeps reconnecting and queues commands meanwhile.
  let opened = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: true,
    retryStrategy: (times) => (opened ? Math.min(times * 100, 2000) : null),
  });
  let first: Error | null = null;
  redis.once('error', (err: Error) => (first = err));
  reportErrors(redis, shown, log);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const why = (first ?? (err as Error)).message;
    throw new Error(`cannot reach Redis at ${shown}: ${why}`, { cause: err });
  }
  opened = true;
  return redis;
}
