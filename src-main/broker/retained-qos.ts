// Delivery QoS, fixed around aedes 1.2.0 (issue 12 bullet 4). Called from authorizeForward, which
// aedes runs for every delivery (live, retained-on-SUBSCRIBE and queued) before it builds the
// outgoing packet, so lowering `qos` there is what goes on the wire.
//
// Two aedes 1.2.0 defects this works around (lib/client.js, lib/handlers/subscribe.js):
//  1. deliverQoS downgrades only via `subscriptions[packet.topic]`, i.e. when the filter IS the
//     topic; through a wildcard a QoS 2 message went out at QoS 2 on a QoS 1 subscription, and
//     the retained stream calls deliverQoS for QoS 0 subscriptions too. [MQTT-3.8.4-6]: the QoS
//     of a delivery MUST be the minimum of the published QoS and the granted QoS; with overlapping
//     subscriptions the highest grant among the matching filters counts [MQTT-3.3.5-1].
//  2. deliverQoS never records a retained delivery in a clean=0 client's outgoing store
//     (`if (that.clean || packet.retain) doWriteQoS()`), so that client's PUBREC for a QoS 2
//     retained message finds nothing ("no such packet") and aedes drops the connection. QoS 1
//     is safe there (PUBACK of an unknown id is ignored), so a retained message reaches a
//     persistent session at most at QoS 1: at-least-once instead of exactly-once, the one place
//     Keyport delivers below min(publish, granted). A clean=1 session still gets QoS 2.
// Fixing this around aedes, not by patching node_modules: node_modules is shared between
// checkouts here and `npm ci` would need a postinstall step to re-apply a patch.
import type { AedesPublishPacket, Client } from 'aedes';
import { topicMatches } from '../core/topics.ts';
import { subscriptionsOf } from './aedes-internals.ts';

type Subscriptions = Readonly<Record<string, { qos: number } | undefined>>;

/**
 * The highest QoS granted to a filter in `subs` that matches `topic`, stopping early once it
 * reaches `wanted` (nothing higher can matter). -1 when no filter matches.
 */
export function grantedQos(subs: Subscriptions, topic: string, wanted: number): number {
  let best = subs[topic]?.qos ?? -1; // the exact filter: the common case, no matching needed
  if (best >= wanted) return best;
  for (const filter in subs) {
    const q = subs[filter]?.qos ?? -1;
    if (q <= best) continue;
    if (topicMatches(filter, topic)) {
      best = q;
      if (best >= wanted) break;
    }
  }
  return best;
}

/**
 * The QoS this delivery may go out at: min(published, granted) [MQTT-3.8.4-6], and at most 1
 * for a retained message to a persistent session (see the top of this file).
 */
export function deliveryQos(client: Pick<Client, 'clean'>, subs: Subscriptions, packet: AedesPublishPacket): number {
  const published = packet.qos;
  if (published === 0) return 0;
  let qos: number = published;
  const granted = grantedQos(subs, packet.topic, published);
  // No matching filter (a queued message whose subscription has since gone): aedes chose the
  // subscription that delivers it, so keep its QoS rather than invent one.
  if (granted >= 0 && granted < qos) qos = granted;
  if (qos === 2 && packet.retain && !client.clean) qos = 1;
  return qos;
}

/** `packet` itself when its QoS may stand, otherwise a copy at the allowed QoS. */
export function withDeliveryQos(client: Client, packet: AedesPublishPacket): AedesPublishPacket {
  if (packet.qos === 0) return packet;
  const subs = subscriptionsOf<Subscriptions>(client);
  const qos = deliveryQos(client, subs, packet);
  return qos === packet.qos ? packet : { ...packet, qos: qos as AedesPublishPacket['qos'] };
}
