// Cluster mode's QoS 1 guarantee (docs/design.md §12b): aedes 1.2.0 writes a PUBACK BEFORE it
// publishes the message (lib/handlers/publish.js, case 1), so a node killed between the two has
// acknowledged a message nobody will ever receive. On one node a crash loses everything in memory
// anyway; in a cluster the other nodes live on, and "acknowledged" must mean "in Redis".
// So: once the PUBLISH is authorized, publish it first (to Redis, through the emitter), and only
// then let aedes go on to write the PUBACK; aedes' own publish of that same packet is skipped.
import type { Aedes, Client, PublishPacket } from 'aedes';

type PublishFn = (packet: PublishPacket, client: Client | null, done?: (err?: Error | null) => void) => void;
type Authorized = (err?: Error | null) => void;

/** Installs the skip on `aedes.publish`; returns how to wrap authorizePublish's callback. */
export function ackAfterPublish(
  aedes: Aedes,
): (client: Client | null, packet: PublishPacket, cb: Authorized) => Authorized {
  const broker = aedes as unknown as { publish: PublishFn };
  const original: PublishFn = broker.publish.bind(aedes);
  /** Packets published ahead of their PUBACK: aedes' publish right after the PUBACK is a no-op for them. */
  const ahead = new WeakSet<PublishPacket>();
  broker.publish = (packet, client, done) => {
    if (typeof client === 'function') return original(packet, null, client as (err?: Error | null) => void);
    if (client && ahead.delete(packet)) return done?.(null);
    return original(packet, client, done);
  };
  return (client, packet, cb) => (err) => {
    if (err || !client || packet.qos !== 1) return cb(err);
    original(packet, client, (e) => {
      if (e) return cb(e); // not in Redis: no PUBACK (aedes closes the connection; the device resends)
      ahead.add(packet);
      cb(null);
    });
  };
}
