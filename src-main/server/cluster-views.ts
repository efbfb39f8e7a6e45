// One picture of the cluster (issue 18 item 3, docs/design.md §8 "Clustered", §7a): merged
// decisions, the node registry and Losant limits counted across nodes, started by the runtime in
// one call when it runs clustered. close() stops the heartbeats and quits every Redis connection.
import type { BrokerStatus, ListenerInfo } from '../contract.ts';
import { BAN_MEMORY_MS } from '../core/limits.ts';
import type { KeyportBroker } from '../broker/broker.ts';
import { ClusterDecisions } from '../service/cluster-decisions.ts';
import { ClusterLimits } from '../service/cluster-limits.ts';
import { ClusterNodes, type NodeSnapshot } from '../service/cluster-nodes.ts';
import { parseNodeId, parseRedisUrl, rateLimitedWarn } from '../service/cluster-redis.ts';
import type { KeyportService } from '../service/service.ts';

export interface ClusterViewsOptions {
  redisUrl: string;
  nodeId: string;
  service: KeyportService;
  broker: KeyportBroker;
  /** This node's listeners once they listen (null before). */
  ports: () => ListenerInfo | null;
  log: (line: string) => void;
  /** Prefix of every Redis key and channel (default `keyport:`). */
  prefix?: string;
  /** Node registry heartbeat (default 1000 ms) and entry TTL (default 5 heartbeats). */
  heartbeatMs?: number;
  ttlMs?: number;
  /** Clients listed per node entry (default 1000). */
  maxClients?: number;
}

export interface ClusterViews {
  readonly nodeId: string;
  readonly decisions: ClusterDecisions;
  readonly nodes: ClusterNodes;
  readonly limits: ClusterLimits;
  /** The broker's status with the cluster in it: `nodes`, and `node` on each of this node's clients. */
  status(base: BrokerStatus): BrokerStatus;
  /** `deregister: false` leaves this node's registry entry to expire, as a crash would (tests). */
  close(opts?: { deregister?: boolean }): Promise<void>;
}

export async function attachClusterViews(opts: ClusterViewsOptions): Promise<ClusterViews> {
  const url = parseRedisUrl(opts.redisUrl);
  const nodeId = parseNodeId(opts.nodeId);
  const prefix = opts.prefix ?? 'keyport:';
  const warn = rateLimitedWarn(opts.log);
  const { service, broker } = opts;
  const losant = broker.losant;
  const feed = service.feed;
  const snapshot = (max: number): NodeSnapshot => {
    const sessions = broker.sessions.all();
    return {
      listeners: opts.ports(),
      clientCount: sessions.length,
      clients: sessions.slice(0, max).map((s) => ({
        deviceId: s.deviceId,
        keyId: s.keyId,
        transport: s.transport,
        connectedAt: s.connectedAt,
      })),
      connectsInWindow: losant.on ? losant.app.connectsInWindow(losant.now()) : 0,
    };
  };
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    feed.node = nodeId; // from now on this node's decisions name it
    const decisions = await ClusterDecisions.start({ url, nodeId, feed, key: `${prefix}decisions`, warn });
    opened.push(decisions);
    const nodes = await ClusterNodes.start({
      url,
      nodeId,
      prefix,
      snapshot,
      warn,
      ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
      ...(opts.maxClients !== undefined ? { maxClients: opts.maxClients } : {}),
    });
    opened.push(nodes);
    const limits = await ClusterLimits.start({
      url,
      nodeId,
      prefix,
      bans: losant.app,
      now: () => losant.now(),
      connectsElsewhere: () => nodes.connectsElsewhere(),
      memoryMs: BAN_MEMORY_MS,
      warn,
    });
    opened.push(limits);
    losant.peers = limits;
    let closed: Promise<void> | null = null;
    return {
      nodeId,
      decisions,
      nodes,
      limits,
      status: (base) => ({
        ...base,
        clients: base.clients.map((c) => ({ ...c, node: nodeId })),
        nodes: nodes.list(),
      }),
      close: (o = {}) =>
        (closed ??= (async () => {
          if (losant.peers === limits) losant.peers = null;
          await limits.close();
          await nodes.close(o);
          await decisions.close();
          if (feed.node === nodeId) feed.node = undefined;
        })()),
    };
  } catch (err) {
    for (const c of opened.reverse()) await c.close().catch(() => {});
    if (feed.node === nodeId) feed.node = undefined;
    throw err;
  }
}
