// THE contract between the UI/CLI and the backend: methods (request -> response) and events.
// Electron IPC (preload), the headless WebSocket bridge and the CLI's HTTP client are transports
// of it. Requests are validated at runtime where they enter (service/dispatch.ts); errors cross
// as {code, message}. No method or event ever carries a stored secret: the only secret that
// crosses is the one returned once by keys.create / devices.generateKey.
import type { LimitsMode } from './core/limits.ts';
import type { DecisionEvent } from './core/decision-event.ts';
import type { Explanation, KeyMatrix } from './core/explain-types.ts';
import type { LintFinding } from './core/key-lint.ts';
import type { KeyAdmitting } from './core/device-keys.ts';
import type { MessageDelivery, MessageSubscription, TappedMessage } from './core/message.ts';
import type { DeviceInput, DevicePatch } from './core/schemas/device-schemas.ts';
import type { KeyInput, KeyPatch } from './core/schemas/key-schemas.ts';
import type { AccessKey, Command, CreatedKey, Device, DeviceState, FieldError, Tag, Transport } from './core/types.ts';
import type {
  FleetSummary,
  ScenarioInfo,
  ScenarioName,
  SimBehaviour,
  SimSnapshot,
  SimTransport,
} from './simulator/types.ts';

// The simulator's shapes, for the UI: the renderer imports them from here, never from simulator/.
export type {
  CommandReaction,
  FleetSummary,
  Generator,
  ScenarioInfo,
  ScenarioName,
  SimBehaviour,
  SimLogEntry,
  SimSnapshot,
  SimStatus,
  SimTransport,
} from './simulator/types.ts';

export interface ListenerInfo {
  mqtt: number;
  ws: number;
  tls: number;
  http: number;
  host: string;
}

export interface ClientInfo {
  deviceId: string;
  deviceName: string;
  keyId: string;
  transport: Transport;
  address: string;
  connectedAt: string;
  messagesFromClient: number;
  messagesToClient: number;
  scopeChangedSinceConnect: boolean;
  /** Clustered: the node the client is connected to (docs/design.md §13). */
  node?: string;
}

/** A client as another cluster node reports it (docs/design.md §8 "Clustered"). */
export interface ClusterClientInfo {
  deviceId: string;
  keyId: string;
  transport: Transport;
  connectedAt: string;
}

/** One node of the cluster, from its registry entry in Redis (heartbeat every second, TTL a few). */
export interface ClusterNodeInfo {
  nodeId: string;
  /** The node answering this status. */
  self: boolean;
  listeners: ListenerInfo | null;
  startedAt: string;
  heartbeatAt: string;
  clientCount: number;
  /** Its clients, at most the registry's cap (then fewer than clientCount). */
  clients: ClusterClientInfo[];
}

export interface BrokerStatus {
  listeners: ListenerInfo | null;
  clients: ClientInfo[];
  /** Messages per second over the last few seconds. */
  rate: { published: number; delivered: number };
  totals: { published: number; delivered: number; decisions: number };
  /** Losant limits mode and the bans in force (src-main/broker/losant-limits.ts). */
  limits?: LimitsInfo;
  /** Clustered: every live node, this one first (server/cluster-views.ts). */
  nodes?: ClusterNodeInfo[];
}

/** broker.cluster / broker.setCluster: URLs shown with their password masked (redis://:***@host). */
export interface ClusterSettingInfo {
  /** What this process runs with now; null when it is not a cluster node. */
  running: { nodeId: string; url: string } | null;
  /** What is stored in settings.json for the next start; null: not clustered next time. */
  stored: { url: string; nodeId: string | null } | null;
}

export interface LimitsInfo {
  mode: LimitsMode;
  /** Devices refused at CONNECT (limit.banned) until `until`. */
  bans: Array<{ deviceId: string; level: number; until: string; remainingMs: number }>;
}

export type { CreatedKey } from './core/types.ts';

/** decisions.list / decisions.export (core/schemas/request-schemas.ts). */
export type { DecisionFilter } from './core/schemas/request-schemas.ts';
import type {
  DecisionFilter,
  GenerateKey,
  SendCommand,
  SetCluster,
  SetLimits,
} from './core/schemas/request-schemas.ts';

/** How a simulated device gets its credentials (docs/design.md §7). */
export type SimCredentialsInput =
  { mode: 'generate' } | { mode: 'paste'; key: string; secret: string } | { mode: 'file'; content: string };

export interface SimAddRequest {
  deviceId: string;
  name?: string;
  credentials: SimCredentialsInput;
  behaviour: SimBehaviour;
  transport: SimTransport;
  sourceAddress?: string;
  /** Another MQTT 3.1.1 broker (mqtt://, ws://…); outcomes are then client-side only. Default: this Keyport. */
  url?: string;
  /** Start right away (default true). */
  start?: boolean;
}

export interface FleetRequest {
  count: number;
  namePrefix?: string;
  tags?: Tag[];
  behaviour: SimBehaviour;
  transport?: SimTransport;
}

/** A playground question (docs/design.md §12a). `key` is a key id or the key; `secret` optional. */
export interface ExplainQuery {
  key: string;
  secret?: string;
  deviceId: string;
  transport?: 'tcp' | 'ws' | 'tls';
  address?: string;
  forwardedFor?: string;
  /** Explain with these trusted proxies instead of the server's own (IPs/CIDRs; [] trusts none). */
  trustedProxies?: string[];
  protocolVersion?: number;
  willTopic?: string;
  publish?: string[];
  subscribe?: string[];
  deliver?: string[];
}

export type { MessageDelivery, MessageSubscription, TappedMessage } from './core/message.ts';

/** The Messages view's Publish box (docs/design.md §8a). */
export interface PublishRequest {
  topic: string;
  /** UTF-8 text (JSON or anything else). */
  payload: string;
  qos?: 0 | 1;
  retain?: boolean;
  /** Publish as this simulation's device, through its own connection and key; absent: as the platform. */
  simulationId?: string;
}

export interface PublishResult {
  origin: 'platform' | 'device';
  deviceId?: string;
  /** The message as the tap saw it, with the broker's decision; absent when it was not seen in time. */
  message?: TappedMessage;
}

export type { KeyMatrix, MatrixCell } from './core/explain-types.ts';
export type { AdmitReason, KeyAdmitting } from './core/device-keys.ts';
export type { LintCode, LintFinding } from './core/key-lint.ts';
export type { Check, Explanation, TopicExplanation, WildcardReach } from './core/explain-types.ts';

export interface Methods {
  'app.info': {
    req: Record<string, never>;
    res: {
      applicationId: string;
      dataDir: string;
      listeners: ListenerInfo | null;
      mode: 'desktop' | 'headless';
      /** The peers whose X-Forwarded-For the broker believes (IPs/CIDRs): the playground's default. */
      trustedProxies: string[];
    };
  };
  'broker.status': { req: Record<string, never>; res: BrokerStatus };
  /** Switches Losant limits mode live and stores it in the data directory. */
  'broker.setLimits': { req: SetLimits; res: LimitsInfo };
  /** The cluster this process runs in and the one stored for its next start. */
  'broker.cluster': { req: Record<string, never>; res: ClusterSettingInfo };
  /** Stores the cluster to join at the next start (settings.json; `serve --cluster` overrides it). */
  'broker.setCluster': { req: SetCluster; res: ClusterSettingInfo };
  'devices.list': { req: Record<string, never>; res: Device[] };
  'devices.get': { req: { id: string }; res: Device };
  'devices.create': { req: DeviceInput; res: Device };
  'devices.update': { req: { id: string; patch: DevicePatch }; res: Device };
  'devices.delete': { req: { id: string }; res: Device };
  'devices.history': { req: { id: string }; res: DeviceState[] };
  'devices.commands': { req: { id: string }; res: Command[] };
  'devices.sendCommand': { req: SendCommand; res: Command };
  /** The access keys whose device restriction admits this device, each with why (id, tag or all devices). */
  'devices.keys': { req: { id: string }; res: KeyAdmitting[] };
  /** A key scoped to this one device (createdVia device-page). */
  'devices.generateKey': { req: GenerateKey; res: CreatedKey };
  'keys.list': { req: { query?: unknown }; res: AccessKey[] };
  'keys.get': { req: { id: string }; res: AccessKey };
  'keys.create': { req: KeyInput; res: CreatedKey };
  'keys.update': { req: { id: string; patch: KeyPatch }; res: AccessKey };
  'keys.delete': { req: { id: string }; res: AccessKey };
  'simulator.list': { req: Record<string, never>; res: { sims: SimSnapshot[]; fleets: FleetSummary[] } };
  'simulator.add': { req: SimAddRequest; res: SimSnapshot };
  'simulator.start': { req: { id: string }; res: SimSnapshot };
  'simulator.stop': { req: { id: string }; res: SimSnapshot };
  'simulator.report': { req: { id: string }; res: SimSnapshot };
  'simulator.remove': { req: { id: string }; res: { id: string } };
  /** Keep this simulation's credentials across restarts (desktop only: encrypted with safeStorage). */
  'simulator.saveCredentials': { req: { id: string }; res: { saved: boolean; encrypted: boolean } };
  'simulator.createFleet': { req: FleetRequest; res: FleetSummary };
  'simulator.fleetStart': { req: { id: string }; res: FleetSummary };
  'simulator.fleetStop': { req: { id: string }; res: FleetSummary };
  'simulator.fleetRemove': { req: { id: string }; res: { id: string } };
  'simulator.scenarios': { req: Record<string, never>; res: ScenarioInfo[] };
  'simulator.runScenario': { req: { name: ScenarioName }; res: { sims: SimSnapshot[] } };
  /** A scenario's Clear: removes its simulations and every device and key it made; `kept` names any that could not go. */
  'simulator.clearScenario': {
    req: { name: ScenarioName };
    res: { sims: number; devices: number; keys: number; kept: string[] };
  };
  /** Would this connect / publish / subscribe be allowed, and why? Nothing connects, nothing is recorded. */
  'access.explain': { req: ExplainQuery; res: Explanation };
  /** One key's devices × {connect, publish state, subscribe command, each custom rule}; `csv` is the export. */
  'keys.matrix': { req: { id: string; address?: string }; res: KeyMatrix & { csv: string } };
  /** Linter findings for one key (`id`) or all keys. */
  'keys.lint': { req: { id?: string }; res: Array<{ keyId: string; findings: LintFinding[] }> };
  'decisions.list': { req: DecisionFilter; res: DecisionEvent[] };
  /** Watch an MQTT filter as the platform; starts with the matching recent messages. */
  'messages.subscribe': {
    req: { filter: string; deviceId?: string };
    res: { subscription: MessageSubscription; messages: TappedMessage[] };
  };
  'messages.list': { req: { id: string }; res: TappedMessage[] };
  'messages.clear': { req: { id: string }; res: { id: string } };
  'messages.unsubscribe': { req: { id: string }; res: { id: string } };
  'messages.publish': { req: PublishRequest; res: PublishResult };
  'decisions.export': { req: DecisionFilter; res: { jsonl: string; count: number } };
}

export interface Events {
  /** Every decision since the last batch, oldest first: one message per flush (≤ 100 ms by default), never empty. */
  decisions: DecisionEvent[];
  /** Messages matching live subscriptions since the last batch, oldest first (batched like `decisions`). */
  messages: MessageDelivery[];
  'device.changed': Device;
  'device.deleted': { id: string };
  'device.state': { deviceId: string; state: DeviceState };
  'device.command': { deviceId: string; command: Command };
  'key.changed': AccessKey;
  'key.deleted': { id: string };
  'broker.status': BrokerStatus;
  'simulator.changed': SimSnapshot;
  'simulator.removed': { id: string };
  'simulator.fleet': FleetSummary;
}

export type MethodName = keyof Methods;
export type EventName = keyof Events;
export type Req<M extends MethodName> = Methods[M]['req'];
export type Res<M extends MethodName> = Methods[M]['res'];

export type ErrorCode =
  | 'validation'
  | 'not-found'
  | 'conflict'
  | 'unavailable'
  | 'unauthorized'
  | 'bad-request'
  /** The change could not be written (disk full, read-only, I/O error) and was not made. HTTP 507. */
  | 'storage'
  | 'internal';

/** How an error crosses a transport. */
export interface ContractError {
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
}

export type Reply<M extends MethodName> = { ok: true; result: Res<M> } | { ok: false; error: ContractError };

/** What every transport offers the caller. */
export interface KeyportApi {
  call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>>;
}

/** What the renderer gets (window.keyport in Electron; the WebSocket bridge in a browser). */
export interface KeyportBridge extends KeyportApi {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Electron only: save secrets with a native dialog; the renderer never picks a path itself. */
  saveSecretsFile?(req: { suggestedName: string; content: string }): Promise<{ saved: boolean; path?: string }>;
}

/** What the Electron preload exposes as window.keyportIpc: raw replies (errors cannot cross contextBridge intact). */
export interface IpcBridge {
  call(method: MethodName, req: unknown): Promise<Reply<MethodName>>;
  on(event: EventName, listener: (payload: unknown) => void): () => void;
  saveSecretsFile(req: { suggestedName: string; content: string }): Promise<{ saved: boolean; path?: string }>;
}

/** Channel names of the Electron IPC transport. */
export const IPC = { call: 'keyport:call', event: 'keyport:event', saveSecrets: 'keyport:save-secrets' } as const;
