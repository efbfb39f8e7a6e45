// The narrow ports through which the broker (src-main/broker/) and the Losant HTTP API
// (src-main/server/losant-api/) see the application. Types only: no implementation, no Node
// import. service/ builds them (KeyportService.ports, service/access-control.ts); the broker and
// the API import nothing of service/ (the dependency-cruiser rules broker-not-to-service and
// losant-api-not-to-service).
import type { ConnectOutcome, ConnectRequest } from '../core/connect.ts';
import type { TrustedProxies } from '../core/client-address.ts';
import type { DecisionEvent } from '../core/decision-event.ts';
import type { DeviceScope } from '../core/device-scope.ts';
import type { Ban } from '../core/limits.ts';
import type { Command } from '../core/payloads.ts';
import type { SessionView } from '../core/topic-access.ts';
import type {
  AccessKey,
  AccessKeyRecord,
  ConnectionStatus,
  CreatedKey,
  Decision,
  Device,
  DeviceState,
  ReasonCode,
} from '../core/types.ts';

/** A decision as a transport hands it in; the feed fills in seq and time. */
export type NewDecision = Omit<DecisionEvent, 'seq' | 'time'>;

/** Records decision events (docs/design.md §8). */
export interface DecisionSink {
  /** Records a decision; the feed fills in seq and time. */
  record(d: NewDecision): void;
  /** Records an event the caller built in its final shape (the per-PUBLISH path: no copy). */
  add(e: DecisionEvent): void;
  readonly size: number;
}

/** Device connection status changes (docs/design.md §4). */
export interface StatusSink {
  /** The device's status as stored now (to carry over its last disconnectedAt). */
  current(deviceId: string): ConnectionStatus | undefined;
  /**
   * Visible at once; resolves when on disk. Statuses that share one store write may share one
   * promise (no promise per CONNECT).
   */
  set(deviceId: string, status: ConnectionStatus): Promise<unknown>;
}

/**
 * CONNECT or POST /auth/device, once evaluated, recorded and (when accepted) the key marked used.
 * The use is bookkeeping: it is in memory at once and written lazily, never awaited by the caller.
 */
export type Authenticated = ConnectOutcome;

/** A device token presented on a request: what it claims, and where the request comes from. */
export interface TokenUse {
  keyId: string;
  /** The device the token was issued for. */
  deviceId: string;
  /** The key's lastUpdated when the token was issued. */
  keyRevision: string;
  client: { peer: string; forwardedFor?: string | string[] | undefined };
}

/** What a token use is about, for the decision a refusal records. */
export interface TokenPurpose {
  action: 'publish' | 'subscribe';
  topic: string;
  /** The effective address of the request (or its peer), for the feed. */
  sourceAddress: string;
  forwardedFor?: string;
}

export type TokenVerdict =
  | { allowed: true; key: AccessKeyRecord; view: SessionView }
  | {
      allowed: false;
      decision: Decision;
      /** True when only a new /auth/device can cure it (401); false: not allowed now (403). */
      reauthenticate: boolean;
    };

/** A live MQTT session as the access rule acts on it when a key or device changes. */
export interface SessionHandle {
  readonly deviceId: string;
  readonly keyId: string;
  scopeChangedSinceConnect: boolean;
}

/** The broker's live sessions, handed to the access rule to follow key and device changes. */
export interface SessionControl<S extends SessionHandle = SessionHandle> {
  forKey(keyId: string): Iterable<S>;
  forDevice(deviceId: string): S | undefined;
  /** Closes a session for a revocation (key.inactive, key.deleted, device.unknown). */
  close(s: S, reason: ReasonCode): void;
}

/** Who may act (docs/design.md §4, §4a): CONNECT and device auth, re-checks, reactions to changes. */
export interface AuthPort {
  /**
   * Runs the CONNECT checks for an MQTT CONNECT (action connect) or POST /auth/device (transport
   * http, action auth), lets `admit` adjust the outcome (Losant limits), records the one decision
   * and, when accepted, marks the key used.
   */
  authenticate(req: ConnectRequest, admit?: (o: ConnectOutcome) => ConnectOutcome): Authenticated;
  /** Re-checks a device token at this use (docs/design.md §4a); a refusal is recorded. */
  checkToken(use: TokenUse, purpose: TokenPurpose): TokenVerdict;
  /** How a session sees topics: its scope fixed, the key's topic rules read as they are now. */
  sessionView(s: { deviceId: string; keyId: string; scope: DeviceScope }): SessionView;
  /** Live sessions follow key and device changes (docs/design.md §4a). Returns the unsubscribe. */
  watchSessions<S extends SessionHandle>(sessions: SessionControl<S>): () => void;
  device(id: string): Device | undefined;
}

/** Publishes a message as the platform (commands from the UI and the HTTP API). */
export type PlatformPublisher = (topic: string, payload: string) => Promise<void>;

/**
 * What acceptReport did with an MQTT state report (service/telemetry.ts). Read-only: reports
 * merged in one turn may be answered with one shared (frozen) object.
 */
export interface StateIntake {
  readonly decision: Decision;
  readonly stored: boolean;
  readonly durable: Promise<void>;
}

/** Device state and commands (docs/design.md §5). */
export interface TelemetryPort {
  setPublisher(p: PlatformPublisher | null): void;
  recordCommand(deviceId: string, command: Command): void;
  /** Stores an authorised MQTT state report before its PUBACK. */
  acceptReport(deviceId: string, payload: Buffer | string): StateIntake;
  /** Stores a state report posted over HTTP. */
  recordState(deviceId: string, payload: Buffer | string): Promise<Decision>;
  sendCommand(deviceId: string, input: unknown): Promise<Command>;
  history(deviceId: string): DeviceState[];
  commands(deviceId: string): Command[];
}

/**
 * The other cluster nodes as Losant limits see them (docs/design.md §7a, clustered): what they
 * admitted in the application's connection window, and where a ban imposed here is told. Set on
 * the broker's LimitsHook (`broker.losant.peers`) by server/cluster-views.ts; absent on one node.
 * Both calls are synchronous and never wait for the network: the CONNECT path does not stall.
 */
export interface LimitsPeers {
  /** Device connections the other nodes admitted in their current windows (as last heard). */
  connectsElsewhere(now: number): number;
  /** A ban this node just imposed on `deviceId`, for every other node to enforce. */
  banned(deviceId: string, ban: Ban): void;
}

/** Everything the broker needs. */
export interface BrokerPorts {
  auth: AuthPort;
  decisions: DecisionSink;
  status: StatusSink;
  telemetry: TelemetryPort;
}

/** Records managed by the Losant API's admin endpoints (input is validated behind the port). */
export interface ManagementPort<T, Created = T> {
  list(): T[];
  get(id: string): T;
  create(input: unknown): Promise<Created>;
  update(id: string, patch: unknown): Promise<T>;
  remove(id: string): Promise<T>;
}

export type KeysPort = ManagementPort<AccessKey, CreatedKey>;
export type DevicesPort = ManagementPort<Device>;

/** Everything the Losant HTTP API needs. */
export interface ApiPorts extends BrokerPorts {
  applicationId: string;
  /** The device-token signing key (derived from the install's pepper; never the pepper itself). */
  tokenKey: Buffer;
  keys: KeysPort;
  devices: DevicesPort;
}

/** Builds the ports for one consumer with that consumer's trusted proxies (docs/design.md §6). */
export interface PortSource {
  ports(opts: { trustedProxies: TrustedProxies }): ApiPorts;
}
