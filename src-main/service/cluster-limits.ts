// Losant limits across the cluster (docs/design.md §7a "Clustered"). Per-topic and per-connection
// rates stay local: a connection lives on one node. What is the application's or outlives a
// connection is shared:
//   - bans: a ban imposed on one node is written to Redis (`<prefix>ban:<device>`, expiring when
//     the ban's repeats are forgotten) and published on `<prefix>bans`; every node imports it into
//     its own ban table, so the device is refused everywhere and its next ban escalates. A node
//     that starts reads the bans in force.
//   - the application's connection rate: each node's count in its window rides on its heartbeat
//     (service/cluster-nodes.ts) and CONNECT compares the local window plus the others' last
//     counts with the limit. No Redis round trip on CONNECT: the hook stays synchronous and a
//     Redis outage leaves each node counting alone. The others' counts are at most a heartbeat
//     old, so the cluster may admit up to one heartbeat's worth of other nodes' connects more.
import type { Redis } from 'ioredis';
import type { Ban } from '../core/limits.ts';
import type { LimitsPeers } from '../shared/ports.ts';
import { TypedEmitter } from '../shared/typed-emitter.ts';
import { connectRedis, closeRedis, type Warn } from './cluster-redis.ts';

/** The ban table a node keeps (core/limits.ts ApplicationLimits). */
export interface BanTable {
  importBan(deviceId: string, ban: Ban): void;
}

export interface ClusterLimitsOptions {
  url: string;
  nodeId: string;
  bans: BanTable;
  /** The limits' clock (ms): a ban's key lives until its repeats are forgotten by this clock. */
  now: () => number;
  /** The other nodes' connects in their windows (ClusterNodes.connectsElsewhere). */
  connectsElsewhere: () => number;
  /** How long a device's repeats are remembered after a ban ends (core/limits.ts BAN_MEMORY_MS). */
  memoryMs: number;
  prefix?: string;
  warn: Warn;
}

interface BanMessage {
  deviceId: string;
  level: number;
  until: number;
  node: string;
}

function parseBan(json: string | null): BanMessage | null {
  if (json === null) return null;
  try {
    const v = JSON.parse(json) as Partial<BanMessage>;
    if (typeof v.deviceId !== 'string' || typeof v.node !== 'string') return null;
    if (!Number.isInteger(v.level) || (v.level ?? 0) < 1 || typeof v.until !== 'number' || !Number.isFinite(v.until))
      return null;
    return { deviceId: v.deviceId, level: v.level!, until: v.until, node: v.node };
  } catch {
    return null;
  }
}

export class ClusterLimits implements LimitsPeers {
  /** A ban another node imposed, once it is in this node's table. */
  readonly events = new TypedEmitter<{ imported: BanMessage }>();
  readonly #o: Required<ClusterLimitsOptions>;
  readonly #redis: Redis;
  readonly #sub: Redis;
  #closed = false;

  private constructor(o: Required<ClusterLimitsOptions>, redis: Redis, sub: Redis) {
    this.#o = o;
    this.#redis = redis;
    this.#sub = sub;
  }

  static async start(opts: ClusterLimitsOptions): Promise<ClusterLimits> {
    const o: Required<ClusterLimitsOptions> = { prefix: 'keyport:', ...opts };
    const redis = await connectRedis({ url: o.url, nodeId: o.nodeId, role: 'limits', warn: o.warn });
    let sub: Redis;
    try {
      // Subscriptions are renewed by ioredis after a reconnect; the offline queue lets it do so.
      sub = await connectRedis({
        url: o.url,
        nodeId: o.nodeId,
        role: 'bans subscriber',
        warn: o.warn,
        offlineQueue: true,
      });
    } catch (err) {
      await closeRedis(redis);
      throw err;
    }
    const self = new ClusterLimits(o, redis, sub);
    sub.on('message', (_channel: string, json: string) => self.#receive(json));
    await sub.subscribe(self.#channel());
    await self.#loadBans(); // after subscribing: a ban made meanwhile arrives one way or the other
    return self;
  }

  #channel(): string {
    return `${this.#o.prefix}bans`;
  }

  async #loadBans(): Promise<void> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#redis.scan(cursor, 'MATCH', `${this.#o.prefix}ban:*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (let i = 0; i < keys.length; i += 500) {
      const values = await this.#redis.mget(keys.slice(i, i + 500));
      for (const v of values) this.#import(parseBan(v));
    }
  }

  #receive(json: string): void {
    const ban = parseBan(json);
    if (!ban) {
      this.#o.warn('bans-message', 'ignored a cluster ban message that is not one');
      return;
    }
    if (ban.node !== this.#o.nodeId) this.#import(ban);
  }

  #import(ban: BanMessage | null): void {
    if (!ban) return;
    this.#o.bans.importBan(ban.deviceId, { level: ban.level, until: ban.until });
    this.events.emit('imported', ban);
  }

  connectsElsewhere(): number {
    return this.#o.connectsElsewhere();
  }

  /** Fire-and-forget: the ban is in force here already; the others learn it as soon as Redis answers. */
  banned(deviceId: string, ban: Ban): void {
    if (this.#closed) return;
    const msg: BanMessage = { deviceId, level: ban.level, until: ban.until, node: this.#o.nodeId };
    const json = JSON.stringify(msg);
    // Kept until the device's repeats are forgotten, so a later ban on any node escalates.
    const ttl = Math.max(1, Math.ceil(ban.until + this.#o.memoryMs - this.#o.now()));
    this.#redis
      .multi()
      .set(`${this.#o.prefix}ban:${deviceId}`, json, 'PX', ttl)
      .publish(this.#channel(), json)
      .exec()
      .catch((err: Error) =>
        this.#o.warn('bans-publish', `could not tell the cluster about a ban of ${deviceId}: ${err.message}`),
      );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeRedis(this.#sub);
    await closeRedis(this.#redis);
  }
}
