// Cluster mode's engine (docs/design.md §12b): what aedes needs to run as one node of several
// sharing one Redis. mqemitter-redis carries every message between nodes (Redis PUBLISH), and
// aedes-persistence-redis keeps subscriptions, retained messages, persistent sessions and their
// queued QoS 1 messages in Redis, so a device may come back on any node. Three connections, all
// made here so their options, errors and closing are ours: pub and sub for the emitter, one for
// the persistence.
import { Redis, type RedisOptions } from 'ioredis';
import MQEmitterRedis from 'mqemitter-redis';
import redisPersistence from 'aedes-persistence-redis';
import { checkNodeId, checkRedisUrl, defaultNodeId, maskRedisUrl, type ClusterSettings } from './cluster-url.ts';

/** What KeyportBroker.create hands aedes, and how it learns of another node's new client. */
export interface BrokerEngine {
  /** aedes' broker id: this node's id in the cluster. */
  readonly id: string;
  readonly mq: unknown;
  readonly persistence: unknown;
  /** `fn` runs for every client that connected on ANOTHER node, before aedes closes a local one with its id. */
  onRemoteConnect(fn: (clientId: string, nodeId: string) => void): void;
}

export interface ClusterEngine extends BrokerEngine {
  /** The Redis URL with its password masked: the only form that is ever logged or printed. */
  readonly url: string;
  /**
   * Before the broker closes: no more reconnecting, and when Redis is away, what waits for it fails
   * now, so closing the broker's clients does not wait for a Redis that may never come back.
   */
  beginClose(): void;
  /** Quits the three connections (after the broker has closed). */
  close(): Promise<void>;
}

export class ClusterStartError extends Error {}

export interface ClusterEngineOptions extends ClusterSettings {
  log: (line: string) => void;
  /** How long the first connection may take (default 5000 ms). */
  connectTimeoutMs?: number;
}

/** aedes announces each client it accepts here ($SYS/<broker id>/new/clients, payload: client id). */
const NEW_CLIENTS = '$SYS/+/new/clients';

export async function openClusterEngine(opts: ClusterEngineOptions): Promise<ClusterEngine> {
  checkRedisUrl(opts.url);
  const id = checkNodeId(opts.nodeId ?? defaultNodeId());
  const shown = maskRedisUrl(opts.url);
  let started = false;
  let closing = false;
  const redisOpts: RedisOptions = {
    lazyConnect: true,
    // 5 s: a Redis on the network answers within milliseconds; longer is a wrong host or a firewall.
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    // At start, no retry: an unreachable Redis is the operator's error to see at once. Once running,
    // reconnect with a back-off capped at 2 s (ioredis re-subscribes the emitter by itself).
    retryStrategy: (times) => (started && !closing ? Math.min(times * 100, 2000) : null),
    connectionName: `keyport:${id}`,
  };
  const conns = {
    pub: new Redis(opts.url, { ...redisOpts, enableAutoPipelining: true }),
    sub: new Redis(opts.url, redisOpts),
    db: new Redis(opts.url, redisOpts),
  };
  const all = Object.values(conns);
  const outage = watchOutage(all, shown, opts.log, () => started && !closing);
  try {
    await Promise.all(all.map((c) => c.connect()));
  } catch {
    all.forEach((c) => c.disconnect());
    throw new ClusterStartError(`cannot reach the cluster's Redis at ${shown}: ${outage.firstError() ?? 'no answer'}`);
  }
  const mq = MQEmitterRedis({
    pubConn: conns.pub,
    subConn: conns.sub,
    concurrency: 100, // aedes' own default for its in-process emitter
    matchEmptyLevels: true, // as aedes' default emitter: `a/#` matches `a` [MQTT-4.7.1-2]
  });
  // mqemitter-redis re-emits connection errors here; an 'error' with no listener would crash the node.
  // (`state` is not in its .d.ts.) Reported once per outage by watchOutage.
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', () => {});
  let onRemote: (clientId: string, nodeId: string) => void = () => {};
  // Subscribed before aedes subscribes its own `closeSameClients`: mqemitter calls handlers in the
  // order they were added, so the session is marked taken over before aedes closes it.
  await new Promise<void>((resolve) =>
    mq.on(
      NEW_CLIENTS,
      (packet, done) => {
        const nodeId = String(packet.topic).split('/')[1] ?? '';
        if (nodeId !== id) onRemote(Buffer.from(packet.payload as Buffer).toString('utf8'), nodeId);
        done();
      },
      resolve,
    ),
  );
  started = true;
  const reachable = () => all.every((c) => c.status === 'ready');
  const emitter = mq as unknown as { close(cb: () => void): void; _close(cb: () => void): void };
  const beginClose = () => {
    if (closing) return;
    closing = true;
    if (reachable()) return;
    for (const c of all) {
      c.disconnect();
      // Commands queued while Redis was away (flushQueue is public in JS, private in the .d.ts).
      (c as unknown as { flushQueue(e: Error): void }).flushQueue(
        new Error(`closing: the cluster's Redis at ${shown} is away`),
      );
    }
    // mqemitter-redis' close waits for QUIT to end both connections, which never happens now:
    // close only the local emitter (mqemitter's own close, kept by mqemitter-redis as _close).
    emitter.close = (cb) => emitter._close(cb);
  };
  return {
    id,
    url: shown,
    mq,
    persistence: redisPersistence({ conn: conns.db }),
    onRemoteConnect(fn) {
      onRemote = fn;
    },
    beginClose,
    async close() {
      beginClose();
      // aedes.close() has closed the emitter already (it quits pub and sub); this is idempotent.
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      await conns.db.quit().catch(() => {});
      all.forEach((c) => c.disconnect()); // whatever is still open, without waiting for Redis
    },
  };
}

/**
 * One line when the node loses Redis and one when it is back, however many reconnect attempts
 * fail in between (ioredis reports each). Errors name the masked URL, never the password.
 */
function watchOutage(conns: Redis[], shown: string, log: (l: string) => void, running: () => boolean) {
  let first: string | undefined;
  let lost = false;
  for (const c of conns) {
    c.on('error', (err: Error & { code?: string }) => {
      first ??= err.code ?? err.message;
      if (running() && !lost) {
        lost = true;
        log(
          `keyport: lost the cluster's Redis at ${shown} (${err.code ?? err.message}); reconnecting. ` +
            'Until then, messages between nodes and persistent sessions wait.',
        );
      }
    });
    c.on('ready', () => {
      if (lost && conns.every((x) => x.status === 'ready')) {
        lost = false;
        log(`keyport: the cluster's Redis at ${shown} is back`);
      }
    });
  }
  return { firstError: () => first };
}
