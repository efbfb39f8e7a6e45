// What the feed says when the wire guard, the WebSocket frame limit or the slow-consumer bound
// closes a connection: the action, the reason code and the rule in words (sizes and caps named).
import type { DecisionAction } from '../core/decision-event.ts';
import type { ReasonCode } from '../core/types.ts';
import type { WireViolation } from './wire-guard.ts';
import { formatUtf8Problem } from './wire-utf8.ts';

export interface WireDecision {
  /** The packet's own action (publish/subscribe/connect), or null when only the disconnect tells. */
  action: DecisionAction | null;
  reason: ReasonCode;
  rule: string;
  topic?: string;
}

const n = (x: number): string => x.toLocaleString('en-US');

export function wireDecision(v: WireViolation, loggedIn: boolean): WireDecision {
  if (v.kind === 'utf8') {
    return {
      action: v.packet === 'CONNECT' ? 'connect' : v.packet === 'PUBLISH' ? 'publish' : 'subscribe',
      reason: 'topic.invalid',
      rule: `${v.field} in ${v.packet} is not well-formed UTF-8: ${formatUtf8Problem(v.problem)} [MQTT-1.5.3-1]; connection closed`,
      topic: v.printable,
    };
  }
  // packet.too-large: refused by a pre-login bound; payload.too-large: by the per-packet limit
  // that applies to every logged-in client (Losant limits mode reuses it).
  const reason: ReasonCode = v.limit === 'packet' ? 'payload.too-large' : 'packet.too-large';
  const claim = v.malformedLength
    ? `has a remaining length longer than 4 bytes (malformed, more than ${n(v.claimed - 1)} bytes)`
    : `claims ${n(v.claimed)} bytes after its fixed header`;
  const cap =
    v.limit === 'connect'
      ? `at most ${n(v.cap)} are accepted for a CONNECT, before a client has logged in`
      : v.limit === 'pre-login'
        ? `only ${n(v.cap)} more are accepted before the client's CONNECT has been answered`
        : `the limit is ${n(v.cap)} bytes (--max-packet)`;
  const action: DecisionAction | null =
    v.packet === 'PUBLISH'
      ? 'publish'
      : v.packet === 'SUBSCRIBE' || v.packet === 'UNSUBSCRIBE'
        ? 'subscribe'
        : !loggedIn
          ? 'connect'
          : null;
  return { action, reason, rule: `${v.packet} ${claim}; ${cap}; closed before reading its body` };
}

/** A WebSocket message over the listener's frame limit (ws refused it from its frame header). */
export function wsTooLargeDecision(maxMessageBytes: number, loggedIn: boolean): WireDecision {
  return {
    action: loggedIn ? null : 'connect',
    reason: loggedIn ? 'payload.too-large' : 'packet.too-large',
    rule: `WebSocket message larger than ${n(maxMessageBytes)} bytes (twice the packet limit); closed before reading it (close code 1009)`,
  };
}
