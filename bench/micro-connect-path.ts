// Keyport's own per-CONNECT work without the sockets and aedes (issue 17 item 1): the access
// control's authenticate (checks, decision event, decision log), the connection status put and its
// lazy journal write, for N devices, then their disconnect statuses. CPU µs per op, R rounds.
//   node bin/run-ts.mjs bench/micro-connect-path.ts [N] [R]
import { persistStatus } from '../src-main/broker/connection-status.ts';
import type { HookContext } from '../src-main/broker/hook-context.ts';
import { BrokerSession } from '../src-main/broker/sessions.ts';
import { startKeyport, processCpuMs } from './lib/brokers.ts';
import { provision } from './lib/provision.ts';
import { parseTrustedProxies } from '../src-main/core/client-address.ts';

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 8);
const keyport = await startKeyport();
try {
  const creds = await provision(keyport.service, Math.max(n, 5000));
  await keyport.service.store.flush();
  const ports = keyport.service.ports({ trustedProxies: parseTrustedProxies([]) });
  const ctx = { ports, log: (l: string) => process.stderr.write(l + '\n') } as unknown as HookContext;
  const list = creds.slice(0, n);
  const conn: number[] = [];
  const disc: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const sessions: BrokerSession[] = [];
    const c0 = processCpuMs();
    for (const c of list) {
      const o = ports.auth.authenticate({
        transport: 'tcp',
        protocolVersion: 4,
        clientId: c.deviceId,
        peerAddress: '127.0.0.1',
        username: c.key,
        password: c.secret,
      });
      if (o.returnCode !== 0 || !o.key || !o.scope) throw new Error(`refused: ${o.decision.reason}`);
      const s = new BrokerSession(c.deviceId, o.key.id, o.scope, 'tcp', '127.0.0.1', new Date().toISOString(), {
        close() {},
      });
      ports.auth.sessionView(s);
      persistStatus(ctx, s, 'connected');
      sessions.push(s);
    }
    await keyport.service.store.flush();
    const c1 = processCpuMs();
    for (const s of sessions) persistStatus(ctx, s, 'disconnected', 'client.disconnect');
    await keyport.service.store.flush();
    const c2 = processCpuMs();
    conn.push(((c1 - c0) * 1000) / n);
    disc.push(((c2 - c1) * 1000) / n);
    process.stdout.write(`round ${r}: connect ${Math.round(conn[r]!)} µs, disconnect ${Math.round(disc[r]!)} µs\n`);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  process.stdout.write(
    `median (rounds 1..): connect ${med(conn.slice(1)).toFixed(1)} µs, disconnect ${med(disc.slice(1)).toFixed(1)} µs\n`,
  );
} finally {
  await keyport.stop();
}
