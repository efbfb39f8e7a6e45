// The Broker view's cluster card (docs/design.md §13, §8 "Clustered"): each node as a row, and the
// clients of the other nodes (this node's own are in the connected-clients table). Pure, for tests.
import type { ClusterClientInfo, ClusterNodeInfo } from '../../../src-main/contract.ts';
import { timeAgo } from './time-ago.ts';

/** A heartbeat older than this is shown as late (the registry drops a node at its TTL, 5 s by default). */
export const LATE_HEARTBEAT_MS = 2500;

export interface NodeRow {
  nodeId: string;
  self: boolean;
  /** `host:mqtt-port`, or "not listening". */
  address: string;
  started: string;
  late: boolean;
  clientCount: number;
  /** Clients listed in the entry (the registry caps them): fewer than clientCount means "and N more". */
  listed: number;
}

export function nodeRows(nodes: readonly ClusterNodeInfo[], now: number = Date.now()): NodeRow[] {
  return nodes.map((n) => ({
    nodeId: n.nodeId,
    self: n.self,
    address: n.listeners ? `${n.listeners.host}:${n.listeners.mqtt}` : 'not listening',
    started: timeAgo(n.startedAt, now),
    late: !n.self && now - Date.parse(n.heartbeatAt) > LATE_HEARTBEAT_MS,
    clientCount: n.clientCount,
    listed: n.clients.length,
  }));
}

export type RemoteClient = ClusterClientInfo & { node: string };

/** The other nodes' clients, by node then device id. */
export function remoteClients(nodes: readonly ClusterNodeInfo[]): RemoteClient[] {
  const out: RemoteClient[] = [];
  for (const n of nodes) {
    if (n.self) continue;
    const list = [...n.clients].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    for (const c of list) out.push({ ...c, node: n.nodeId });
  }
  return out;
}
