// What the broker's aedes hooks share (connect-hooks.ts, pubsub-hooks.ts, client-lifecycle.ts):
// the ports to the application, the live sessions, the limits and meters, and the recorder.
import type { BrokerPorts } from '../shared/ports.ts';
import type { BrokerLimits } from './broker-limits.ts';
import type { RecordDecision } from './decision-recorder.ts';
import type { LimitsHook } from './losant-limits.ts';
import type { MessageSink } from './message-sink.ts';
import type { RateMeter } from './rate-meter.ts';
import type { Sessions } from './sessions.ts';
import type { SubscribeBoundsLimits } from './subscribe-bounds.ts';

export interface HookContext {
  readonly ports: BrokerPorts;
  /** Log line sink for unexpected errors (never given secrets). */
  readonly log: (line: string) => void;
  readonly sessions: Sessions;
  /** Losant's rates, bans, QoS 2 / retain / session handling; `losant.mode` switches it live. */
  readonly losant: LimitsHook;
  readonly limits: BrokerLimits;
  readonly bounds: SubscribeBoundsLimits;
  readonly published: RateMeter;
  readonly delivered: RateMeter;
  /** The WebSocket listener's message limit, to name it when ws refuses a frame. */
  readonly wsMaxMessageBytes: number;
  readonly record: RecordDecision;
  /** Told of every PUBLISH the broker decides and every message the platform publishes (message-sink.ts). */
  readonly onMessage: MessageSink | undefined;
  /** True once the broker is shutting down (disconnects then say broker.shutdown). */
  readonly closing: () => boolean;
}
