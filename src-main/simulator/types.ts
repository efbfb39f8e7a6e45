// Simulated devices (docs/design.md §7): shared types for the engine, the service, the contract and the UI.
// Pure types; credentials are held in memory for a run and never written to the key store.
import type { ReasonCode, StateValue } from '../core/types.ts';

// The behaviour's shapes derive from its schema (core/schemas/behaviour-schema.ts).
export type { CommandReaction, Generator, SimBehaviour } from '../core/schemas/behaviour-schema.ts';
import type { SimBehaviour } from '../core/schemas/behaviour-schema.ts';

export type SimTransport = 'tcp' | 'ws';

export interface SimConfig {
  deviceId: string;
  /** Display name (defaults to the device's name). */
  name?: string;
  credentials: { key: string; secret: string };
  behaviour: SimBehaviour;
  transport: SimTransport;
  /** Another broker (mqtt://, ws://); default: this Keyport's own listener for the transport. */
  url?: string;
  /** TCP: a local 127.x.y.z address to connect from; WS: an X-Forwarded-For value to send. */
  sourceAddress?: string;
}

export type SimStatus = 'idle' | 'connecting' | 'connected' | 'backing-off' | 'refused' | 'stopped';

export interface SimLogEntry {
  time: string;
  kind: 'connect' | 'publish' | 'subscribe' | 'command' | 'disconnect' | 'backoff' | 'error' | 'info';
  ok: boolean;
  /** A broker reason code when the broker's decision feed said it, else the client-side reason. */
  reason?: ReasonCode | string;
  topic?: string;
  detail?: string;
  /** 'broker': taken from the decision feed; 'client': what the MQTT client saw (external brokers). */
  source?: 'broker' | 'client';
  /** The message's payload as text, cut to LOG_PAYLOAD_CHARS (publishes and received messages). */
  payload?: string;
  /** With a list of brokers: the broker a connect outcome came from, or a failover moved to. */
  broker?: string;
}

/** How much of a payload a log entry shows. */
export const LOG_PAYLOAD_CHARS = 300;

export interface SimSnapshot {
  id: string;
  deviceId: string;
  name: string;
  keyId?: string;
  transport: SimTransport;
  status: SimStatus;
  /** The broker's last decision about this device (from the decision feed when in-process). */
  lastDecision?: {
    result: 'allowed' | 'denied';
    reason: string;
    rule: string;
    action: string;
    source?: 'broker' | 'client';
  };
  /** Where outcomes come from: this Keyport's decision feed, or client-side facts (another broker). */
  outcomes?: 'broker' | 'client';
  /** Reason of the last connect or disconnect (what a fleet summary counts). */
  connectionReason?: string;
  /** The device's tags changed while connected (its scope was resolved at connect). */
  scopeChangedSinceConnect?: boolean;
  /** Topics the broker refused; the simulation no longer publishes them (until started again). */
  deniedTopics?: string[];
  /** Reports sent (state messages on its own topic). */
  reports?: number;
  /** Why it stopped, when it stopped by itself (e.g. after the last refused attempt). */
  stopReason?: string;
  /** Credentials kept across restarts (encrypted with safeStorage). */
  credentialsSaved?: boolean;
  publishes: { accepted: number; denied: number };
  subscriptions: { granted: number; refused: number };
  commands: number;
  attributes: Record<string, StateValue>;
  nextRetryAt?: string;
  /** With a list of brokers (a cluster): the one it is on or trying, the list, and moves so far. */
  broker?: string;
  brokers?: string[];
  failovers?: number;
  log: SimLogEntry[];
  fleetId?: string;
  scenario?: string;
}

export interface FleetSummary {
  id: string;
  name: string;
  size: number;
  created: number;
  connected: number;
  /** Count of devices by their last broker reason code. */
  byReason: Record<string, number>;
  phase: 'creating' | 'connecting' | 'running' | 'stopped';
}

export const SCENARIOS = ['tag-scope', 'address-rule', 'topic-rules', 'inactive-key', 'gateway', 'rate-limit'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioInfo {
  name: ScenarioName;
  title: string;
  description: string;
  /** What must be on for the scenario to run: 'losant-limits' = Losant limits mode (docs/design.md §7a). */
  requires?: 'losant-limits';
  /**
   * What the user should see, one line per expected outcome. `after`: the outcome counts only when
   * the sim gets `reason` after it got this other reason (a connect accepted again after a ban).
   */
  expected: { simName: string; outcome: string; reason: string; after?: string }[];
}
