import { describe, expect, it } from 'vitest';
import type { ClusterNodeInfo } from '../../../src-main/contract.ts';
import { nodeRows, remoteClients } from '../../../src-renderer/components/broker/cluster-nodes.ts';

const now = Date.parse('2026-12-02T05:00:10.000Z');
const node = (
  id: string,
  self: boolean,
  heartbeatAt: string,
  clients: string[],
  clientCount = clients.length,
): ClusterNodeInfo => ({
  nodeId: id,
  self,
  listeners: { host: '10.0.0.1', mqtt: 1883, ws: 8083, tls: 8883, http: 8484 },
  startedAt: '2026-12-02T05:00:00.000Z',
  heartbeatAt,
  clientCount,
  clients: clients.map((d) => ({ deviceId: d, keyId: 'k', transport: 'tcp', connectedAt: '2026-12-02T05:00:01.000Z' })),
});

describe('Broker view: cluster nodes', () => {
  it('shows each node with its address, clients and whether its heartbeat is late', () => {
    const rows = nodeRows(
      [
        node('a', true, '2026-12-02T05:00:00.000Z', []),
        node('b', false, '2026-12-02T05:00:09.500Z', ['d1'], 1200),
        node('c', false, '2026-12-02T05:00:05.000Z', []),
      ],
      now,
    );
    expect(rows.map((r) => [r.nodeId, r.self, r.address, r.late, r.clientCount, r.listed])).toEqual([
      ['a', true, '10.0.0.1:1883', false, 0, 0],
      ['b', false, '10.0.0.1:1883', false, 1200, 1],
      ['c', false, '10.0.0.1:1883', true, 0, 0],
    ]);
    expect(rows[0]?.started).toBe('10 s ago');
  });

  it("lists the other nodes' clients with their node, not this node's", () => {
    const list = remoteClients([
      node('a', true, '2026-12-02T05:00:00.000Z', ['x']),
      node('b', false, '2026-12-02T05:00:00.000Z', ['z', 'y']),
    ]);
    expect(list.map((c) => `${c.node}/${c.deviceId}`)).toEqual(['b/y', 'b/z']);
  });
});
