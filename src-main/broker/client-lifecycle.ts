// How a connection ends (docs/design.md §4): closed by the broker (wire guard, slow consumer, a
// revocation), by the client, or by the network; the disconnect decision names why, and the
// device becomes disconnected when its last connection is gone. Also the client errors aedes
// reports, classified by their source and code, never by their message text.
import type { Client } from 'aedes';
import type { Duplex } from 'node:stream';
import type { Decision, ReasonCode } from '../core/types.ts';
import { disconnectedCleanly, streamOf } from './aedes-internals.ts';
import { infoOf, joinHeader, peerOf } from './client-info.ts';
import { POLICY_CLOSES, reasonText } from './close-reasons.ts';
import { persistStatus } from './connection-status.ts';
import type { HookContext } from './hook-context.ts';
import type { LiveSession } from './sessions.ts';
import { describeSlow, type SlowVerdict } from './slow-consumer.ts';
import { wireDecision, wsTooLargeDecision, type WireDecision } from './wire-decisions.ts';
import type { WireViolation } from './wire-guard.ts';

/** ws refused a frame over the listener's limit from its header, before buffering it. */
const WS_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

// The wire guard found an oversized or ill-formed packet: say so, then close at once.
export function onWireViolation(ctx: HookContext, client: Client, stream: Duplex, v: WireViolation): void {
  closeForWire(ctx, client, stream, wireDecision(v, client.connected));
}

export function onSlow(ctx: HookContext, client: Client, stream: Duplex, v: SlowVerdict): void {
  closeForWire(ctx, client, stream, { action: 'deliver', reason: 'client.slow', rule: describeSlow(v) });
}

function closeForWire(ctx: HookContext, client: Client, stream: Duplex, d: WireDecision): void {
  const info = infoOf(client);
  const s = info.session;
  const decision: Decision = { allowed: false, reason: d.reason, rule: d.rule };
  if (s) {
    if (!s.closingReason) {
      s.closingReason = d.reason;
      s.closingRule = d.rule;
    }
    if (d.action) ctx.record(client, d.action, decision, d.topic !== undefined ? { topic: d.topic } : undefined);
  } else {
    const { peer, forwardedFor } = peerOf(client, info.transport);
    const xff = joinHeader(forwardedFor);
    ctx.record(client, d.action ?? 'connect', decision, {
      // The id the CONNECT claimed, when aedes has read it (unauthenticated, like other refusals).
      ...(client.id ? { deviceId: client.id } : {}),
      sourceAddress: peer,
      ...(xff ? { forwardedFor: xff } : {}),
      ...(d.topic !== undefined ? { topic: d.topic } : {}),
    });
  }
  stream.destroy(); // no more bytes read from it
  client.close();
}

export function onDisconnect(ctx: HookContext, client: Client): void {
  const s = infoOf(client).session;
  if (!s) return;
  const reason: ReasonCode =
    s.closingReason ??
    (ctx.closing() ? 'broker.shutdown' : disconnectedCleanly(client) ? 'client.disconnect' : 'connection.lost');
  ctx.record(client, 'disconnect', {
    allowed: !POLICY_CLOSES.has(reason),
    reason,
    rule: s.closingRule ?? reasonText(reason),
  });
  ctx.sessions.remove(s);
  // Taken over: the device is connected again, here (the new session is in `sessions` already)
  // or on another node of a cluster, which has stored it as connected.
  if (reason !== 'session.taken-over' && !ctx.sessions.forDevice(s.deviceId))
    persistStatus(ctx, s, 'disconnected', reason);
}

/** An error aedes reports for a connection (socket, ws, parser or its own): by its code. */
export function onClientError(ctx: HookContext, client: Client, err: Error): void {
  if ((err as { code?: unknown }).code === WS_TOO_LARGE) {
    closeForWire(ctx, client, streamOf(client), wsTooLargeDecision(ctx.wsMaxMessageBytes, client.connected));
  }
  // Everything else closes the connection in aedes; onDisconnect records why. Malformed packets
  // are told apart by their source, the packet parser (onMalformedPacket), not by their text.
}

/** mqtt-packet refused what a device sent: logged, naming the device (its bug to fix). */
export function onMalformedPacket(ctx: HookContext, client: Client, err: Error): void {
  const s = infoOf(client).session;
  if (s && !s.closingReason) ctx.log(`keyport: malformed MQTT packet from device ${s.deviceId}: ${err.message}`);
}

export function closeSession(s: LiveSession, reason: ReasonCode): void {
  s.closingReason = reason;
  s.close();
}
