// A key's blast radius (docs/design.md §12a): devices × {connect, publish state, subscribe command,
// each custom rule} → allowed/denied. Every cell is core/explain.ts on that device, so the matrix
// says exactly what a real client connecting from `address` would get.
import { explain, type ExplainEnv } from './explain.ts';
import type { AccessKeyRecord } from './types.ts';

import type { KeyMatrix, MatrixCell } from './explain-types.ts';

export type { KeyMatrix, MatrixCell };

/** A concrete topic a rule entry matches (wildcards filled in), to publish in a cell. */
function sampleTopic(rule: string): string {
  return rule
    .split('/')
    .map((l) => (l === '+' || l === '#' ? 'x' : l))
    .join('/');
}

export function keyMatrix(key: AccessKeyRecord, env: ExplainEnv, address = '127.0.0.1'): KeyMatrix {
  const columns = [
    'connect',
    'publish state',
    'subscribe command',
    ...key.pubTopics.map((r) => `publish "${r}"`),
    ...key.subTopics.map((r) => `subscribe "${r}"`),
  ];
  const rows: KeyMatrix['rows'] = [];
  for (const d of env.listDevices()) {
    const e = explain(
      {
        key: key.key,
        clientId: d.id,
        transport: 'tcp',
        address,
        publish: [`losant/${d.id}/state`, ...key.pubTopics.map(sampleTopic)],
        subscribe: [`losant/${d.id}/command`, ...key.subTopics],
      },
      env,
    );
    // A refused CONNECT means the device gets nothing else either.
    const ok = e.connect.decision.allowed;
    const cellOf = (t: (typeof e.topics)[number] | undefined): MatrixCell => ({
      allowed: ok && t !== undefined && t.decision.allowed,
      reason: ok && t !== undefined ? t.decision.reason : e.connect.decision.reason,
    });
    // explain lists the publishes first, then the subscriptions; the columns interleave them.
    const pubs = e.topics.filter((t) => t.action === 'publish');
    const subs = e.topics.filter((t) => t.action === 'subscribe');
    const cells: MatrixCell[] = [
      { allowed: ok, reason: e.connect.decision.reason },
      cellOf(pubs[0]),
      cellOf(subs[0]),
      ...pubs.slice(1).map(cellOf),
      ...subs.slice(1).map(cellOf),
    ];
    rows.push({ deviceId: d.id, deviceName: d.name, cells });
  }
  return { keyId: key.id, address, columns, rows };
}

const csvCell = (s: string): string => {
  // A leading = + - @ would be a formula in a spreadsheet; quote everything and neutralise those.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
};

/** CSV: deviceId, deviceName, then one column per matrix column ("allowed" or "denied (reason)"). */
export function matrixCsv(m: KeyMatrix): string {
  const head = ['deviceId', 'deviceName', ...m.columns].map(csvCell).join(',');
  const lines = m.rows.map((r) =>
    [r.deviceId, r.deviceName, ...r.cells.map((c) => (c.allowed ? 'allowed' : `denied (${c.reason})`))]
      .map(csvCell)
      .join(','),
  );
  return [head, ...lines].join('\r\n') + '\r\n';
}
