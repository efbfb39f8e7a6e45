// One entry of the decision feed (docs/design.md §8). Never holds a secret.
import type { ReasonCode, Transport } from './types.ts';

export const ACTIONS = ['connect', 'publish', 'subscribe', 'deliver', 'disconnect', 'state', 'auth'] as const;
export type DecisionAction = (typeof ACTIONS)[number];

export interface DecisionEvent {
  seq: number;
  time: string;
  transport: Transport;
  action: DecisionAction;
  result: 'allowed' | 'denied';
  reason: ReasonCode;
  /** The rule that decided, in words. */
  rule: string;
  deviceId?: string;
  keyId?: string;
  /** The effective client address (after X-Forwarded-For), or the peer address. */
  sourceAddress?: string;
  /** The raw X-Forwarded-For header as received, when there was one. */
  forwardedFor?: string;
  /** The direct peer's address, only when X-Forwarded-For made `sourceAddress` another one. */
  peerAddress?: string;
  topic?: string;
  /** The cluster node that decided (docs/design.md §8 "Clustered"); absent on a single node. */
  node?: string;
}
