// What a simulated device shows as the outcome of each thing it did. With the broker in this
// process (or reachable through its bridge) the outcomes are the broker's own decisions, taken
// from the decision feed and routed to the simulation by device id (and key id): honest, not
// guessed by the client. Against another broker only client-side facts exist (CONNACK code,
// SUBACK codes, PUBACK, a close right after a publish); those entries are marked source 'client'.
import type { DecisionEvent } from '../core/decision-event.ts';
import type { Device } from '../core/types.ts';
import type { SimLogEntry, SimSnapshot } from './types.ts';

export type LastDecision = NonNullable<SimSnapshot['lastDecision']>;

/** One outcome for a simulation: a log entry and what it changes. */
export interface Outcome {
  entry: SimLogEntry;
  decision?: LastDecision;
  count?: { kind: 'publish' | 'subscribe'; ok: boolean };
  /** Reason of a connect or disconnect (a fleet summary counts these). */
  connectionReason?: string;
  /** A topic the broker refused a publish on. */
  deniedTopic?: string;
}

/** Where broker decisions come from: service.feed.events, or the CLI's bridge to a server. */
export interface DecisionSource {
  on(event: 'decision', listener: (e: DecisionEvent) => void): () => void;
}

/** What the router needs from a simulation. */
export interface OutcomeTarget {
  readonly deviceId: string;
  readonly keyId: string | undefined;
  readonly outcomeSource: 'broker' | 'client';
  applyOutcome(o: Outcome): void;
  noteScopeChanged(): void;
}

const KINDS: Partial<Record<DecisionEvent['action'], SimLogEntry['kind']>> = {
  connect: 'connect',
  publish: 'publish',
  subscribe: 'subscribe',
  disconnect: 'disconnect',
  deliver: 'info',
  state: 'info',
};

/** A decision of the broker as a simulation outcome (null for decisions a device never causes). */
export function brokerOutcome(e: DecisionEvent): Outcome | null {
  const kind = KINDS[e.action];
  if (!kind) return null;
  const ok = e.result === 'allowed';
  const detail =
    e.action === 'deliver'
      ? `message not delivered: ${e.rule}`
      : e.action === 'state'
        ? `state not stored: ${e.rule}`
        : e.rule;
  const entry: SimLogEntry = {
    time: e.time,
    kind,
    ok,
    reason: e.reason,
    detail,
    source: 'broker',
    ...(e.topic !== undefined ? { topic: e.topic } : {}),
  };
  const o: Outcome = {
    entry,
    decision: { result: e.result, reason: e.reason, rule: e.rule, action: e.action, source: 'broker' },
  };
  if (e.action === 'publish') {
    o.count = { kind: 'publish', ok };
    if (!ok && e.topic !== undefined) o.deniedTopic = e.topic;
  }
  if (e.action === 'subscribe') o.count = { kind: 'subscribe', ok };
  if (e.action === 'connect' || e.action === 'disconnect') o.connectionReason = e.reason;
  return o;
}

// ---- client-side facts (another broker) -------------------------------------------------------

/** MQTT 3.1.1 CONNACK return codes, named (section 3.2.2.3). */
export const CONNACK_REASONS: Record<number, string> = {
  0: 'connack.accepted',
  1: 'connack.unacceptable-protocol',
  2: 'connack.identifier-rejected',
  3: 'connack.server-unavailable',
  4: 'connack.bad-credentials',
  5: 'connack.not-authorized',
};

const CONNACK_TEXT: Record<number, string> = {
  0: 'CONNACK 0: connection accepted',
  1: 'CONNACK 1: unacceptable protocol version',
  2: 'CONNACK 2: identifier rejected',
  3: 'CONNACK 3: server unavailable',
  4: 'CONNACK 4: bad user name or password',
  5: 'CONNACK 5: not authorized',
};

const now = (): string => new Date().toISOString();

function clientOutcome(
  kind: SimLogEntry['kind'],
  ok: boolean,
  reason: string,
  detail: string,
  action: string,
  topic?: string,
): Outcome {
  return {
    entry: { time: now(), kind, ok, reason, detail, source: 'client', ...(topic !== undefined ? { topic } : {}) },
    decision: { result: ok ? 'allowed' : 'denied', reason, rule: `client-side: ${detail}`, action, source: 'client' },
  };
}

export function connackOutcome(code: number): Outcome {
  const reason = CONNACK_REASONS[code] ?? `connack.${code}`;
  const o = clientOutcome('connect', code === 0, reason, CONNACK_TEXT[code] ?? `CONNACK ${code}`, 'connect');
  o.connectionReason = reason;
  return o;
}

export function subackOutcome(filter: string, code: number): Outcome {
  const ok = code < 0x80;
  const o = clientOutcome(
    'subscribe',
    ok,
    ok ? 'suback.granted' : 'suback.refused',
    ok ? `SUBACK granted QoS ${code}` : `SUBACK 0x${code.toString(16)}: refused`,
    'subscribe',
    filter,
  );
  o.count = { kind: 'subscribe', ok };
  return o;
}

export function publishedOutcome(topic: string, qos: 0 | 1): Outcome {
  const o = clientOutcome(
    'publish',
    true,
    qos === 1 ? 'puback.received' : 'publish.sent',
    qos === 1 ? 'PUBACK received' : 'sent at QoS 0 (no acknowledgement in MQTT)',
    'publish',
    topic,
  );
  o.count = { kind: 'publish', ok: true };
  return o;
}

export function closedAfterPublishOutcome(topic: string): Outcome {
  const o = clientOutcome(
    'publish',
    false,
    'publish.closed',
    'the broker closed the connection right after this publish (taken as a refusal)',
    'publish',
    topic,
  );
  o.count = { kind: 'publish', ok: false };
  o.deniedTopic = topic;
  return o;
}

export function closedOutcome(): Outcome {
  const o = clientOutcome('disconnect', false, 'connection.closed', 'the broker closed the connection', 'disconnect');
  o.connectionReason = 'connection.closed';
  return o;
}

// ---- routing ----------------------------------------------------------------------------------

/** Routes every broker decision to the simulations of that device (and key, when both are known). */
export function attachDecisionFeed(
  source: DecisionSource,
  targets: (deviceId: string) => Iterable<OutcomeTarget> | undefined,
): () => void {
  return source.on('decision', (e) => {
    if (e.deviceId === undefined) return;
    // Undefined for a device nobody simulates (every PUBLISH of a real device): no empty list
    // and no iterator per decision (issue 17 item 1).
    const list = targets(e.deviceId);
    if (list === undefined) return;
    let outcome: Outcome | null | undefined;
    for (const t of list) {
      if (t.outcomeSource !== 'broker') continue;
      if (e.keyId !== undefined && t.keyId !== undefined && e.keyId !== t.keyId) continue;
      outcome ??= brokerOutcome(e);
      if (!outcome) return;
      t.applyOutcome(outcome);
    }
  });
}

export interface DeviceStatusSource {
  on(event: 'device.status', listener: (d: Device) => void): () => void;
}

/** A device whose tags changed while connected is marked by the broker; show it on its simulation. */
export function attachScopeWatch(
  source: DeviceStatusSource,
  targets: (deviceId: string) => Iterable<OutcomeTarget>,
): () => void {
  return source.on('device.status', (d) => {
    if (!d.connectionStatus?.scopeChangedSinceConnect || d.connectionStatus.status !== 'connected') return;
    for (const t of targets(d.id)) if (t.outcomeSource === 'broker') t.noteScopeChanged();
  });
}
