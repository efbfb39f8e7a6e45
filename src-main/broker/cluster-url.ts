// The Redis URL of a cluster (docs/design.md §12b): checked where it enters (CLI, runtime options),
// and masked wherever it is shown, since `redis://user:PASSWORD@host` carries a secret.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface ClusterSettings {
  /** redis:// or rediss:// (TLS), optionally with user:password@ and a /database number. */
  url: string;
  /** This node's id in the cluster (aedes' broker id): default hostname-pid. */
  nodeId?: string;
}

/** Node ids appear in $SYS topics and Redis keys: one topic level, printable, bounded. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class ClusterUrlError extends Error {}

/** `redis://user:***@host:port/db`: the password replaced, everything else as given. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    // `redis:pw@host` parses too (no authority, an opaque path): show only its scheme.
    if (!u.host) return `${u.protocol}…`;
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // Not a URL at all: show only what cannot be a password (the scheme, if any).
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
    return scheme ? `${scheme}…` : '(not a URL)';
  }
}

/** Throws ClusterUrlError naming what is wrong (with the URL masked). */
export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClusterUrlError(`"${maskRedisUrl(url)}" is not a URL (expected redis://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new ClusterUrlError(`${maskRedisUrl(url)}: the scheme must be redis:// or rediss:// (got ${u.protocol}//)`);
  if (!u.hostname) throw new ClusterUrlError(`${maskRedisUrl(url)}: no host (expected redis://HOST:PORT)`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db))
    throw new ClusterUrlError(`${maskRedisUrl(url)}: the path must be a database number (got "/${db}")`);
  if (u.search || u.hash) throw new ClusterUrlError(`${maskRedisUrl(url)}: no query or fragment is understood`);
  return u;
}

export function checkNodeId(id: string): string {
  if (!NODE_ID.test(id))
    throw new ClusterUrlError(
      `node id "${id}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  return id;
}

/** hostname-pid, made to fit NODE_ID; a short random id when the hostname has nothing usable. */
export function defaultNodeId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 48);
  return host ? `${host}-${process.pid}` : `node-${randomBytes(4).toString('hex')}`;
}
