// A session's device connection status as the broker reports it to the status sink
// (docs/design.md §4): connected at CONNECT, disconnected when its last connection ends.
import type { ConnectionStatus, ReasonCode } from '../core/types.ts';
import type { HookContext } from './hook-context.ts';
import type { LiveSession } from './sessions.ts';

export function persistStatus(
  ctx: HookContext,
  s: LiveSession,
  status: 'connected' | 'disconnected',
  reason?: ReasonCode,
): void {
  const sink = ctx.ports.status;
  const prev = sink.current(s.deviceId);
  // A CONNECT with its scope unchanged (nearly all): every key in one literal, in the order of
  // full() below, so V8 allocates it in one piece (one per CONNECT, issue 17 item 1).
  const next: ConnectionStatus =
    status !== 'connected' || s.scopeChangedSinceConnect
      ? full(s, status, prev, reason)
      : prev?.disconnectedAt
        ? {
            status,
            connectedAt: s.connectedAt,
            disconnectedAt: prev.disconnectedAt,
            ipAddress: s.address,
            transport: s.transport,
            messagesFromClient: s.messagesFromClient,
            messagesToClient: s.messagesToClient,
          }
        : {
            status,
            connectedAt: s.connectedAt,
            ipAddress: s.address,
            transport: s.transport,
            messagesFromClient: s.messagesFromClient,
            messagesToClient: s.messagesToClient,
          };
  const durable = sink.set(s.deviceId, next);
  // The statuses of a connect burst share one promise (one lazy store write, see StatusSink): it
  // gets one failure handler, not one per CONNECT, so a failed write is logged once.
  if (!watched.has(durable)) {
    watched.add(durable);
    void durable.catch((e: unknown) => ctx.log(`keyport: could not record connection status: ${(e as Error).message}`));
  }
}

/** The status promises already given a failure handler. */
const watched = new WeakSet<Promise<unknown>>();

function full(
  s: LiveSession,
  status: 'connected' | 'disconnected',
  prev: ConnectionStatus | undefined,
  reason: ReasonCode | undefined,
): ConnectionStatus {
  return {
    status,
    connectedAt: s.connectedAt,
    ...(status === 'disconnected'
      ? { disconnectedAt: new Date().toISOString(), ...(reason ? { disconnectReason: reason } : {}) }
      : prev?.disconnectedAt
        ? { disconnectedAt: prev.disconnectedAt }
        : {}),
    ipAddress: s.address,
    transport: s.transport,
    messagesFromClient: s.messagesFromClient,
    messagesToClient: s.messagesToClient,
    ...(s.scopeChangedSinceConnect ? { scopeChangedSinceConnect: true } : {}),
  };
}
