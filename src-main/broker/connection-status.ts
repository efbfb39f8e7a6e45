// A session's device connection status as the broker reports it to the status sink
// (docs/design.md §4): connected at CONNECT, disconnected when its last connection ends.
import type { ReasonCode } from '../core/types.ts';
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
  void sink
    .set(s.deviceId, {
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
    })
    .catch((e: unknown) => ctx.log(`keyport: could not record connection status: ${(e as Error).message}`));
}
