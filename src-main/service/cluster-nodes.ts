// The cluster's nodes (docs/design.md §8 "Clustered"): each node keeps a registry entry in Redis
// (`<prefix>node:<id>`, JSON, written every heartbeat with a TTL of a few heartbeats, its id also
// in the set `<prefix>nodes`) and reads every entry back on the same beat. An entry whose key
// expired is a node that stopped beating (killed, partitioned): it drops out of the list and of
// the set. While Redis is away the last list is kept, but an entry not heard of for a TTL goes.
// The entry also carries the node's count of device connections in the Losant window, which
// service/cluster-limits.ts sums for the application-wide connection rate (docs/design.md §7a).
import type { Redis } from 'ioredis';
import type { ClusterClientInfo, ClusterNodeInfo, ListenerInfo } from '../contract.ts';
import { TypedEmitter } from '../shared/typed-emitter.ts';
import { connectRedis, closeRedis, type Warn } from './cluster-redis.ts';

/** What a node says about itself on each heartbeat. */
export interface NodeSnapshot {
  listeners: ListenerInfo | null;
  clientCount: number;
  /** At most the registry's cap (the `max` snapshot is called with). */
  clients: ClusterClientInfo[];
  /** Device connections this node admitted in the Losant window now (docs/design.md §7a). */
  connectsInWindow: number;
}

interface NodeEntry {
  nodeId: string;
  listeners: ListenerInfo | null;
  startedAt: string;
  heartbeatAt: string;
  clientCount: number;
  clients: ClusterClientInfo[];
  connectsInWindow: number;
}

export interface ClusterNodesOptions {
  url: string;
  nodeId: string;
  snapshot: (maxClients: number) => NodeSnapshot;
  prefix?: string;
  /** Default 1000 ms. */
  heartbeatMs?: number;
  /** Default 5 heartbeats. */
  ttlMs?: number;
  /** Clients listed per entry, at most (default 1000; the count is always whole). */
  maxClients?: number;
  warn: Warn;
}

function parseEntry(json: string | null): NodeEntry | null {
  if (json === null) return null;
  try {
    const v = JSON.parse(json) as Partial<NodeEntry>;
    if (typeof v.nodeId !== 'string' || typeof v.startedAt !== 'string' || typeof v.heartbeatAt !== 'string')
      return null;
    return {
      nodeId: v.nodeId,
      listeners: v.listeners ?? null,
      startedAt: v.startedAt,
      heartbeatAt: v.heartbeatAt,
      clientCount: typeof v.clientCount === 'number' ? v.clientCount : 0,
      clients: Array.isArray(v.clients) ? v.clients : [],
      connectsInWindow: typeof v.connectsInWindow === 'number' ? v.connectsInWindow : 0,
    };
  } catch {
    return null;
  }
}

export class ClusterNodes {
  readonly events = new TypedEmitter<{ nodes: ClusterNodeInfo[] }>();
  readonly #o: Required<ClusterNodesOptions>;
  readonly #redis: Redis;
  readonly #startedAt = new Date().toISOString();
  /** Other nodes as last read, with when (local clock) they were read. */
  #others = new Map<string, { entry: NodeEntry; seenAt: number }>();
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;
  #closed = false;

  private constructor(o: Required<ClusterNodesOptions>, redis: Redis) {
    this.#o = o;
    this.#redis = redis;
  }

  static async start(opts: ClusterNodesOptions): Promise<ClusterNodes> {
    const heartbeatMs = opts.heartbeatMs ?? 1000;
    const o: Required<ClusterNodesOptions> = {
      prefix: 'keyport:',
      maxClients: 1000,
      ttlMs: 5 * heartbeatMs,
      ...opts,
      heartbeatMs,
    };
    if (o.ttlMs <= o.heartbeatMs)
      throw new Error(`cluster ttlMs (${o.ttlMs}) must be longer than heartbeatMs (${o.heartbeatMs})`);
    const redis = await connectRedis({ url: o.url, nodeId: o.nodeId, role: 'node registry', warn: o.warn });
    const self = new ClusterNodes(o, redis);
    await self.beat(); // registered, and the others known, before start resolves
    self.#timer = setInterval(() => void self.beat(), o.heartbeatMs);
    self.#timer.unref();
    return self;
  }

  #key(id: string): string {
    return `${this.#o.prefix}node:${id}`;
  }

  #entry(): NodeEntry {
    const s = this.#o.snapshot(this.#o.maxClients);
    return {
      nodeId: this.#o.nodeId,
      listeners: s.listeners,
      startedAt: this.#startedAt,
      heartbeatAt: new Date().toISOString(),
      clientCount: s.clientCount,
      clients: s.clients.slice(0, this.#o.maxClients),
      connectsInWindow: s.connectsInWindow,
    };
  }

  /** One heartbeat: write this node's entry, read everyone's. Never rejects. */
  beat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => (this.#beating = null));
    return this.#beating;
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    const set = `${this.#o.prefix}nodes`;
    try {
      const replies = await this.#redis
        .multi()
        .set(this.#key(this.#o.nodeId), JSON.stringify(this.#entry()), 'PX', this.#o.ttlMs)
        .sadd(set, this.#o.nodeId)
        .smembers(set)
        .exec();
      const failed = replies?.find(([e]) => e)?.[0];
      if (!replies || failed) throw failed ?? new Error('the transaction was discarded');
      const ids = replies[2]?.[1] as string[];
      const others = ids.filter((id) => id !== this.#o.nodeId);
      const json = others.length > 0 ? await this.#redis.mget(others.map((id) => this.#key(id))) : [];
      const now = Date.now();
      const next = new Map<string, { entry: NodeEntry; seenAt: number }>();
      const gone: string[] = [];
      others.forEach((id, i) => {
        const entry = parseEntry(json[i] ?? null);
        if (entry && entry.nodeId === id) next.set(id, { entry, seenAt: now });
        else gone.push(id);
      });
      if (gone.length > 0) await this.#redis.srem(set, ...gone);
      this.#others = next;
    } catch (err) {
      this.#o.warn('nodes', `node registry heartbeat failed: ${(err as Error).message}`);
      const now = Date.now();
      for (const [id, n] of this.#others) if (now - n.seenAt > this.#o.ttlMs) this.#others.delete(id);
    }
    this.events.emit('nodes', this.list());
  }

  /** Every live node, this one first (its entry as of now, not as last written). */
  list(): ClusterNodeInfo[] {
    const own = this.#entry();
    const info = (e: NodeEntry, self: boolean): ClusterNodeInfo => ({
      nodeId: e.nodeId,
      self,
      listeners: e.listeners,
      startedAt: e.startedAt,
      heartbeatAt: e.heartbeatAt,
      clientCount: e.clientCount,
      clients: e.clients,
    });
    const others = [...this.#others.values()].map((n) => info(n.entry, false));
    others.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    return [info(own, true), ...others];
  }

  /** The other nodes' device connections in their Losant windows, as last heard (docs/design.md §7a). */
  connectsElsewhere(): number {
    let n = 0;
    for (const { entry } of this.#others.values()) n += entry.connectsInWindow;
    return n;
  }

  /**
   * Stops beating. `deregister` (default true) removes the entry at once, as a clean shutdown
   * does; false leaves it to expire after its TTL, as a node that died would.
   */
  async close(opts: { deregister?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#beating;
    if ((opts.deregister ?? true) && this.#redis.status === 'ready') {
      await this.#redis
        .multi()
        .del(this.#key(this.#o.nodeId))
        .srem(`${this.#o.prefix}nodes`, this.#o.nodeId)
        .exec()
        .catch((err: Error) => this.#o.warn('nodes', `could not remove this node's registry entry: ${err.message}`));
    }
    await closeRedis(this.#redis);
  }
}
