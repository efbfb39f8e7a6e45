// Domain types shared by the core, the store, the service, the broker and the renderer.
// Field names follow Losant's REST schemas (docs/design.md §2). Pure types only: no runtime imports.

import type { Static } from '@sinclair/typebox';
import type { DeviceAttribute, TagInput, TagMatchInput } from './schemas/device-schemas.ts';
import type {
  DeviceClass,
  AddressFilterType,
  CreatedVia,
  KeyStatus,
  TopicFilterType,
  Transport,
} from './schemas/enums.ts';

// The vocabularies live with the schemas (core/schemas/enums.ts); re-exported here for every caller.
export {
  ADDRESS_FILTER_TYPES,
  ATTRIBUTE_DATA_TYPES,
  CREATED_VIA,
  DEVICE_CLASSES,
  KEY_STATUSES,
  REPORTING_CLASSES,
  TOPIC_FILTER_TYPES,
  TRANSPORTS,
} from './schemas/enums.ts';
export type {
  AddressFilterType,
  AttributeDataType,
  CreatedVia,
  DeviceClass,
  KeyStatus,
  TopicFilterType,
  Transport,
} from './schemas/enums.ts';
export type { DeviceAttribute };

export type Tag = Static<typeof TagInput>;

/**
 * One item of an access key's device restriction (Losant's applicationKeyPost `deviceTags` items):
 * a tag key and value (`type=thermostat`), a key alone (`type=*`: any value) or a value alone
 * (`*=2`: any key). At least one side is present (core/validation.ts).
 */
export type TagMatch = Static<typeof TagMatchInput>;

export interface ConnectionStatus {
  status: 'connected' | 'disconnected';
  connectedAt?: string;
  disconnectedAt?: string;
  disconnectReason?: ReasonCode;
  ipAddress?: string;
  transport?: Transport;
  messagesFromClient: number;
  messagesToClient: number;
  /** Set when the device's tags changed while it was connected (its scope was resolved at connect). */
  scopeChangedSinceConnect?: boolean;
}

export interface DeviceState {
  time: string;
  data: Record<string, StateValue>;
}
export interface Command {
  name: string;
  payload: unknown;
  time: string;
}

export type StateValue = number | string | boolean | { [k: string]: unknown };

export interface Device {
  id: string;
  name: string;
  description: string;
  tags: Tag[];
  deviceClass: DeviceClass;
  /** Peripherals only: the one gateway allowed to report for it; absent = any gateway. */
  gatewayId?: string;
  /**
   * Declared attributes (Losant: state for an undeclared attribute is refused). Absent or empty on a
   * device made before attributes existed: it accepts any attribute (README "Differences from Losant").
   */
  attributes?: DeviceAttribute[];
  creationDate: string;
  lastUpdated: string;
  connectionStatus?: ConnectionStatus;
  lastState?: DeviceState;
}

/** An access key as everyone outside the store sees it: never a secret, never a verifier. */
export interface AccessKey {
  id: string;
  key: string;
  name?: string;
  description?: string;
  status: KeyStatus;
  /** Device restriction (immutable). Both absent = all devices; otherwise inclusive (device-scope.ts). */
  deviceIds?: string[];
  deviceTags?: TagMatch[];
  addressFilterType: AddressFilterType;
  addresses: string[];
  filterType: TopicFilterType;
  pubTopics: string[];
  subTopics: string[];
  creationDate: string;
  lastUpdated: string;
  lastUsed?: string;
  createdVia: CreatedVia;
}

/** What keys.create and devices.generateKey return: the one time a secret crosses (docs/design.md §3). */
export interface CreatedKey {
  accessKey: AccessKey;
  /** Shown once; Keyport keeps no copy. */
  secret: string;
}

/** What the store keeps: the public key plus a verifier of the secret (docs/design.md §3). */
export interface AccessKeyRecord extends AccessKey {
  secretVerifier: string;
}

/**
 * Every reason code the product emits. A closed union: never free text (docs/design.md §8).
 * Documented one by one in README.md.
 */
export const REASON_CODES = [
  // accepted outcomes
  'connect.accepted',
  'publish.allowed',
  'subscribe.granted',
  'deliver.allowed',
  'state.stored',
  // CONNECT, in the order they are checked (docs/design.md §4)
  'protocol.unsupported',
  'credentials.missing',
  'key.unknown',
  'secret.mismatch',
  'key.inactive',
  'address.denied',
  'address.malformed',
  'device.unknown',
  'device.out-of-scope',
  'will.denied',
  // PUBLISH / SUBSCRIBE / DELIVER (docs/design.md §5)
  'topic.invalid',
  'topic.system',
  'topic.reserved',
  'topic.out-of-scope',
  'topic.custom-none',
  'topic.not-whitelisted',
  'topic.blacklisted',
  'state.invalid',
  // disconnects
  'client.disconnect',
  'connection.lost',
  'session.taken-over',
  'key.deleted',
  // a credential (device token) used after its key was edited
  'key.changed',
  'publish.denied',
  'broker.shutdown',
  // the wire: sizes, slow consumers, per-packet bounds (README "Limits")
  'packet.too-large',
  'payload.too-large',
  'client.slow',
  'subscribe.too-many-filters',
  'decisions.summarised',
  // Losant limits mode (core/limits.ts, README "Limits")
  'limit.topic-rate',
  'limit.connection-rate',
  'limit.connect-rate',
  'limit.banned',
  'qos.unsupported',
  'retain.unsupported',
  'session.unsupported',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** The one shape every policy check returns. Policy outcomes never throw. */
export interface Decision {
  allowed: boolean;
  reason: ReasonCode;
  /** Human-readable name of the rule that decided, e.g. "pubTopics whitelist entry 'sensors/+'". */
  rule: string;
}

export function allow(reason: ReasonCode, rule: string): Decision {
  return { allowed: true, reason, rule };
}

export function deny(reason: ReasonCode, rule: string): Decision {
  return { allowed: false, reason, rule };
}

/** A validation problem, naming the field and the rule it broke. */
export interface FieldError {
  field: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
