// The one written rule for what is re-checked after a credential was accepted (docs/design.md §4a):
// for an MQTT session (accepted at CONNECT) and for an HTTP device token (issued by
// /auth/device). Pure over the core: callers hand in the key record and device as they are NOW.
//
// ACCESS_RULE is the table; the functions below only walk it. A device token runs every row, in
// order, at every request (first failure wins). A live MQTT session is not asked again per
// message: it reacts when the key or device changes, as its row's `session` column says.
import { addressDecision } from '../core/addresses.ts';
import { effectiveClientAddress, type TrustedProxies } from '../core/client-address.ts';
import { deviceMatches, matchRule } from '../core/device-scope.ts';
import {
  allow,
  deny,
  type AccessKey,
  type AccessKeyRecord,
  type Decision,
  type Device,
  type ReasonCode,
  type Tag,
} from '../core/types.ts';

/** What a live MQTT session does about a row once connected. */
export type SessionAction =
  /** The change ends the session at once (a revocation: no last will). */
  | 'close'
  /** The session stays (its scope was fixed at CONNECT) and is marked scopeChangedSinceConnect. */
  | 'mark'
  /** Checked at CONNECT only. */
  | 'at-connect'
  /** Not a session concern: topic rules are read live on every message instead. */
  | 'live-rules';

/** What a device token does when a row fails: 401 (authenticate again) or 403 (not allowed now). */
export type TokenAction = 'unauthorized' | 'forbidden';

export interface AccessRuleRow {
  check: 'key.exists' | 'key.active' | 'key.unchanged' | 'address' | 'device.exists' | 'device.in-scope';
  /** The reason a failure is recorded with. */
  reasons: readonly ReasonCode[];
  session: SessionAction;
  token: TokenAction;
}

/** docs/design.md §4a, row for row. */
export const ACCESS_RULE: readonly AccessRuleRow[] = [
  { check: 'key.exists', reasons: ['key.deleted'], session: 'close', token: 'unauthorized' },
  { check: 'key.active', reasons: ['key.inactive'], session: 'close', token: 'unauthorized' },
  { check: 'key.unchanged', reasons: ['key.changed'], session: 'live-rules', token: 'unauthorized' },
  { check: 'address', reasons: ['address.malformed', 'address.denied'], session: 'at-connect', token: 'forbidden' },
  { check: 'device.exists', reasons: ['device.unknown'], session: 'close', token: 'unauthorized' },
  { check: 'device.in-scope', reasons: ['device.out-of-scope'], session: 'mark', token: 'forbidden' },
];

export interface CredentialUse {
  /** The key the credential was issued under, as stored now (undefined: it was deleted). */
  key: AccessKeyRecord | undefined;
  /** The device the credential acts for (the token's subject, the session's client id). */
  deviceId: string;
  /** Where the request comes from: the socket peer and any X-Forwarded-For header. */
  client: { peer: string; forwardedFor?: string | string[] | undefined };
  /** The key's state when the credential was issued: its lastUpdated then. */
  issued: { keyRevision: string };
}

export interface AccessEnv {
  trustedProxies: TrustedProxies;
  getDevice(id: string): Device | undefined;
}

/** A Decision, plus the effective client address when it could be worked out (for the feed). */
export type CredentialCheck = Decision & { address?: string };

interface Facts {
  use: CredentialUse;
  env: AccessEnv;
  address?: string;
  device?: Device;
  rule?: string;
}

type Check = (f: Facts) => Decision | null;

// One function per row; null = the row passes. Later rows may read what earlier ones found.
const CHECKS: Record<AccessRuleRow['check'], Check> = {
  'key.exists': ({ use }) => (use.key ? null : deny('key.deleted', 'the access key of this credential was deleted')),
  'key.active': ({ use }) => (use.key!.status === 'active' ? null : deny('key.inactive', 'the key is set to inactive')),
  'key.unchanged': ({ use }) =>
    use.key!.lastUpdated === use.issued.keyRevision
      ? null
      : deny(
          'key.changed',
          `the key was changed at ${use.key!.lastUpdated}, after this credential was issued (key as of ${use.issued.keyRevision}); authenticate again`,
        ),
  address: (f) => {
    const where = effectiveClientAddress(f.use.client.peer, f.use.client.forwardedFor, f.env.trustedProxies);
    if (!where.ok) return deny(where.reason, where.rule);
    f.address = where.address;
    const d = addressDecision(f.use.key!.addressFilterType, f.use.key!.addresses, where.address);
    return d.allowed ? null : d;
  },
  'device.exists': (f) => {
    const device = f.env.getDevice(f.use.deviceId);
    if (!device) return deny('device.unknown', `device ${f.use.deviceId} was deleted`);
    f.device = device;
    return null;
  },
  'device.in-scope': (f) => {
    const rule = matchRule(f.use.key!, f.device!);
    if (rule === null)
      return deny('device.out-of-scope', `device ${f.device!.id} no longer matches the key's device restriction`);
    f.rule = rule;
    return null;
  },
};

/** A device token at a request: every row of ACCESS_RULE in order, first failure wins. */
export function checkCredentialUse(use: CredentialUse, env: AccessEnv): CredentialCheck {
  const f: Facts = { use, env };
  for (const row of ACCESS_RULE) {
    const d = CHECKS[row.check](f);
    if (d) return f.address !== undefined ? { ...d, address: f.address } : d;
  }
  return { ...allow('connect.accepted', f.rule!), address: f.address! };
}

/** 401 or 403 for a failed token check (the row's `token` column). */
export function tokenAction(reason: ReasonCode): TokenAction {
  return ACCESS_RULE.find((r) => r.reasons.includes(reason))?.token ?? 'forbidden';
}

const sessionAction = (check: AccessRuleRow['check']): SessionAction =>
  ACCESS_RULE.find((r) => r.check === check)!.session;

/** A live session's key changed (`after` undefined: deleted): the reason to close it, or null. */
export function sessionKeyReaction(before: AccessKey, after: AccessKey | undefined): ReasonCode | null {
  if (after === undefined) return sessionAction('key.exists') === 'close' ? 'key.deleted' : null;
  if (before.status === 'active' && after.status === 'inactive')
    return sessionAction('key.active') === 'close' ? 'key.inactive' : null;
  return null;
}

const sameTags = (a: readonly Tag[], b: readonly Tag[]): boolean =>
  a.length === b.length && a.every((t, i) => t.key === b[i]?.key && t.value === b[i]?.value);

export type DeviceReaction = { close: ReasonCode } | { mark: true } | null;

/**
 * A live session's device changed (`after` undefined: deleted). Deleted: close. Tags changed so
 * that the device's match with its key flips: mark (it stays connected, Losant's access-keys
 * guide: tag queries are resolved at connect time). Any other edit: nothing.
 */
export function sessionDeviceReaction(
  key: AccessKeyRecord | undefined,
  before: Device,
  after: Device | undefined,
): DeviceReaction {
  if (after === undefined) return sessionAction('device.exists') === 'close' ? { close: 'device.unknown' } : null;
  if (!key || sameTags(before.tags, after.tags)) return null;
  if (deviceMatches(key, before) === deviceMatches(key, after)) return null;
  return sessionAction('device.in-scope') === 'mark' ? { mark: true } : null;
}
