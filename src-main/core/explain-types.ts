// The shapes explain, matrix and the contract share (docs/design.md §12a). Types only, importing only
// core/types.ts, so the renderer's type check (svelte-check, DOM libs, no Node types) can follow the
// contract here without reaching connect.ts' Node crypto.
import type { Decision, ReasonCode, Transport } from './types.ts';

/** One step of the CONNECT chain, for explanations (core/explain.ts). */
export interface Check {
  check: string;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
}

export interface ExplainRequest {
  /** The access key (the MQTT username). */
  key: string;
  /** The secret, when the caller has one; without it the secret check is skipped. */
  secret?: string;
  /** The device id (the MQTT client id). */
  clientId: string;
  transport: Transport;
  /** The direct peer address of the connection. */
  address: string;
  /** The raw X-Forwarded-For header (WebSocket upgrades only). */
  forwardedFor?: string;
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: number;
  willTopic?: string;
  publish: readonly string[];
  subscribe: readonly string[];
  /** Topics of messages someone else publishes: would they be delivered to this device? */
  deliver?: readonly string[];
}

export interface ConnectExplanation {
  decision: Decision;
  returnCode: 0 | 1 | 3 | 4 | 5;
  address?: string;
  keyId?: string;
  chain: Check[];
}

/** What a granted wildcard filter would bring: device topics by name, custom topics by rule. */
export interface WildcardReach {
  delivered: string[];
  withheld: Array<{ topic: string; reason: ReasonCode; rule: string }>;
  /** True when a list was cut at MAX_REACH entries. */
  truncated: boolean;
}

export interface TopicExplanation {
  action: 'publish' | 'subscribe' | 'deliver';
  topic: string;
  decision: Decision;
  chain: Check[];
  /** False when the CONNECT itself is refused: the broker would never see this packet. */
  reachable: boolean;
  reach?: WildcardReach;
}

export interface Explanation {
  connect: ConnectExplanation;
  topics: TopicExplanation[];
  /** CONNECT accepted and every topic allowed. */
  allowed: boolean;
}

export interface MatrixCell {
  allowed: boolean;
  reason: ReasonCode;
}

export interface KeyMatrix {
  keyId: string;
  address: string;
  /** Column titles, e.g. `connect`, `publish state`, `publish "sensors/+"`. */
  columns: string[];
  rows: Array<{ deviceId: string; deviceName: string; cells: MatrixCell[] }>;
}
