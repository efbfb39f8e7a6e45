// What the broker tells about each message it sees, for the Messages view (docs/design.md §8a).
// The broker calls a sink it is given (runtime.ts hands it service/message-tap.ts), so broker/
// never imports service/. The payload is the broker's own buffer, and the message object is the
// broker's too, filled in again for the next PUBLISH (no object per message, issue 17): a sink
// that keeps either copies what it keeps, during the call.
import type { DecisionEvent } from '../core/decision-event.ts';
import type { Transport } from '../core/types.ts';

export interface BrokerMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  origin: 'device' | 'platform';
  deviceId?: string | undefined;
  keyId?: string | undefined;
  transport?: Transport | undefined;
  /** The feed's entry for this PUBLISH (absent for the platform's own publishes: no key check). */
  decision?: DecisionEvent | undefined;
  /** false when the PUBLISH was refused. */
  delivered: boolean;
}

export type MessageSink = (m: BrokerMessage) => void;
