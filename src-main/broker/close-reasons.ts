// Why a connection ended, as its disconnect decision says it (docs/design.md §4): which closes
// are revocations (no last will), which are the broker's policy (result "denied"), and the text.
import type { ReasonCode } from '../core/types.ts';
import { LIMIT_CLOSES } from './losant-limits.ts';

/** Closes for which the session's authority is gone (no will, result "denied" in the feed). */
export const REVOKED: ReadonlySet<ReasonCode> = new Set(['key.inactive', 'key.deleted', 'device.unknown']);

export const POLICY_CLOSES: ReadonlySet<ReasonCode> = new Set([
  ...REVOKED,
  'publish.denied',
  'session.taken-over',
  'topic.invalid',
  'packet.too-large',
  'payload.too-large',
  'client.slow',
  ...LIMIT_CLOSES,
]);

export function reasonText(reason: ReasonCode): string {
  switch (reason) {
    case 'client.disconnect':
      return 'the client sent DISCONNECT';
    case 'connection.lost':
      return 'the connection closed without DISCONNECT';
    case 'session.taken-over':
      return 'another connection with the same device id took over';
    case 'key.inactive':
      return 'the access key was set to inactive';
    case 'key.deleted':
      return 'the access key was deleted';
    case 'device.unknown':
      return 'the device was deleted';
    case 'publish.denied':
      return 'closed after a denied PUBLISH (MQTT 3.1.1 has no negative PUBACK)';
    case 'broker.shutdown':
      return 'the broker is shutting down';
    case 'topic.invalid':
      return 'closed after a topic or filter that is not well-formed UTF-8 [MQTT-1.5.3-1]';
    case 'packet.too-large':
      return 'closed: a packet before login was larger than the pre-CONNECT limit';
    case 'payload.too-large':
      return 'closed: a packet was larger than the limit (--max-packet)';
    case 'client.slow':
      return 'closed: the client stopped reading (outgoing queue or drain timeout exceeded)';
    default:
      return reason;
  }
}
