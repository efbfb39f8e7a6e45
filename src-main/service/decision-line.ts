// One decision event as one line of the decision log (docs/design.md §8): exactly what
// `JSON.stringify(event) + '\n'` gives for a DecisionEvent, built faster. The broker records an
// event for every PUBLISH, tens of thousands a second (issue 17), and most of an event's strings
// repeat (the reason, the rule, the device, key, address and topic of one session), so each
// distinct string is JSON-quoted once and looked up after that.
import type { DecisionEvent } from '../core/decision-event.ts';

/** Distinct strings quoted before they are quoted again; the cache starts afresh past this. */
const QUOTED_MAX = 4096;
const quoted = new Map<string, string>();

function q(s: string): string {
  let v = quoted.get(s);
  if (v === undefined) {
    v = JSON.stringify(s);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(s, v);
  }
  return v;
}

/** Quotes a string seen once: a CONNECT's device, key and address come back per connection only. */
const quoteOnce = (s: string): string => JSON.stringify(s);

/**
 * The event's JSON line, with its newline: the keys in DecisionEvent's order (the order in which
 * every producer builds it: core/decision-event.ts), the optional ones only when present.
 */
export function decisionLine(e: DecisionEvent): string {
  // A connection's own strings (and its CONNECT rule, which may name the device) repeat on its
  // PUBLISHes, not across CONNECTs: a fleet of more than QUOTED_MAX / 2 devices connecting would
  // clear the cache again and again (a Map insert and a clear per string, slower than quoting:
  // 2.3 vs 0.8 µs a line for 2,000 devices; issue 17 item 1) and push out the strings that repeat.
  const per = e.action === 'connect' || e.action === 'disconnect' || e.action === 'auth' ? quoteOnce : q;
  // seq is a positive integer (the feed's counter): its JSON text is its decimal text.
  let s = `{"seq":${e.seq},"time":${q(e.time)},"transport":${q(e.transport)},"action":${q(e.action)},"result":${q(e.result)},"reason":${q(e.reason)},"rule":${per(e.rule)}`;
  if (e.deviceId !== undefined) s += `,"deviceId":${per(e.deviceId)}`;
  if (e.keyId !== undefined) s += `,"keyId":${per(e.keyId)}`;
  if (e.sourceAddress !== undefined) s += `,"sourceAddress":${per(e.sourceAddress)}`;
  if (e.forwardedFor !== undefined) s += `,"forwardedFor":${per(e.forwardedFor)}`;
  if (e.peerAddress !== undefined) s += `,"peerAddress":${per(e.peerAddress)}`;
  if (e.topic !== undefined) s += `,"topic":${q(e.topic)}`;
  return s + '}\n';
}
