// aedes' preConnect and authenticate hooks: the CONNECT checks run in the access control behind
// the auth port (docs/design.md §4), which records the decision; here the outcome becomes a
// CONNACK and, when accepted, a live session.
import type { Client, ConnectPacket } from 'aedes';
import type { ConnectRequest } from '../core/connect.ts';
import { forgetConnectPassword, willTopicOf } from './aedes-internals.ts';
import { infoOf, joinHeader, peerOf } from './client-info.ts';
import { persistStatus } from './connection-status.ts';
import type { HookContext } from './hook-context.ts';
import { BrokerSession } from './sessions.ts';

// MQTT 5 is refused with CONNACK 1 by aedes itself; record why before it does [MQTT-3.1.2-2].
export function preConnect(
  ctx: HookContext,
  client: Client,
  packet: ConnectPacket,
  cb: (err: Error | null, ok: boolean) => void,
): void {
  ctx.losant.preConnect(client, packet);
  const version = packet.protocolVersion ?? 4;
  if (version !== 3 && version !== 4) {
    const { peer, forwardedFor } = peerOf(client, infoOf(client).transport);
    ctx.record(
      client,
      'connect',
      {
        allowed: false,
        reason: 'protocol.unsupported',
        rule: `MQTT protocol level ${version} is not supported (3.1 and 3.1.1 only)`,
      },
      {
        ...(packet.clientId ? { deviceId: packet.clientId } : {}),
        sourceAddress: peer,
        ...(forwardedFor ? { forwardedFor: joinHeader(forwardedFor) } : {}),
      },
    );
  }
  cb(null, true);
}

export function authenticate(
  ctx: HookContext,
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
  done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
): void {
  const info = infoOf(client);
  const { peer, forwardedFor } = peerOf(client, info.transport);
  const will = willTopicOf(client);
  const req: ConnectRequest = {
    transport: info.transport,
    protocolVersion: client.version,
    clientId: client.id,
    peerAddress: peer,
  };
  if (username !== undefined) req.username = username;
  if (password !== undefined) req.password = password.toString('utf8');
  forgetConnectPassword(client); // aedes passed it here and reads it nowhere else
  if (forwardedFor !== undefined) req.forwardedFor = forwardedFor;
  if (will !== undefined) req.willTopic = will;
  const outcome = ctx.ports.auth.authenticate(req, (o) => ctx.losant.admit(client, o));
  if (outcome.returnCode !== 0 || !outcome.key || !outcome.device || !outcome.scope) {
    const err = Object.assign(new Error(outcome.decision.reason), { returnCode: outcome.returnCode });
    return done(err, false);
  }
  const previous = ctx.sessions.forDevice(outcome.device.id);
  if (previous) previous.closingReason = 'session.taken-over';
  const session = new BrokerSession(
    outcome.device.id,
    outcome.key.id,
    outcome.scope,
    info.transport,
    outcome.address ?? peer,
    new Date().toISOString(),
    client,
  );
  const xff = joinHeader(forwardedFor);
  if (xff) session.forwardedFor = xff;
  if (outcome.address !== undefined && outcome.address !== peer) session.peerAddress = peer;
  info.session = session;
  info.view = ctx.ports.auth.sessionView(session);
  ctx.sessions.add(session);
  persistStatus(ctx, session, 'connected');
  done(null, true);
}
